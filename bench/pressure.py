"""A pressure run: what every reader receives when two processes share one Redis and some fall behind.

For each adapter, two server processes of its test site share one Redis (Django through the adapter's
Redis engine, as django.md advises). ``--connections`` readers, spread over both processes, join one
group; a tenth of them read slowly, and two per process are raw sockets that stop reading at once.
Ten senders on both processes each say ``--events`` / 10 events of 1 KB to the group. Every healthy reader
must receive every event, each sender's in order, with ``seq`` 2, 3, ... and nothing malformed; each
stalled one must be closed. Then 20 of the readers and four stalled clients get a firehose of 150
events of 64 KB: the readers must get all of it, paused by one slow-consumer timeout at most. Not a test (it takes a minute or two per adapter): ``make pressure``
prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from itertools import pairwise
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent / "testkit")]

from run import raise_file_limit  # noqa: E402

from serving import (  # noqa: E402
    Server,
    django_command,
    fastapi_command,
    flask_command,
    free_port,
    prepare_django_site,
    redis_command,
    start_server,
)
from wsclient import connected, read_frames, request, stalled_connection  # noqa: E402

SENDERS = 10
PAD = 1024
FIREHOSE, FIREHOSE_EVENTS, FIREHOSE_PAD = 20, 150, 64 * 1024  # 9.6 MB a member: more than buffers hold
GROUP = "pressure"


def command(adapter: str, port: int, connections: int) -> list[str]:
    if adapter == "flask":
        return flask_command(port, threads=connections // 2 + 64)
    return {"django": django_command, "fastapi": fastapi_command}[adapter](port)


async def reader(ws: Any, expected: int, slow: bool, deadline: float) -> dict[str, Any]:
    """Read until every event came or the deadline passed; what came, and the longest pause."""
    seqs, by_sender, pause, last = [], {}, 0.0, time.monotonic()
    while len(seqs) < expected and time.monotonic() < deadline:
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        except TimeoutError:
            break
        now = time.monotonic()
        pause, last = max(pause, now - last), now
        if frame.get("event") != "said":
            continue
        seqs.append(frame["seq"])
        by_sender.setdefault(frame["payload"]["text"], []).append(frame["payload"]["n"])
        if slow:
            await asyncio.sleep(0.002)
    ordered = all(ns == list(range(len(ns))) for ns in by_sender.values())
    return {
        "got": len(seqs),
        "gapless": seqs == list(range(2, len(seqs) + 2)),
        "gapless_from": all(b == a + 1 for a, b in pairwise(seqs)),
        "ordered": ordered,
        "pause": pause,
    }


async def run(adapter: str, connections: int, events: int, workdir: Path) -> dict[str, Any]:
    redis_port = free_port()
    redis = start_server("redis", redis_command(redis_port), workdir / "redis.log", redis_port)
    url = f"redis://127.0.0.1:{redis_port}/0"
    # A small outbound queue (32 frames, 2 MB of firehose) so that a stalled member is found out
    # within the run: with 256 frames of 64 KB, 16 MB would wait before anything counts as stalled.
    # Without stream histories, as the figures before them were measured (bench/resume.py measures them).
    env = {
        "SITE_REDIS_URL": url,
        "DJANGOSITE_BEEFLOW_REDIS_URL": url,
        "SITE_MAX_OUTBOUND": "32",
        "SITE_HISTORY_SIZE": "0",
    }
    if adapter == "django":
        env |= prepare_django_site(workdir / "db.sqlite3")
    servers: list[Server] = []
    for label in ("a", "b"):
        port = free_port()
        servers.append(
            start_server(
                f"{adapter}-{label}", command(adapter, port, connections), workdir / f"{label}.log", port, env
            )
        )
    stalled: list[socket.socket] = []
    try:
        async with AsyncExitStack() as stack:
            readers = []
            for n in range(connections):
                ws = await stack.enter_async_context(connected(servers[n % 2].url(), user_id=1 + n % 10))
                await request(ws, "join", {"group": GROUP})
                readers.append(ws)
            senders = [
                await stack.enter_async_context(connected(servers[n % 2].url(), user_id=1 + n % 10))
                for n in range(SENDERS)
            ]
            per_sender = events // SENDERS
            started = time.monotonic()
            deadline = started + 300
            reading = [
                asyncio.create_task(reader(ws, per_sender * SENDERS, n % 10 == 0, deadline))
                for n, ws in enumerate(readers)
            ]
            saying = [
                request(
                    ws,
                    "say",
                    {"recipient": "group", "to": GROUP, "times": per_sender, "text": f"s{n}", "pad": PAD},
                )
                for n, ws in enumerate(senders)
            ]
            confirmations = await asyncio.gather(*saying)
            results = await asyncio.gather(*reading)
            took = time.monotonic() - started
            # Then a firehose to a smaller group in which two members per process stop reading.
            firehose = readers[:FIREHOSE]
            for ws in firehose:
                await request(ws, "join", {"group": "firehose"})
            stalled = [stalled_connection(servers[n % 2].port, 1 + n % 10, "firehose") for n in range(4)]
            await asyncio.sleep(0.5)  # the stalled clients' joins are handled
            deadline = time.monotonic() + 300
            reading = [asyncio.create_task(reader(ws, FIREHOSE_EVENTS, False, deadline)) for ws in firehose]
            hose = {
                "recipient": "group",
                "to": "firehose",
                "times": FIREHOSE_EVENTS,
                "text": "f",
                "pad": FIREHOSE_PAD,
            }
            await request(senders[0], "say", hose)
            hosed = await asyncio.gather(*reading)
        closes = [
            [payload[:2] for opcode, payload in read_frames(sock, quiet=3.0, dropped=True) if opcode == 0x8]
            for sock in stalled
        ]
    finally:
        for sock in stalled:
            sock.close()
        for server in (*servers, redis):
            server.stop()
    expected = per_sender * SENDERS
    return {
        "adapter": adapter,
        "readers": connections,
        "deliveries": expected * connections,
        "received": sum(r["got"] for r in results),
        "out of order": sum(not (r["gapless"] and r["ordered"]) for r in results),
        "slow readers closed": sum(r["got"] < expected for n, r in enumerate(results) if n % 10 == 0),
        "stalled closed 1013": sum(close == [(1013).to_bytes(2, "big")] for close in closes),
        "stalled dropped (no close frame)": sum(close == [] for close in closes),
        "confirmed": sum("code" not in answer for [answer] in confirmations),
        "longest pause s": round(max(r["pause"] for r in results), 2),
        "seconds": round(took, 1),
        "firehose received": sum(r["got"] for r in hosed),
        "firehose expected": FIREHOSE * FIREHOSE_EVENTS,
        "firehose out of order": sum(not (r["gapless_from"] and r["ordered"]) for r in hosed),
        "firehose longest pause s": round(max(r["pause"] for r in hosed), 2),
    }


async def main(adapters: list[str], connections: int, events: int) -> None:
    for adapter in adapters:
        with tempfile.TemporaryDirectory() as workdir:
            print(json.dumps(await run(adapter, connections, events, Path(workdir))), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--only", choices=["django", "fastapi", "flask"])
    arguments = parser.parse_args()
    raise_file_limit()
    asyncio.run(
        main(
            [arguments.only] if arguments.only else ["django", "fastapi", "flask"],
            arguments.connections,
            arguments.events,
        )
    )
