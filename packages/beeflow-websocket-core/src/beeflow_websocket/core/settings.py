"""Protocol settings an adapter hands to every connection's dispatcher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["DEFAULT_SETTINGS", "DispatcherSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatcherSettings:
    """What the protocol needs to know that the frames do not say.

    Attributes:
        problem_type_base_url: Base of the Problem Details ``type`` URI; each problem's slug is
            appended to it. ``None`` (the default) gives ``about:blank``.
    """

    problem_type_base_url: str | None = None

    def __post_init__(self) -> None:
        base = self.problem_type_base_url
        if base is not None and (not isinstance(base, str) or not base.strip()):
            raise ValueError(f"problem_type_base_url must be a non-blank string or None, got {base!r}")


DEFAULT_SETTINGS: Final = DispatcherSettings()
