"""The folders are layers: core/ at the bottom, then storage/, then handlers/, then bot/ and web/ on top. A lower layer never
imports a higher one, not even inside a function or under TYPE_CHECKING, and handlers/ has no import cycle."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# what each layer may not import (classifier/ is not checked here)
FORBIDDEN = {"core": {"bot", "handlers", "storage", "classifier", "web"}, "storage": {"bot", "handlers", "web"},
             "handlers": {"bot", "web"}, "web": {"bot"}}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file, at any depth; `from pkg import sub` names pkg.sub when sub is
    a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                is_module = (ROOT / sub.replace(".", "/")).with_suffix(".py").exists() or (
                    ROOT / sub.replace(".", "/") / "__init__.py").exists()
                found.append((node.lineno, sub if is_module else node.module))
    return found


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_never_imports_a_higher_one(layer):
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {name}"
             for path in _files(layer) for line, name in _imports(path)
             if name.split(".")[0] in FORBIDDEN[layer]]
    assert wrong == []


def test_handlers_have_no_import_cycle():
    graph = {_module(p): {n for _, n in _imports(p) if n.startswith("handlers.")} for p in _files("handlers")}
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                raise AssertionError(" -> ".join(path[path.index(target):] + [target]) if target in path
                                     else f"{module} -> {target}")
            if target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_checks_see_a_wrong_import(tmp_path, monkeypatch):
    """The walk finds an import inside a function and under TYPE_CHECKING, and names its line."""
    path = tmp_path / "m.py"
    path.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.app import App\n"
                    "def f():\n    import bot.run\n", encoding="utf-8")
    assert [(line, name.split(".")[0]) for line, name in _imports(path)] == [(1, "typing"), (3, "bot"), (5, "bot")]
