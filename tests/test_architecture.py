"""The layers of ``shopapi`` (ARCHITECTURE.md), checked on every module's imports.

A layer may import its own layer and the ones below it, never one above: that is what
keeps the wire rules, the codecs and the retry decisions pure and testable without the
session, and what lets a user embed the codecs without aiohttp. The allowed graph is
stated once, below, as data; every ``import`` in ``shopapi/`` (function-level ones
included, since they run too) is parsed with :mod:`ast` and checked against it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "shopapi"

#: The top-level parts of the package by layer, lowest first. ``__init__``/``__main__``
#: are the package root: the public facade over all of it.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"_exceptions", "_config"}),
    frozenset({"_wire"}),
    frozenset({"codecs"}),
    frozenset({"_resources"}),
    frozenset({"_protocol"}),
    frozenset({"_bulk"}),
    frozenset({"_session"}),
    frozenset({"_cli", "testing", "helppage", "helpgen"}),
    frozenset({"__init__", "__main__"}),
)

#: Parts that may name any layer under ``if TYPE_CHECKING:`` (never at run time): the
#: thin resource classes type the client they are handed without importing it.
TYPE_ONLY_UPWARD: frozenset[str] = frozenset({"_resources"})

#: Libraries that only the session and above may import: below it, everything is pure.
IO_LIBRARIES: frozenset[str] = frozenset({"aiohttp"})
IO_FREE_BELOW = "_session"

#: Imports that break the order today, each with why it is allowed; the test fails once
#: one is no longer made, so that the entry is deleted with it.
ALLOWED_UPWARD: Mapping[tuple[str, str], str] = {
    ("_cli", "__init__"): "the CLI prints shopapi.__version__, which the package root holds",
}


def rank(part: str) -> int:
    """The layer of a top-level part of the package (``_wire``, ``codecs``, ...)."""
    for index, layer in enumerate(LAYERS):
        if part in layer:
            return index
    raise AssertionError(f"shopapi.{part} belongs to no layer: add it to LAYERS")


def part_of(module: str) -> str:
    """``shopapi._wire.fields`` -> ``_wire``; the package itself -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(
    module: str, source: str, *, is_package: bool, submodules: frozenset[str] = frozenset()
) -> Iterator[tuple[str, bool]]:
    """Every module ``module`` imports, absolute, and whether only for type checking.

    ``from .. import name`` counts as importing ``shopapi.name`` when that is one of
    ``submodules``, else the package it names.
    """
    package = module if is_package else module.rpartition(".")[0]

    def walk(node: ast.AST, type_only: bool) -> Iterator[tuple[str, bool]]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                yield from walk(statement, True)
            for statement in node.orelse:
                yield from walk(statement, type_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, type_only
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{alias.name}" for alias in node.names]
            yield from ((name, type_only) for name in names if name in submodules)
            if not all(name in submodules for name in names):
                yield target, type_only
        for inner in ast.iter_child_nodes(node):
            yield from walk(inner, type_only)

    yield from walk(ast.parse(source), False)


def violations(sources: Mapping[str, tuple[str, bool]]) -> tuple[list[str], set[tuple[str, str]]]:
    """Check ``{module: (source, is_package)}``; return the violations found, and the
    allowed upward imports that were used."""
    found: list[str] = []
    used: set[tuple[str, str]] = set()
    submodules = frozenset(sources)
    for module, (source, is_package) in sorted(sources.items()):
        here = part_of(module)
        rank(here)
        for target, type_only in imports(
            module, source, is_package=is_package, submodules=submodules
        ):
            top = target.split(".")[0]
            if top in IO_LIBRARIES and not type_only and rank(here) < rank(IO_FREE_BELOW):
                found.append(f"{module} imports {target}: only {IO_FREE_BELOW} and above do I/O")
            if top != "shopapi":
                continue
            there = part_of(target)
            if rank(there) <= rank(here) or (type_only and here in TYPE_ONLY_UPWARD):
                continue
            if (here, there) in ALLOWED_UPWARD:
                used.add((here, there))
                continue
            kind = " under TYPE_CHECKING" if type_only else ""
            found.append(
                f"{module} imports {target}{kind}: {here} (layer {rank(here)}) may not "
                f"import {there} (layer {rank(there)})"
            )
    return found, used


def package_sources(root: Path = PACKAGE) -> dict[str, tuple[str, bool]]:
    """Every module under ``root`` by dotted name, with its source and whether it is a
    package's ``__init__``."""
    sources = {}
    for path in sorted(root.rglob("*.py")):
        parts = ("shopapi", *path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        sources[name] = (path.read_text(encoding="utf-8"), is_package)
    return sources


def test_every_module_imports_only_its_own_layer_and_those_below() -> None:
    sources = package_sources()
    assert "shopapi._session.client" in sources
    assert "shopapi._wire.fields" in sources
    found, _ = violations(sources)
    assert found == []


def test_every_allowed_exception_is_still_needed() -> None:
    _, used = violations(package_sources())
    assert set(ALLOWED_UPWARD) - used == set(), "delete these from ALLOWED_UPWARD"


def test_every_part_of_the_package_has_a_layer() -> None:
    for name in package_sources():
        rank(part_of(name))


def planted(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """The violations of the real package with one module added (or replaced)."""
    sources = package_sources()
    sources[module] = (source, is_package)
    return violations(sources)[0]


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("shopapi._wire.planted", "from .._resources import message_conversations\n"),
        ("shopapi._wire.planted", "import shopapi._session.client\n"),
        ("shopapi.codecs.planted", "def f():\n    from .._resources import spec\n"),
        ("shopapi._protocol.planted", "from .._session.client import ShopApiClient\n"),
        ("shopapi._protocol.planted", "from .. import _bulk\n"),
        ("shopapi._bulk", "from ._session import client\n"),
        ("shopapi._session.planted", "from .._cli.app import main\n"),
        ("shopapi._resources.planted", "from .._protocol.requests import Request\n"),
        ("shopapi._resources.planted", "from shopapi import testing\n"),
    ],
)
def test_a_planted_upward_import_is_caught(module: str, source: str) -> None:
    found = planted(module, source)
    assert len(found) == 1
    assert found[0].startswith(f"{module} imports shopapi.")


def test_a_type_only_import_may_go_up_from_the_resources_only() -> None:
    typed = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .._session import client\n"
    )
    assert planted("shopapi._resources.planted", typed) == []
    found = planted("shopapi._protocol.planted", typed)
    assert found == [
        "shopapi._protocol.planted imports shopapi._session.client under TYPE_CHECKING: "
        "_protocol (layer 4) may not import _session (layer 6)"
    ]


def test_aiohttp_below_the_session_is_caught() -> None:
    found = planted("shopapi._protocol.planted", "import aiohttp.web\n")
    assert found == [
        "shopapi._protocol.planted imports aiohttp.web: only _session and above do I/O"
    ]
    assert planted("shopapi._session.planted", "import aiohttp.web\n") == []


def test_a_part_without_a_layer_is_refused() -> None:
    with pytest.raises(AssertionError, match=r"shopapi\._planted belongs to no layer"):
        planted("shopapi._planted", "x = 1\n")


def test_relative_imports_resolve_like_python() -> None:
    source = "from . import fields\nfrom .. import _bulk, __version__\nfrom ..codecs import json\n"
    subs = frozenset({"shopapi._bulk", "shopapi._wire.fields"})
    assert list(imports("shopapi._wire.x", source, is_package=False, submodules=subs)) == [
        ("shopapi._wire.fields", False),
        ("shopapi._bulk", False),
        ("shopapi", False),
        ("shopapi.codecs", False),
    ]
    assert list(imports("shopapi._wire", "from .fields import Kind\n", is_package=True)) == [
        ("shopapi._wire.fields", False)
    ]
