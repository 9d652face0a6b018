"""A bare ``websockets`` echo server: what this machine's Python can do with no framework at all."""

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, serve


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


async def main(port: int) -> None:
    async with serve(echo, "127.0.0.1", port, max_size=None, compression=None) as server:
        await server.serve_forever()


if __name__ == "__main__":
    try:  # the same event loop uvicorn runs on, where it is installed
        import uvloop
    except ImportError:
        asyncio.run(main(int(sys.argv[1])))
    else:
        uvloop.run(main(int(sys.argv[1])))
