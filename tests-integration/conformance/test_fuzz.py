"""A bounded transport-level fuzz run against each served adapter.

A fixed seed makes the run repeatable. Every frame, however malformed, gets exactly one answer on the
same connection, and afterwards that connection still answers ``health``.
"""

import json
import random
from typing import Any
from uuid import uuid4

import pytest
from websockets.asyncio.client import connect

from serving import Server

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

FRAMES = 150
SEED = 20261125
ALPHABET = 'abc{}[]":,0123456789 \\nułż€😀-truefalsenull'


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([rng.randint(-(10**30), 10**30), rng.uniform(-1e9, 1e9)])
    if kind == 3:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(12)))
    if kind == 4:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {random_json(rng, 3) or "k": random_json(rng, depth + 1) for _ in range(rng.randrange(4))}


def random_frame(rng: random.Random) -> str | bytes:
    kind = rng.randrange(5)
    if kind == 0:
        return rng.randbytes(rng.randrange(40))
    if kind == 1:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(40)))
    envelope: dict[str, Any] = {
        "msg_id": str(uuid4()),
        "req_id": str(uuid4()),
        "action": rng.choice(["health", "echo", "countdown-typo", "", " ", 5]),
        "payload": {"text": "fuzz"},
    }
    if kind >= 3:
        for _ in range(rng.randrange(1, 4)):
            key = rng.choice(["msg_id", "req_id", "action", "payload", "extra"])
            if rng.random() < 0.5:
                envelope.pop(key, None)
            else:
                envelope[key] = random_json(rng)
    text = json.dumps(envelope if kind != 2 or rng.random() < 0.8 else random_json(rng))
    return text.encode() if rng.random() < 0.3 else text


async def test_random_frames_each_get_one_answer_and_the_connection_survives(served: Server) -> None:
    rng = random.Random(SEED)
    codes: dict[str, int] = {}
    async with connect(
        served.url(),
        origin="http://127.0.0.1",
        subprotocols=["access-token", "user-1"],
        open_timeout=10,  # type: ignore[list-item]
    ) as ws:
        for _ in range(FRAMES):
            await ws.send(random_frame(rng))
            answer = json.loads(await ws.recv())
            key = answer.get("code", answer.get("event"))
            codes[key] = codes.get(key, 0) + 1
            assert "Traceback" not in json.dumps(answer)
        await ws.send(
            json.dumps({"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": "health", "payload": {}})
        )
        health = json.loads(await ws.recv())

    assert health["event"] == "health"
    assert set(codes) <= {"health", "echoed", "invalid_websocket_message", "unknown_websocket_action"}
    assert codes.get("invalid_websocket_message", 0) > FRAMES // 3
    assert sum(codes.values()) == FRAMES
