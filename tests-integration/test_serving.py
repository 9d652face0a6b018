"""The test servers' own promises: Redis comes with the dev dependencies when the machine has none."""

import os
import sysconfig
from pathlib import Path

import pytest
import redis

from serving import free_port, redis_command, redis_executable, start_server

SCRIPTS = Path(sysconfig.get_path("scripts"))


def test_a_machine_without_redis_uses_the_bundled_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(SCRIPTS))
    port = free_port()

    server = start_server("redis", redis_command(port), tmp_path / "redis.log", port)
    try:
        client = redis.Redis(port=port)
        answered = client.ping()
        client.close()
    finally:
        server.stop()

    assert Path(redis_executable()).parent == SCRIPTS
    assert answered is True


def test_an_installed_redis_comes_before_the_bundled_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed = tmp_path / "redis-server"
    installed.write_text("#!/bin/sh\n")
    installed.chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(SCRIPTS), str(tmp_path)]))

    assert redis_executable() == str(installed)
