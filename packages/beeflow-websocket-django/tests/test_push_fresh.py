"""A push from a process that never imported the consumer: a Celery task, a management command.

The built-in ``user`` and ``group`` recipients must be registered by importing the push module
alone, in a fresh interpreter.
"""

import subprocess
import sys

SCRIPT = """
import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["channels", "beeflow_websocket.django"],
    CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
)
django.setup()

from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.django.push import emit_event


class Announcement(Event, name="announcement"):
    pass


emit_event(Announcement(recipient="user", recipient_id=7, payload={}))
emit_event(Announcement(recipient="group", recipient_id="room", payload={}))
print("pushed")
"""


def test_a_push_to_a_user_or_group_works_in_a_fresh_interpreter() -> None:
    completed = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "pushed"
