"""Routing: one route per endpoint template of :data:`shopapi._resources.RESOURCES`.

Paths match case-insensitively, as ASP.NET routing does; an ``int`` parameter must be
a .NET ``int`` (else no route matches, as Web API's constraint says), a ``{*code}``
catch-all takes the rest of the path. A known path under another method is a 405 whose
``Allow`` lists the methods it has; any other path is a 404. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from .._resources.spec import Endpoint, PathParam, Resource
from .._wire.validation import INT32_MAX, INT32_MIN

__all__ = ["Matched", "NotAllowed", "Route", "Routes", "int32"]

_PLACEHOLDER: Final = re.compile(r"\{(\*?)([A-Za-z][A-Za-z0-9]*)\}")
_INT: Final = re.compile(r"[+-]?[0-9]{1,10}", re.ASCII)


def int32(text: str) -> int | None:
    """Web API's ``int`` route/parameter constraint."""
    if _INT.fullmatch(text) is None:
        return None
    value = int(text)
    return value if INT32_MIN <= value <= INT32_MAX else None


@attrs.frozen
class Route:
    """One path template and the endpoints it has, by method."""

    pattern: re.Pattern[str]
    params: tuple[PathParam, ...]
    endpoints: Mapping[str, Endpoint]
    literals: int

    @classmethod
    def compile(cls, endpoints: list[Endpoint]) -> Route:
        """The route of ``endpoints``, which share one template (ignoring case)."""
        first = endpoints[0]
        parts: list[str] = []
        last = 0
        for match in _PLACEHOLDER.finditer(first.path):
            parts.append(re.escape(first.path[last : match.start()]))
            parts.append("(.+)" if match.group(1) else "([^/]+)")
            last = match.end()
        parts.append(re.escape(first.path[last:]))
        pattern = re.compile("/" + "".join(parts), re.IGNORECASE)
        literals = len(_PLACEHOLDER.sub("", first.path).strip("/").split("/"))
        by_method: dict[str, Endpoint] = {}
        for endpoint in endpoints:
            if endpoint.method in by_method:
                raise ValueError(f"two endpoints are {endpoint.method} {endpoint.path}")
            by_method[endpoint.method] = endpoint
        return cls(pattern, first.params, by_method, literals)

    def values(self, path: str) -> dict[str, int | str] | None:
        """The path's parameter values by Python name, or ``None`` if it is not this
        route's."""
        match = self.pattern.fullmatch(path)
        if match is None:
            return None
        values: dict[str, int | str] = {}
        for param, text in zip(self.params, match.groups(), strict=True):
            if param.type is int:
                number = int32(text)
                if number is None:
                    return None
                values[param.name] = number
            else:
                values[param.name] = text
        return values


@attrs.frozen
class Matched:
    """The endpoint a request is for, with its path values."""

    endpoint: Endpoint
    values: Mapping[str, int | str]


@attrs.frozen
class NotAllowed:
    """A known path under a method it does not have."""

    allow: str
    endpoint: Endpoint
    """One of the path's endpoints (they share its parameters)."""
    values: Mapping[str, int | str]


class Routes:
    """Every route of some resources, the most literal first (``v1/Shops/ShopStatus``
    before ``v1/Shops/{shopId}``)."""

    def __init__(self, resources: Iterable[Resource]) -> None:
        templates: dict[str, list[Endpoint]] = {}
        for resource in resources:
            for endpoint in resource.endpoints:
                key = _PLACEHOLDER.sub("{}", endpoint.path).lower()
                templates.setdefault(key, []).append(endpoint)
        routes = [Route.compile(endpoints) for endpoints in templates.values()]
        self.routes: tuple[Route, ...] = tuple(sorted(routes, key=lambda r: -r.literals))

    def match(self, method: str, path: str) -> Matched | NotAllowed | None:
        """The endpoint for ``method path``, a 405's ``Allow``, or ``None`` (404)."""
        not_allowed: NotAllowed | None = None
        for route in self.routes:
            values = route.values(path)
            if values is None:
                continue
            endpoint = route.endpoints.get(method)
            if endpoint is not None:
                return Matched(endpoint, values)
            if not_allowed is None:
                allow = ", ".join(sorted(route.endpoints))
                not_allowed = NotAllowed(allow, next(iter(route.endpoints.values())), values)
        return not_allowed
