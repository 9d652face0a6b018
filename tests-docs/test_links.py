"""Every relative link of README.md and docs/ leads somewhere: the file exists, and so does the anchor."""

import re
from pathlib import Path

import pytest

from docexamples import DOCUMENTS, REPOSITORY

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(document: Path) -> set[str]:
    headings = _HEADING.findall(_FENCE.sub("", document.read_text()))
    found: set[str] = set()
    for heading in headings:
        base, n = slug(heading), 1
        name = base
        while name in found:
            name, n = f"{base}-{n}", n + 1
        found.add(name)
    return found


def links() -> list[tuple[Path, str]]:
    found = []
    for document in DOCUMENTS:
        text = _FENCE.sub("", document.read_text())
        for target in _LINK.findall(text):
            if not re.match(r"[a-z]+:", target):
                found.append((document, target))
    return found


LINKS = links()


def test_the_documents_link_to_each_other() -> None:
    assert len(LINKS) >= 50


@pytest.mark.parametrize(
    ("document", "target"), LINKS, ids=[f"{d.relative_to(REPOSITORY)}->{t}" for d, t in LINKS]
)
def test_a_relative_link_resolves(document: Path, target: str) -> None:
    path, _, anchor = target.partition("#")
    destination = (document.parent / path).resolve() if path else document

    assert destination.exists(), f"{document.relative_to(REPOSITORY)} links to a missing {path}"
    if anchor and destination.suffix == ".md":
        assert anchor in anchors(destination), f"{destination.name} has no heading for #{anchor}"


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("`configure_beeflow_websocket(app, *, ...)`", "configure_beeflow_websocketapp--"),
        ("Pochodzenie stron przeglądarki", "pochodzenie-stron-przeglądarki"),
        ("A client that leaves mid-action", "a-client-that-leaves-mid-action"),
    ],
)
def test_anchors_are_made_as_github_makes_them(heading: str, expected: str) -> None:
    assert slug(heading) == expected
