"""Which browser pages may open a connection: the handshake's ``Origin`` checked against the host.

A browser sends its cookies with a WebSocket handshake to any site, whichever page asks, so an
application that authenticates a connection by a session cookie can be driven by a foreign page
(cross-site WebSocket hijacking). A page cannot read another site's access token, so a connection
that authenticates with the ``access-token`` subprotocol is safe from any origin. The default rule
follows from that, the way Channels' ``AllowedHostsOriginValidator`` protects a cookie session:

- no ``Origin`` header: not a browser, allowed (browsers always send one);
- an access token offered: allowed from any origin;
- otherwise the page must come from the host the request was sent to (same host and port).

Configured ``allowed_origins`` replace the rule: only those origins (``"https://app.example.com"``),
or any with ``"*"``; a handshake without ``Origin`` stays allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["checked_origins", "origin_allowed"]


def checked_origins(value: Iterable[str] | None) -> frozenset[str] | None:
    """Normalise the ``allowed_origins`` setting: lower-case ``scheme://host[:port]`` entries, or ``*``.

    Raises:
        TypeError: ``value`` is a lone string or not an iterable of strings.
        ValueError: An entry is neither ``*`` nor an origin.
    """
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"allowed_origins must be a list of origins or None, got {value!r}")
    origins = set()
    for entry in value:
        if not isinstance(entry, str):
            raise TypeError(f"allowed_origins must hold strings, got {entry!r}")
        normalised = entry.strip().lower().rstrip("/")
        parts = urlsplit(normalised)
        if normalised != "*" and (parts.scheme not in {"http", "https"} or not parts.netloc or parts.path):
            raise ValueError(f"{entry!r} is not an origin such as 'https://app.example.com'")
        origins.add(normalised)
    return frozenset(origins)


def origin_allowed(
    origin: str | None, *, host: str | None, allowed: frozenset[str] | None, token_offered: bool
) -> bool:
    """Whether a handshake from ``origin``, sent to ``host``, may open a connection (see the module)."""
    if origin is None:
        return True
    origin = origin.strip().lower()
    if allowed is not None:
        return "*" in allowed or origin in allowed
    if token_offered:
        return True
    return host is not None and urlsplit(origin).netloc == host.strip().lower()
