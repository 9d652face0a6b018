"""Register the fan-out actions where the installed Beeflow has groups (0.3.0 has none)."""

from importlib.metadata import PackageNotFoundError, version


def register_fanout_actions() -> None:
    """Import ``benchactions`` unless this is beeflow-websocket 0.3.0, one distribution with no groups.

    0.3.0 is measured on round trips and memory only; from 0.4 the core is its own distribution.
    """
    try:
        version("beeflow-websocket-core")
    except PackageNotFoundError:
        return
    import benchactions  # noqa: F401
