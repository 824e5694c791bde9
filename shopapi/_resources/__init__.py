"""The API's resources as data: one module per resource, holding its models and the
descriptions of its endpoints (:mod:`shopapi._resources.spec`).

:data:`RESOURCES` lists them all; the client, the command line, the fake server, the
conformance suite and the contract tests walk it, so a resource added here is served,
tested and reachable without a change anywhere else.
"""

from __future__ import annotations

from typing import Final

from . import customers, message_conversations, orders, products, shop_groups, shops, tickets
from .spec import Resource

__all__ = ["RESOURCES"]

#: Every resource, in the order the README presents them.
RESOURCES: Final[tuple[Resource, ...]] = (
    message_conversations.RESOURCE,
    tickets.RESOURCE,
    shop_groups.RESOURCE,
    orders.RESOURCE,
    products.RESOURCE,
    shops.RESOURCE,
    customers.RESOURCE,
)
