"""A griffe extension: the constructors of shopapi's attrs classes, for the reference.

attrs writes ``__init__`` when the class is created, so griffe, reading the source,
sees no constructor: the reference would show ``Limits`` and ``RetryPolicy`` without
their keyword arguments and defaults. This adds an ``__init__`` to every attrs class
that has none, from ``attrs.fields`` of the imported class: the parameter names attrs
gives (``alias``), the annotations griffe read from the source (so they link), and the
defaults, written as the module's constant when one holds the value
(``RETRYABLE_STATUSES``) and as ``repr`` otherwise.

It also leaves private bases out of every class's "Bases:" line (``ShopGroup`` is built
on ``_ShopGroupBase``, which holds the fields it shares with ``ShopGroupChanges``): the
reference documents no private name, so such a base would be an unexplained, unlinked
internal. mkdocs.yml loads it by path; griffe is imported only while the site is built.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import attrs

__all__ = ["AttrsSignatures", "default_text", "public_bases"]

_FACTORY: type = type(attrs.Factory(list))


def default_text(value: object, module: object) -> str:
    """How a default reads in a signature: a module constant's name, else its repr."""
    for name, candidate in vars(module).items():
        if candidate is value and name.isupper():
            return name
    if type(value) is _FACTORY:  # attrs.Factory(...): typed as a function by attrs' stubs
        return f"{getattr(getattr(value, 'factory', None), '__name__', 'factory')}()"
    return repr(value)


def public_bases(bases: list[Any]) -> list[Any]:
    """``bases`` without the private ones (``_Base``, ``module._Base``), by their text."""
    return [base for base in bases if not str(base).rsplit(".", 1)[-1].startswith("_")]


def _runtime_class(obj: Any) -> type | None:
    try:
        module = importlib.import_module(obj.module.path)
    except ImportError:
        return None
    cls = getattr(module, obj.name, None)
    return cls if inspect.isclass(cls) and attrs.has(cls) else None


class AttrsSignatures:
    """The extension: gives each attrs class of a loaded package its ``__init__``."""

    def on_package(self, *, pkg: Any, **kwargs: Any) -> None:
        griffe = importlib.import_module("griffe")
        for obj in _classes(pkg):
            if "__init__" in obj.members:
                continue
            cls = _runtime_class(obj)
            if cls is None:
                continue
            module = importlib.import_module(cls.__module__)
            parameters = [griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)]
            for field in attrs.fields(cls):
                if not field.init:
                    continue
                member = obj.all_members.get(field.name)
                annotation = getattr(member, "annotation", None) or field.type
                default = None
                if field.default is not attrs.NOTHING:
                    default = default_text(field.default, module)
                kind = (
                    griffe.ParameterKind.keyword_only
                    if field.kw_only
                    else griffe.ParameterKind.positional_or_keyword
                )
                parameters.append(
                    griffe.Parameter(field.alias, annotation=annotation, kind=kind, default=default)
                )
            init = griffe.Function(
                "__init__",
                lineno=obj.lineno,
                endlineno=obj.lineno,
                parameters=griffe.Parameters(*parameters),
                returns="None",
            )
            obj.set_member("__init__", init)
        # Last: the constructors above read annotations through the bases.
        for obj in _classes(pkg):
            obj.bases = public_bases(obj.bases)


def _classes(obj: Any) -> list[Any]:
    found = [obj] if obj.is_class else []
    for member in obj.members.values():
        if not member.is_alias and (member.is_class or member.is_module):
            found.extend(_classes(member))
    return found
