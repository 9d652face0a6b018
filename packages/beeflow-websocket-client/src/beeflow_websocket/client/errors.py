"""What a request or the client can fail with, split by who is to blame.

::

    ClientError
    ├── ProblemError          the server ended the request with a Problem Details frame
    ├── RequestTimeout        no terminal frame within the request's timeout (it was cancelled)
    ├── ConnectionLost        the connection went while the request was in flight (not sent again)
    ├── QueueFull             offline, and the queue of waiting requests is full
    ├── ClientClosed          the client was closed, by the application or for good
    ├── Unauthorized          the token source has no user: the client stops, it does not retry
    └── ProtocolMismatch      the server did not select protocol v1

A request that failed client-side may still have run on the server (``ConnectionLost``): only
the server's own answer, a :class:`ProblemError`, says it did not succeed. A request made with
``retry`` is sent again instead, and a server with ``retry_window`` answers one it had started with
``duplicate_request``, whose :attr:`ProblemError.outcome` says what became of the first attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from beeflow_websocket.client._wire import DUPLICATE_REQUEST

__all__ = [
    "ClientClosed",
    "ClientError",
    "ConnectionLost",
    "ProblemError",
    "ProtocolMismatch",
    "QueueFull",
    "RequestTimeout",
    "Unauthorized",
]


class ClientError(Exception):
    """Base class of every error the client raises."""


class ProblemError(ClientError):
    """The server answered the request with an RFC 9457 problem.

    Attributes:
        problem: The whole frame, extension members included.
        code: The machine-readable code clients branch on (``invalid_action_payload``, ...).
        status: The HTTP-like status (422, 499, 504, ...).
        title: The same for every occurrence of ``code``.
        detail: What went wrong this time.
        errors: The per-field errors of a validation problem, else ``None``.
        req_id: The request it ended, when the server could read it.
        outcome: What became of the first attempt of a request sent again (``retry``), on a
            ``duplicate_request``: ``running`` (it still runs, or its process died), ``completed``,
            ``failed`` (it ended with a problem) or ``interrupted`` (its connection went while it
            ran); ``None`` on any other problem. An attribute of its own, unlike other extension
            members (read from ``problem``), since the application must branch on it.
    """

    def __init__(self, problem: Mapping[str, Any]) -> None:
        self.problem = dict(problem)
        self.code: str = str(problem.get("code", ""))
        self.status: int = int(problem.get("status", 0))
        self.title: str = str(problem.get("title", ""))
        self.detail: str = str(problem.get("detail", ""))
        self.type: str = str(problem.get("type", "about:blank"))
        errors = problem.get("errors")
        self.errors: list[dict[str, Any]] | None = list(errors) if isinstance(errors, list) else None
        req_id = problem.get("req_id")
        self.req_id: str | None = req_id if isinstance(req_id, str) else None
        outcome = problem.get("outcome")
        is_duplicate = self.code == DUPLICATE_REQUEST and isinstance(outcome, str)
        self.outcome: str | None = outcome if is_duplicate else None
        super().__init__(f"{self.status} {self.code}: {self.detail or self.title}")


class RequestTimeout(ClientError, TimeoutError):
    """No terminal frame came within the request's timeout; the client cancelled it on the server."""


class ConnectionLost(ClientError, ConnectionError):
    """The connection went while the request was in flight: it may or may not have run.

    A request made with ``retry`` gets it only when no reconnect follows (a terminal close code).
    """


class QueueFull(ClientError):
    """The client is offline and ``queue_limit`` requests wait already."""


class ClientClosed(ClientError):
    """The client is closed: by :meth:`Client.close`, or for good (refused, kicked, no user)."""


class Unauthorized(ClientError):
    """Raise it from a token source when there is no user: the client closes instead of retrying."""


class ProtocolMismatch(ClientError):
    """The server did not select the ``beeflow.v1`` subprotocol: it cannot end requests for this client."""
