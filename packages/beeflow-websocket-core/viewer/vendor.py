"""Copy the pinned AsyncAPI web component into the core package: ``make viewer``.

The contract page (:mod:`beeflow_websocket.core.asyncapi_page`) renders the AsyncAPI document with
the official web component, served by the application itself so that the page needs no CDN. The
files ``pins.json`` names are taken from the npm packages it pins (``npm pack`` checks each tarball
against the registry's integrity hash), copied beside the page's code with their licences, and listed
with their sha256 in ``MANIFEST.json``, which the tests hold the copies to.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE.parent / "src" / "beeflow_websocket" / "core" / "asyncapi_viewer"


def package_of(source: str) -> tuple[str, str]:
    """``@scope/name/some/path`` as the package and the path inside its tarball."""
    scope, name, path = source.split("/", 2)
    return f"{scope}/{name}", f"package/{path}"


def main() -> None:
    """Pack each pinned package, copy the pinned files out of it, and write the manifest."""
    pins = json.loads((HERE / "pins.json").read_text())
    TARGET.mkdir(exist_ok=True)
    copied: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as work:
        tarballs = {}
        for package, version in pins["packages"].items():
            packed = subprocess.run(  # noqa: S603 - fixed arguments from pins.json
                ["npm", "pack", f"{package}@{version}", "--json", "--pack-destination", work],  # noqa: S607
                check=True,
                capture_output=True,
                text=True,
            )
            tarballs[package] = Path(work) / json.loads(packed.stdout)[0]["filename"]
        for name, source in pins["files"].items():
            package, member = package_of(source)
            with tarfile.open(tarballs[package]) as tarball:
                content = tarball.extractfile(member)
                if content is None:
                    raise SystemExit(f"{member} is not a file in {package}")
                with (TARGET / name).open("wb") as target:
                    shutil.copyfileobj(content, target)
            digest = hashlib.sha256((TARGET / name).read_bytes()).hexdigest()
            copied[name] = {"from": source, "sha256": digest}
    manifest = {"packages": pins["packages"], "files": copied}
    (TARGET / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"copied {len(copied)} files into {TARGET}")


if __name__ == "__main__":
    main()
