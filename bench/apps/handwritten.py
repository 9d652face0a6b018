"""What a user would write without any library: the hand-written JSON equivalents of Beeflow's work."""

import json
from typing import Any
from uuid import uuid4


class HandWrittenHealth:
    """json.loads, a dict dispatch, a reply with a fresh UUID and the connection's seq, json.dumps."""

    def __init__(self, connection_id: str) -> None:
        self.connection_id = connection_id
        self.seq = 0
        self.handlers = {"health": self.health}

    def answer(self, text: str) -> str:
        message = json.loads(text)
        return self.handlers[message["action"]](message)

    def health(self, message: dict[str, Any]) -> str:
        self.seq += 1
        return json.dumps(
            {
                "msg_id": str(uuid4()),
                "req_id": message["req_id"],
                "seq": self.seq,
                "event": "health",
                "recipient": "websocket",
                "recipient_id": self.connection_id,
                "payload": {"status": "ok"},
            }
        )


class HandWrittenGroup:
    """The hand-written fan-out: ``bench.join`` puts the connection in the group and is acknowledged;
    anything else is re-addressed to the group as one frame, serialised once for every member."""

    def __init__(self, connection_id: str) -> None:
        self.connection_id = connection_id

    def read(self, text: str) -> tuple[str, str]:
        """What to do with a request, ``join`` or ``broadcast``, and the frame that does it."""
        message = json.loads(text)
        if message["action"] == "bench.join":
            return "join", self.frame(message, "bench.joined", "websocket", self.connection_id, {})
        return "broadcast", self.frame(message, "bench.broadcast", "group", "bench", message["payload"])

    @staticmethod
    def frame(message: dict[str, Any], event: str, recipient: str, recipient_id: str, payload: Any) -> str:
        return json.dumps(
            {
                "msg_id": str(uuid4()),
                "req_id": message["req_id"],
                "event": event,
                "recipient": recipient,
                "recipient_id": recipient_id,
                "payload": payload,
            }
        )
