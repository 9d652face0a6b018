from pathlib import Path

import beeflow_websocket
import beeflow_websocket.core
import beeflow_websocket.flask


def test_the_adapter_shares_the_namespace_with_the_core() -> None:
    # A namespace package has no file; a stray beeflow_websocket/__init__.py would give it one
    # and hide every sibling distribution.
    spec = beeflow_websocket.__spec__
    assert spec is not None
    assert spec.origin in (None, "namespace")
    assert len(list(beeflow_websocket.__path__)) >= 2
    # The core and this adapter come from two distributions, each a folder of the namespace.
    folders = {str(Path(folder).resolve()) for folder in beeflow_websocket.__path__}
    core_folder = Path(beeflow_websocket.core.__file__).resolve().parent.parent
    adapter_folder = Path(beeflow_websocket.flask.__file__).resolve().parent.parent
    assert core_folder != adapter_folder
    assert {str(core_folder), str(adapter_folder)} <= folders


def test_the_adapter_ships_its_type_marker() -> None:
    assert (Path(beeflow_websocket.flask.__file__).parent / "py.typed").is_file()
