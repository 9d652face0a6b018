"""What a user would write without any library: the hand-written JSON equivalent of ``health``."""

import json
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

    def health(self, message: dict) -> str:
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
