"""A push from code that imported only the push module, in a fresh interpreter."""

import subprocess
import sys

SCRIPT = """
import anyio
from fastapi import FastAPI

from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.fastapi.push import aemit_event


class Announcement(Event, name="announcement"):
    pass


async def main() -> None:
    app = FastAPI()
    await aemit_event(Announcement(recipient="user", recipient_id=7, payload={}), app=app)
    await aemit_event(Announcement(recipient="group", recipient_id="room", payload={}), app=app)


anyio.run(main)
print("pushed")
"""


def test_a_push_to_a_user_or_group_works_in_a_fresh_interpreter() -> None:
    completed = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "pushed"
