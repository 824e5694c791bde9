"""Compiling the per-model functions the codecs and validation generate from source lines.

Generated code dispatches on a field's kind once, when the function is built, instead
of on every value: each kind's entry in :mod:`shopapi._wire.kinds` gives its lines.
It lives in the wire layer so that validation (here) and the codecs (above) share it
without importing each other.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["compile_function", "construct_lines"]

_counter = itertools.count()


def compile_function(name: str, source: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    """Compile generated ``source`` defining ``name``; keep it visible to tracebacks."""
    import linecache

    filename = f"<shopapi generated {name} {next(_counter)}>"
    code = compile(source, filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(code, namespace)
    fn: Callable[..., Any] = namespace[name]
    return fn


def construct_lines(cls: type, assignments: list[tuple[str, str]], ns: dict[str, Any]) -> list[str]:
    """Generated statements that build ``cls`` from ``(field, variable)`` pairs and return it.

    A frozen slotted attrs class with no validators, converters or post-init hook is
    filled through its slot descriptors, which skips packing and unpacking 26 keyword
    arguments on every decode; any other class gets its ``__init__``. The instance is
    the same either way (the codec tests compare decoded values with constructed ones).
    """
    fields = attrs.fields(cls)
    ns["_cls"] = cls
    plain = (
        "__slots__" in cls.__dict__
        and not hasattr(cls, "__attrs_post_init__")
        and all(a.validator is None and a.converter is None for a in fields)
        and {a.name for a in fields} == {name for name, _ in assignments}
    )
    if not plain:
        args = ", ".join(f"{name}={var}" for name, var in assignments)
        return [f"    return _cls({args})"]
    ns["_new"] = object.__new__
    lines = ["    _o = _new(_cls)"]
    for i, (name, var) in enumerate(assignments):
        owner = next(k for k in cls.__mro__ if name in k.__dict__)
        ns[f"_set{i}"] = owner.__dict__[name].__set__
        lines.append(f"    _set{i}(_o, {var})")
    lines.append("    return _o")
    return lines
