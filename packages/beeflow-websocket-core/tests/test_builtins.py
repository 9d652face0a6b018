"""The built-in plugins are defaults: an application's class under the same name wins, in any order.

0.3.0's README shows its ``health`` action as the example to copy into ``my_app/ws/actions.py``; each
test imports that verbatim module in a fresh interpreter, before and after the built-ins.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from seed import MINIMAL_ACTION

APP_FIRST = "import my_app.ws.actions\nimport beeflow_websocket.core.dispatcher\n"
BUILT_INS_FIRST = "import beeflow_websocket.core.dispatcher\nimport my_app.ws.actions\n"
REPORT = (
    "import json\n"
    "from beeflow_websocket.core.action_registry import ActionRegistryMeta\n"
    "from beeflow_websocket.core.testing import ActionTestClient\n"
    "import anyio\n"
    "frames = anyio.run(ActionTestClient(user_id=1).request, 'health')\n"
    "print(json.dumps([ActionRegistryMeta.registry['health'].__module__, frames[0]['payload']]))\n"
)


@pytest.mark.parametrize(
    "imports", [APP_FIRST, BUILT_INS_FIRST], ids=["application-first", "built-ins-first"]
)
def test_the_seed_s_health_action_replaces_the_built_in_one(tmp_path: Path, imports: str) -> None:
    package = tmp_path / "my_app" / "ws"
    package.mkdir(parents=True)
    (tmp_path / "my_app" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "actions.py").write_text(MINIMAL_ACTION)

    completed = subprocess.run(
        [sys.executable, "-c", imports + REPORT], cwd=tmp_path, capture_output=True, text=True, check=False
    )

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == ["my_app.ws.actions", {"status": "ok"}]
