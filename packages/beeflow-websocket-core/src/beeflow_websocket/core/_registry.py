"""The name-to-class registry behind the three registry metaclasses.

Actions, events and recipients are registered by defining a class with ``name=`` in its class
keywords. The rules are the same for all three, so they live here once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, Final

from beeflow_websocket.core.exceptions import DuplicateRegistrationError, ReservedNameError

__all__ = ["RESERVED_PREFIX", "Registry", "RegistryMeta"]

RESERVED_PREFIX: Final = "beeflow."
"""Names under this prefix (in any case) belong to the library's own actions, events and recipients."""
_LIBRARY: Final = "beeflow_websocket."


class Registry[T](Mapping[str, T]):
    """A mapping of names to registered classes that refuses accidental duplicates.

    A class registered as a *default* (the library's built-ins: ``health``, ``websocket``, ``user``,
    ``group``) gives way to any other class under its name, whichever is imported first: an
    application that defines its own ``health`` replaces the built-in one, as 0.3.0's README shows.
    Two non-default classes under one name still clash.

    Args:
        kind: What is registered ("action", "event", "recipient"); used in messages.
        missing: The ``KeyError`` subclass raised for a name that is not registered.
    """

    def __init__(self, kind: str, missing: Callable[[str], KeyError]) -> None:
        self.kind = kind
        self._missing = missing
        self._entries: dict[str, T] = {}
        self._defaults: dict[str, T] = {}

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise self._missing(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def register(self, name: str, cls: T, *, replace: bool = False, default: bool = False) -> None:
        """Register ``cls`` under ``name``.

        A class that is defined again under the same module and qualified name (a module reloaded
        by a development server) replaces its earlier self silently, and so does any class that
        takes the name of a default. A default registered after another class took its name stays
        in reserve. Any other clash raises :class:`DuplicateRegistrationError` unless ``replace``
        is true.
        """
        current = self._entries.get(name)
        if default:
            previous_default = self._defaults.get(name)
            self._defaults[name] = cls
            if current is None or current is previous_default or _same_definition(current, cls):
                self._entries[name] = cls
            return
        if (
            current is not None
            and not replace
            and not _same_definition(current, cls)
            and not self._is_default(name, current)
        ):
            raise DuplicateRegistrationError(
                f"{self.kind} name {name!r} is already registered by {_dotted(current)}; "
                f"{_dotted(cls)} cannot take it. Choose another name, or pass replace=True "
                "in the class keywords to replace it on purpose."
            )
        self._entries[name] = cls

    def unregister(self, name: str) -> None:
        """Remove ``name``, or put its default back; raises the ``KeyError`` subclass when unknown."""
        current = self._entries.get(name)
        if current is None:
            raise self._missing(name)
        fallback = self._defaults.get(name)
        if fallback is None or fallback is current:
            self._defaults.pop(name, None)
            del self._entries[name]
        else:
            self._entries[name] = fallback

    def _is_default(self, name: str, cls: T) -> bool:
        default = self._defaults.get(name)
        return default is not None and _same_definition(default, cls)

    @contextmanager
    def isolated(self) -> Iterator[Registry[T]]:
        """Restore the registry to its current content when the block ends.

        For tests that define classes: registrations made inside the block are forgotten after it.
        """
        saved, saved_defaults = dict(self._entries), dict(self._defaults)
        try:
            yield self
        finally:
            self._entries, self._defaults = saved, saved_defaults


def _reserved(name: str) -> bool:
    return name.casefold().startswith(RESERVED_PREFIX)


def _dotted(cls: object) -> str:
    return f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', repr(cls))}"


def _same_definition(first: object, second: object) -> bool:
    return _dotted(first) == _dotted(second)


class RegistryMeta(type):
    """Registers every class defined with it under the ``name=`` class keyword.

    A class whose own body sets ``__register__ = False`` is an abstract base: it is not registered
    and needs no name. Subclasses of such a base register as usual. The name is stored on the class
    under :attr:`name_attribute`. ``default=True`` in the class keywords registers a replaceable
    default (see :class:`Registry`): the library's built-ins use it, and so may a package that ships
    plugins an application should be free to override.
    """

    registry: ClassVar[Registry[Any]]
    name_attribute: ClassVar[str]

    def __new__(
        mcs,
        cls_name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        /,
        *,
        name: str | None = None,
        replace: bool = False,
        default: bool = False,
        **kwargs: Any,
    ) -> RegistryMeta:
        cls = super().__new__(mcs, cls_name, bases, namespace, **kwargs)
        kind = mcs.registry.kind
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise TypeError(f"{cls_name}: the {kind} name must be a non-blank string, got {name!r}")
        if name is not None and _reserved(name) and not namespace.get("__module__", "").startswith(_LIBRARY):
            raise ReservedNameError(
                f"{cls_name}: the {kind} name {name!r} is under the reserved prefix {RESERVED_PREFIX!r}, "
                "which the protocol keeps for its own actions, events and recipients; choose another"
            )
        if name is not None:
            setattr(cls, mcs.name_attribute, name)
        if namespace.get("__register__", True) is False:
            return cls
        if name is None:
            raise TypeError(
                f"{cls_name}: a {kind} class needs a name, as in "
                f"class {cls_name}(..., name='my-{kind}'); set __register__ = False in the body "
                "of an abstract base class instead"
            )
        mcs.registry.register(name, cls, replace=replace, default=default)
        return cls

    def __init__(
        cls,
        cls_name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        /,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("name", None)
        kwargs.pop("replace", None)
        kwargs.pop("default", None)
        super().__init__(cls_name, bases, namespace, **kwargs)
