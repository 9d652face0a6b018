"""Finding the Python examples of README.md and docs/: each fenced block, where it is, and its kind."""

import re
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
DOCUMENTS = [REPOSITORY / "README.md", *sorted((REPOSITORY / "docs").glob("*/*.md"))]
FRAGMENT = "<!-- fragment -->"
"""Put on the line before a fence: the block is a piece of a larger program and is not run alone."""

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Example:
    document: Path
    line: int
    code: str
    fragment: bool

    @property
    def name(self) -> str:
        return f"{self.document.relative_to(REPOSITORY)}:{self.line}"

    @property
    def is_test(self) -> bool:
        return re.search(r"^(async )?def test_", self.code, re.MULTILINE) is not None


def examples() -> list[Example]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text()
        for match in _BLOCK.finditer(text):
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            line = text[: match.start()].count("\n") + 1
            found.append(Example(document, line, match.group(1), fragment=before.strip() == FRAGMENT))
    return found
