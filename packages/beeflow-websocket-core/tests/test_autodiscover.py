import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from beeflow_websocket.core.action_registry import ActionRegistryMeta
from beeflow_websocket.core.autodiscover import (
    CONVENTIONAL_MODULES,
    autodiscover,
    autodiscover_for_caller,
    autodiscover_modules,
    import_package_tree,
    module_exists,
    parent_packages,
)

type Layout = Callable[[dict[str, str]], None]

ACTION = """
from beeflow_websocket.core.action_registry import ActionRegistryMeta

class {cls}(metaclass=ActionRegistryMeta, name="{name}"):
    async def execute(self, message, context):
        return
        yield
"""


def test_the_six_conventional_modules() -> None:
    assert CONVENTIONAL_MODULES == (
        "actions",
        "events",
        "recipients",
        "ws.actions",
        "ws.events",
        "ws.recipients",
    )


def test_existing_conventional_modules_are_imported_and_missing_ones_skipped(layout: Layout) -> None:
    layout(
        {
            "shop/__init__.py": "",
            "shop/actions.py": ACTION.format(cls="Buy", name="buy"),
            "shop/ws/__init__.py": "",
            "shop/ws/actions.py": ACTION.format(cls="Sell", name="sell"),
        }
    )

    modules = autodiscover_modules("shop")

    assert [m.__name__ for m in modules] == ["shop.actions", "shop.ws.actions"]
    assert {"buy", "sell"} <= set(ActionRegistryMeta.registry)


def test_a_package_without_plugin_modules_gives_nothing(layout: Layout) -> None:
    layout({"plain/__init__.py": "", "plain/ws.py": "WS = 1\n"})

    assert autodiscover_modules("plain") == []


def test_an_import_error_inside_an_existing_module_is_raised(layout: Layout) -> None:
    layout({"broken/__init__.py": "", "broken/actions.py": "import module_that_is_not_installed\n"})

    with pytest.raises(ModuleNotFoundError, match="module_that_is_not_installed"):
        autodiscover_modules("broken")


def test_any_error_inside_an_existing_module_is_raised(layout: Layout) -> None:
    layout({"faulty/__init__.py": "", "faulty/ws/__init__.py": "", "faulty/ws/events.py": "1 / 0\n"})

    with pytest.raises(ZeroDivisionError):
        autodiscover_modules("faulty")


def test_module_exists_does_not_import_the_module(layout: Layout) -> None:
    layout(
        {"lazy/__init__.py": "", "lazy/actions.py": "raise RuntimeError('imported')\n", "lazy/plain.py": ""}
    )

    assert module_exists("lazy.actions")
    assert not module_exists("lazy.events")
    assert not module_exists("lazy.ws.actions")
    assert not module_exists("lazy.plain.inner")
    assert not module_exists("no_such_top_level_package_here")


def test_import_package_tree_imports_everything_below(layout: Layout) -> None:
    layout(
        {
            "plugins/__init__.py": "",
            "plugins/chat.py": ACTION.format(cls="Chat", name="chat"),
            "plugins/games/__init__.py": "",
            "plugins/games/chess.py": ACTION.format(cls="Chess", name="chess"),
            "single.py": ACTION.format(cls="Single", name="single"),
        }
    )

    names = [m.__name__ for m in import_package_tree("plugins")]

    assert names == ["plugins", "plugins.chat", "plugins.games", "plugins.games.chess"]
    assert [m.__name__ for m in import_package_tree("single")] == ["single"]
    assert {"chat", "chess", "single"} <= set(ActionRegistryMeta.registry)


def test_import_package_tree_of_a_missing_package_is_an_error() -> None:
    with pytest.raises(ModuleNotFoundError):
        import_package_tree("no_such_plugins_package")


@pytest.mark.parametrize(
    ("module", "is_package", "packages"),
    [
        ("shop.api.main", False, ["shop.api", "shop"]),
        ("shop.api", True, ["shop.api", "shop"]),
        ("shop", True, ["shop"]),
        ("main", False, []),
    ],
)
def test_parent_packages(module: str, is_package: bool, packages: list[str]) -> None:
    assert parent_packages(module, is_package=is_package) == packages


def test_autodiscover_combines_conventional_and_whole_packages_once(layout: Layout) -> None:
    layout(
        {
            "app/__init__.py": "",
            "app/events.py": "",
            "app/extra/__init__.py": "",
            "app/extra/more.py": ACTION.format(cls="More", name="more"),
        }
    )

    modules = autodiscover(["app", "app"], whole_packages=["app.extra", "app"])

    assert [m.__name__ for m in modules] == ["app.events", "app.extra", "app.extra.more", "app"]


def test_autodiscover_with_other_module_names(layout: Layout) -> None:
    layout({"portal/__init__.py": "", "portal/handlers.py": "", "portal/actions.py": "raise RuntimeError\n"})

    assert [m.__name__ for m in autodiscover(["portal"], module_names=["handlers"])] == ["portal.handlers"]


def test_for_caller_in_a_package_scans_the_package_and_its_parents(layout: Layout) -> None:
    layout(
        {
            "corp/__init__.py": "",
            "corp/actions.py": ACTION.format(cls="Top", name="top"),
            "corp/api/__init__.py": "",
            "corp/api/ws/__init__.py": "",
            "corp/api/ws/actions.py": ACTION.format(cls="Inner", name="inner"),
        }
    )

    modules = autodiscover_for_caller("corp.api.main", "/somewhere/corp/api/main.py")

    assert [m.__name__ for m in modules] == ["corp.api.ws.actions", "corp.actions"]


def test_for_caller_that_is_a_package_s_init(layout: Layout, tmp_path: Path) -> None:
    layout({"pkgapp/__init__.py": "", "pkgapp/events.py": ""})

    modules = autodiscover_for_caller("pkgapp", str(tmp_path / "pkgapp" / "__init__.py"))

    assert [m.__name__ for m in modules] == ["pkgapp.events"]


def test_for_caller_run_with_python_m_uses_the_spec_name(layout: Layout) -> None:
    layout({"runner/__init__.py": "", "runner/recipients.py": ""})

    modules = autodiscover_for_caller("__main__", "/x/runner/main.py", spec_name="runner.main")

    assert [m.__name__ for m in modules] == ["runner.recipients"]


def test_for_a_top_level_caller_only_modules_beside_it_count(layout: Layout, tmp_path: Path) -> None:
    app_dir, elsewhere = tmp_path / "app", tmp_path / "elsewhere"
    layout(
        {
            "app/main.py": "",
            "app/actions.py": ACTION.format(cls="Beside", name="beside"),
            "app/ws/__init__.py": "",
            "app/ws/events.py": "",
            "elsewhere/events.py": "raise RuntimeError('not beside the caller')\n",
            "plugins_whole/__init__.py": "",
        }
    )
    sys.path[:0] = [str(app_dir), str(elsewhere)]
    try:
        modules = autodiscover_for_caller(
            "__main__", str(app_dir / "main.py"), whole_packages=["plugins_whole"]
        )
    finally:
        sys.path.remove(str(app_dir))
        sys.path.remove(str(elsewhere))

    assert [m.__name__ for m in modules] == ["actions", "ws.events", "plugins_whole"]


def test_for_a_caller_without_a_file_scans_only_whole_packages(layout: Layout) -> None:
    layout({"interactive_plugins/__init__.py": ""})

    modules = autodiscover_for_caller("__main__", None, whole_packages=["interactive_plugins"])

    assert [m.__name__ for m in modules] == ["interactive_plugins"]
