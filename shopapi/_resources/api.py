"""What a resource's typed methods ask of the client: the :class:`Caller` protocol.

A resource module (``message_conversations.py``, ``shop_groups.py`` ...) holds its
models, its :class:`~shopapi._resources.spec.Resource` and a class of thin typed
wrappers, one method per endpoint, each a line or two that hands the endpoint, the path
parameters and the body to the :class:`Caller`. The client implements it once, for every
endpoint (build the request from the description, send it, check the answer), so the
resource layer imports nothing from the session: the layers stay
``_wire < codecs < _resources < _protocol < _bulk < _session``.

The caller answers ``Any``: the wrappers' annotations are what a user's mypy sees, and
``tests/test_typing_surface.py`` holds them to the descriptions.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Callable, Coroutine, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict, TypeVar

from .spec import Endpoint

if TYPE_CHECKING:
    from .._bulk import UpdateResult

__all__ = ["BulkOptions", "Caller", "InsertOptions", "Items"]

T = TypeVar("T")

#: What a ``{name}_many`` method takes: any iterable or async iterable of bodies.
Items = Iterable[T] | AsyncIterable[T]


class BulkOptions(TypedDict, total=False):
    """The keywords of a ``{name}_many`` method (see ``update_many`` for each)."""

    concurrency: int | Literal["auto"]
    max_concurrency: int | None
    on_limit_change: Callable[[int], None] | None


class InsertOptions(BulkOptions, total=False):
    """An insert's ``{name}_many`` also takes ``allow_duplicates``."""

    allow_duplicates: bool


class Caller(Protocol):
    """The client's generic calls, one per kind of endpoint method.

    ``path`` is always the path parameters' values in template order; ``query`` the
    filters by :attr:`~shopapi._resources.spec.QueryParam.name` (``None`` or absent:
    not sent).
    """

    def start(
        self,
        endpoint: Endpoint,
        path: tuple[object, ...],
        body: object = None,
        *,
        allow_duplicates: bool = False,
    ) -> Coroutine[Any, Any, Any]:
        """Build and check the request now (``ValidationError`` at once), and return the
        call, to await: the answer decoded and checked against the key fields."""
        ...

    def page(
        self,
        endpoint: Endpoint,
        path: tuple[object, ...],
        query: Mapping[str, object] | None = None,
        *,
        page_number: int = 1,
        page_size: int | None = None,
    ) -> Coroutine[Any, Any, list[Any]]:
        """One page of a paged list (``page_size`` defaults to the documented one)."""
        ...

    def items(
        self,
        endpoint: Endpoint,
        path: tuple[object, ...],
        query: Mapping[str, object] | None = None,
        *,
        page_size: int | None = None,
    ) -> AsyncGenerator[Any, None]:
        """Every item of a paged list, pages fetched lazily until the first empty one."""
        ...

    def many(
        self,
        endpoint: Endpoint,
        items: Iterable[Any] | AsyncIterable[Any],
        given: tuple[object, ...] = (),
        *,
        concurrency: int | Literal["auto"] = "auto",
        max_concurrency: int | None = None,
        on_limit_change: Callable[[int], None] | None = None,
        allow_duplicates: bool = False,
    ) -> AsyncGenerator[UpdateResult[Any, Any], None]:
        """``endpoint`` over many bodies; one result per item (see
        :func:`shopapi._bulk.run_bulk`).

        Each item's path parameters come from its key fields; ``given`` holds, in
        template order, the values of those no key field carries
        (:meth:`~shopapi._resources.spec.Endpoint.given_params`)."""
        ...
