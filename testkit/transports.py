"""Transports for tests that drive a dispatcher without a server."""

import asyncio

__all__ = ["Recording", "Stalled"]


class Recording:
    """Keeps every frame written to it; a close is recorded."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.closed_with: tuple[int, str] | None = None

    async def send(self, frame: str) -> None:
        self.frames.append(frame)

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)


class Stalled:
    """A client that never reads: its first write never completes; a close is recorded."""

    def __init__(self) -> None:
        self.closed_with: tuple[int, str] | None = None

    async def send(self, frame: str) -> None:
        await asyncio.Event().wait()

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)
