"""The registration rules shared by actions, events and recipients (beeflow_websocket.core._registry)."""

import pytest

from beeflow_websocket.core.action_registry import ActionRegistryMeta
from beeflow_websocket.core.actions.health import Health as BuiltInHealth
from beeflow_websocket.core.event_registry import Event, EventRegistryMeta
from beeflow_websocket.core.exceptions import (
    ActionDoesNotExist,
    DuplicateRegistrationError,
    ReservedNameError,
)


def registered(name: str) -> object:
    return ActionRegistryMeta.registry[name]


def test_a_class_registers_under_its_name() -> None:
    class Ping(metaclass=ActionRegistryMeta, name="ping"):
        pass

    assert registered("ping") is Ping
    assert getattr(Ping, "action_name") == "ping"  # noqa: B009 - set by the metaclass
    assert "ping" in ActionRegistryMeta.registry
    assert "ping" in list(ActionRegistryMeta.registry)
    assert len(ActionRegistryMeta.registry) >= 2  # ping and the built-in health


def test_a_second_class_cannot_take_a_name() -> None:
    class First(metaclass=ActionRegistryMeta, name="ping"):
        pass

    with pytest.raises(DuplicateRegistrationError, match=r"'ping' is already registered by .*First"):

        class Second(metaclass=ActionRegistryMeta, name="ping"):
            pass

    assert registered("ping") is First


def test_replace_takes_a_name_over_on_purpose() -> None:
    class First(metaclass=ActionRegistryMeta, name="ping"):
        pass

    class Second(metaclass=ActionRegistryMeta, name="ping", replace=True):
        pass

    assert registered("ping") is Second


def test_a_reloaded_module_replaces_its_own_class() -> None:
    def define() -> type:
        class Ping(metaclass=ActionRegistryMeta, name="ping"):
            pass

        return Ping

    define()
    again = define()

    assert registered("ping") is again


def test_an_abstract_base_opts_out_and_its_subclasses_register() -> None:
    class Base(metaclass=ActionRegistryMeta):
        __register__ = False

    class Concrete(Base, name="concrete"):
        pass

    assert registered("concrete") is Concrete
    assert Base not in list[object](ActionRegistryMeta.registry.values())


def test_a_class_without_a_name_is_refused() -> None:
    with pytest.raises(TypeError, match="needs a name"):

        class Nameless(metaclass=ActionRegistryMeta):
            pass


@pytest.mark.parametrize("name", ["", "   ", 3])
def test_names_must_be_non_blank_strings(name: object) -> None:
    with pytest.raises(TypeError, match="non-blank string"):

        class Bad(metaclass=ActionRegistryMeta, name=name):
            pass


def test_a_missing_name_raises_the_registry_s_error() -> None:
    with pytest.raises(ActionDoesNotExist):
        ActionRegistryMeta.registry["nope"]
    assert ActionRegistryMeta.registry.get("nope") is None


def test_unregister_forgets_a_name() -> None:
    class Ping(metaclass=ActionRegistryMeta, name="ping"):
        pass

    ActionRegistryMeta.registry.unregister("ping")

    assert "ping" not in ActionRegistryMeta.registry
    with pytest.raises(ActionDoesNotExist):
        ActionRegistryMeta.registry.unregister("ping")


def test_isolated_forgets_what_was_registered_inside() -> None:
    with ActionRegistryMeta.registry.isolated():

        class Ping(metaclass=ActionRegistryMeta, name="ping"):
            pass

        assert "ping" in ActionRegistryMeta.registry

    assert "ping" not in ActionRegistryMeta.registry
    assert "health" in ActionRegistryMeta.registry


def test_an_application_class_replaces_a_built_in_default() -> None:
    class Health(metaclass=ActionRegistryMeta, name="health"):
        pass

    assert registered("health") is Health
    ActionRegistryMeta.registry.unregister("health")
    assert registered("health") is BuiltInHealth


def test_a_default_defined_after_an_application_class_stays_in_reserve() -> None:
    class Mine(metaclass=ActionRegistryMeta, name="ping"):
        pass

    class Default(metaclass=ActionRegistryMeta, name="ping", default=True):
        pass

    assert registered("ping") is Mine
    ActionRegistryMeta.registry.unregister("ping")
    assert registered("ping") is Default
    ActionRegistryMeta.registry.unregister("ping")
    assert "ping" not in ActionRegistryMeta.registry


def test_two_application_classes_still_clash_over_a_replaced_default() -> None:
    class First(metaclass=ActionRegistryMeta, name="health"):
        pass

    with pytest.raises(DuplicateRegistrationError, match=r"'health' is already registered by .*First"):

        class Second(metaclass=ActionRegistryMeta, name="health"):
            pass


def test_a_reloaded_default_does_not_displace_an_application_class() -> None:
    def define_default() -> type:
        class Fallback(metaclass=ActionRegistryMeta, name="ping", default=True):
            pass

        return Fallback

    define_default()

    class Mine(metaclass=ActionRegistryMeta, name="ping"):
        pass

    define_default()

    assert registered("ping") is Mine


def test_isolated_restores_the_defaults_too() -> None:
    with ActionRegistryMeta.registry.isolated():

        class Health(metaclass=ActionRegistryMeta, name="health"):
            pass

        ActionRegistryMeta.registry.unregister("health")
        ActionRegistryMeta.registry.unregister("health")
        assert "health" not in ActionRegistryMeta.registry

    assert registered("health") is BuiltInHealth


@pytest.mark.parametrize("name", ["beeflow.cancel", "beeflow.mine", "Beeflow.Ping"])
def test_an_application_cannot_take_a_name_under_the_reserved_prefix(name: str) -> None:
    with pytest.raises(ReservedNameError, match=r"reserved prefix 'beeflow\.'"):

        class Shadow(metaclass=ActionRegistryMeta, name=name):
            pass

    with pytest.raises(ReservedNameError):

        class Hidden(Event, name=name):
            pass

    assert name not in ActionRegistryMeta.registry
    assert name not in EventRegistryMeta.registry


def test_a_name_that_only_starts_like_the_prefix_is_free() -> None:
    class Mine(metaclass=ActionRegistryMeta, name="beeflowish.thing"):
        pass

    assert registered("beeflowish.thing") is Mine
