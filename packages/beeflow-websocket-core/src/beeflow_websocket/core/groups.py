"""Named groups of connections, and the group that holds every connection of one user.

A group name is 1 to 100 characters from ``A-Z a-z 0-9 . _ : -`` (``room:42``, ``team.red``). Each
connection is also in its user's group, whose name (``~user:<id>``) no application group can take,
so the ``user`` recipient reaches every connection of a user, in every process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from beeflow_websocket.core.problems import InvalidGroupName

__all__ = ["GROUP_NAME_PATTERN", "USER_GROUP_PREFIX", "Group", "checked_group_name", "user_group"]

GROUP_NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9._:-]{1,100}")

USER_GROUP_PREFIX: Final = "~user:"
"""What the name of every user's group starts with; no application group can."""


@dataclass(frozen=True, slots=True)
class Group:
    """A recipient resolver's answer that names a group instead of single connections."""

    name: str


def checked_group_name(name: object) -> str:
    """Return ``name`` if it is a valid application group name.

    Raises:
        InvalidGroupName: It is not a string of 1 to 100 allowed characters.
    """
    if not isinstance(name, str) or not GROUP_NAME_PATTERN.fullmatch(name):
        shown = repr(name)[:60]
        raise InvalidGroupName(
            f"{shown} is not a group name: use 1 to 100 characters from A-Z, a-z, 0-9 and . _ : -"
        )
    return name


def user_group(user_id: object) -> str:
    """The group every connection of ``user_id`` is in."""
    return f"{USER_GROUP_PREFIX}{user_id}"
