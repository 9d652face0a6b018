"""Profile one contender's server under the throughput load: where does its CPU go per message?

py-spy samples the server process from outside (no change to the code measured) while the usual
load runs; the output is the functions with the most samples, by own time and by time inside them,
and the raw collapsed stacks for a flame graph tool.

    uv run --group bench python bench/hotpath.py "FastAPI / uvicorn: beeflow"    # make profile
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH / "apps"), str(BENCH.parent / "testkit")]

from run import raise_file_limit, where  # noqa: E402

from contenders import contenders  # noqa: E402
from measure import load_pool, ready, throughput  # noqa: E402
from servers import start  # noqa: E402


def summarise(collapsed: Path, top: int) -> str:
    """The heaviest functions of py-spy's collapsed stacks, by own samples and by inclusive samples."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        samples = int(count)
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    lines = [f"{total} samples", "", "own time:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "inclusive time:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines)


async def profile(label: str, seconds: float, output: Path) -> Path:
    contender = next(c for c in contenders() if c.label == label)
    env = where(contender)
    assert env.python is not None, env.problem
    server = start(contender, env.python, Path(tempfile.mkdtemp(prefix="beeflow-profile-")))
    try:
        await ready(server)
        pid = server.processes()[-1]  # gunicorn's worker, or the server itself
        spy = shutil.which("py-spy")
        assert spy is not None, "py-spy is not installed: uv sync --group bench"
        sampler = await asyncio.create_subprocess_exec(
            spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(output),
            "--duration", str(int(seconds) + 1), "--rate", "500", "--nonblocking",
            stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        pool = load_pool()
        try:
            result = await throughput(server, pool, 16, seconds)
        finally:
            pool.shutdown()
        await sampler.wait()
        print(
            f"{label}: {result['messages_per_second']:,.0f} msg/s, {result['server_cpu_us_per_message']:.1f} µs/msg"
        )
        return output
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("contender", help='a label from the results, such as "FastAPI / uvicorn: beeflow"')
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--top", type=int, default=30)
    arguments = parser.parse_args()
    raise_file_limit()
    target = Path(tempfile.mkdtemp(prefix="beeflow-profile-")) / "stacks.txt"
    stacks = asyncio.run(profile(arguments.contender, arguments.seconds, target))
    print(summarise(stacks, arguments.top))
    print(f"\ncollapsed stacks (for flamegraph.pl or speedscope): {stacks}")
