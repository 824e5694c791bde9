"""The typed resource methods say what their descriptions say.

The methods are written out so that a user's mypy and ``help()`` see real signatures;
these tests hold each one to its :class:`~shopapi._resources.spec.Endpoint`, so a
signature cannot drift from the description the request is built from.
"""

from __future__ import annotations

import inspect

import pytest

from shopapi._resources import RESOURCES
from shopapi._resources.spec import Endpoint, Resource, Role

ENDPOINTS = [(r, e) for r in RESOURCES for e in r.endpoints]


def _params(resource: Resource, name: str) -> list[inspect.Parameter]:
    method = getattr(resource.methods, name)
    return list(inspect.signature(method).parameters.values())[1:]  # without self


@pytest.mark.parametrize(("resource", "endpoint"), ENDPOINTS, ids=lambda x: getattr(x, "name", x))
def test_path_parameters_come_first_in_template_order(
    resource: Resource, endpoint: Endpoint
) -> None:
    positional = [
        p.name
        for p in _params(resource, endpoint.name)
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]
    names = [p.name for p in endpoint.params]
    assert positional[: len(names)] == names
    rest = positional[len(names) :]
    assert len(rest) == (1 if endpoint.body is not None else 0)


@pytest.mark.parametrize(
    ("resource", "endpoint"),
    [(r, e) for r, e in ENDPOINTS if e.paging is not None],
    ids=lambda x: getattr(x, "name", x),
)
def test_a_paged_lists_page_size_default_is_the_documented_one(
    resource: Resource, endpoint: Endpoint
) -> None:
    assert endpoint.paging is not None
    for name in (endpoint.name, f"{endpoint.name}_page"):
        defaults = {p.name: p.default for p in _params(resource, name)}
        assert defaults["page_size"] == endpoint.paging.size, name
    page = {p.name: p.default for p in _params(resource, f"{endpoint.name}_page")}
    assert page["page_number"] == 1


@pytest.mark.parametrize(
    ("resource", "endpoint"),
    [(r, e) for r, e in ENDPOINTS if e.role is Role.INSERT],
    ids=lambda x: getattr(x, "name", x),
)
def test_an_insert_offers_allow_duplicates_off_by_default(
    resource: Resource, endpoint: Endpoint
) -> None:
    defaults = {p.name: p.default for p in _params(resource, endpoint.name)}
    assert defaults["allow_duplicates"] is False
