"""Each resource group's page in docs/resources/ lists every endpoint of its resources as
one table row: method, path, client method(s), command line. The rows are derived from
:data:`shopapi._resources.RESOURCES` here, so a page cannot fall behind the descriptions
(run this file with ``-s`` to print the rows a page should hold)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from shopapi._cli.commands import verb
from shopapi._resources import RESOURCES
from shopapi._resources.spec import Endpoint, Resource

DOCS: Final = Path(__file__).resolve().parents[1] / "docs" / "resources"

#: The page of each resource group, and the resources it covers.
PAGES: Final = {
    "message-conversations.md": ("message_conversations", "tickets"),
    "orders-and-fulfilment.md": ("orders",),
    "products.md": ("products",),
    "shops.md": ("shops", "shop_groups"),
    "customers.md": ("customers",),
}


def row(resource: Resource, endpoint: Endpoint) -> str:
    """The page's table row for ``endpoint``."""
    methods = ", ".join(f"`{m}()`" for m in endpoint.methods())
    command = f"`shopapi {resource.cli} {verb(endpoint)}`"
    note = "" if endpoint.documented else " (not on the help pages)"
    return (
        f"| `{endpoint.method}` | `{endpoint.path}`{note} | `client.{resource.name}`: "
        f"{methods} | {command} |"
    )


def test_every_resource_has_a_page() -> None:
    covered = [name for names in PAGES.values() for name in names]
    assert sorted(covered) == sorted(r.name for r in RESOURCES)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_a_page_lists_every_endpoint_of_its_resources(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    rows = [row(r, e) for r in RESOURCES if r.name in PAGES[page] for e in r.endpoints]
    print(f"\n{page}:\n" + "\n".join(rows))
    missing = [r for r in rows if r not in text.splitlines()]
    assert missing == []
