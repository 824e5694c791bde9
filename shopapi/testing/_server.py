"""The server: lifecycle, admission (auth, capacity, faults, body, stalls) and dispatch
to the routes and the role handlers; the wire rules live in the modules it sequences."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import types
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from aiohttp import web

from .._resources import RESOURCES
from .._resources import message_conversations as _mc
from .._resources.message_conversations import MessageChanges, MessageConversation
from .._resources.spec import Endpoint, Role
from ._answers import apply_fault, drop
from ._capacity import Capacity, Load, check_capacity
from ._errors import no_route, not_allowed, too_large, unauthorized
from ._faults import DEFAULT_PERMANENT, DEFAULT_TRANSIENT, Fault, FaultSchedule, check_seconds
from ._filters import change_field
from ._handlers import Call, Handlers
from ._negotiation import Format, negotiated_format
from ._recording import Exchange, RecordedRequest, redact_headers
from ._routes import NotAllowed, Routes
from ._samples import sample_conversation, sample_item, sample_message
from ._store import EndpointInfo, Store, describe, project

__all__ = ["DEFAULT_MAX_BODY_SIZE", "FakeShopServer"]

#: Request bodies larger than this are refused with 413 (bytes).
DEFAULT_MAX_BODY_SIZE: Final = 4 * 1024 * 1024
_SHUTDOWN_TIMEOUT: Final = 1.0
_EVERYTHING: Final = 1 << 62

# The endpoints that today's conversation-shaped helpers (seed, get, put_count ...) address.
_CONVERSATION: Final = _mc.RESOURCE.endpoint("update")
_MESSAGE: Final = _mc.RESOURCE.endpoint("post_message")


class FakeShopServer:
    """A ShopCtrl look-alike on a real socket, with faults on demand.

    It serves every endpoint of :data:`shopapi._resources.RESOURCES`: a resource
    described there is routed, stored and answered without a change here.

    Args:
        username: The HTTP Basic user it accepts.
        password: Its password (never shown in a repr or in :attr:`requests`).
        host: The address to bind; loopback by default, so nothing outside this machine
            can reach it.
        port: The port; 0 picks a free one (read :attr:`base_url` after starting).
        create_missing: Store a PUT for an unknown conversation instead of answering 404.
        record: Keep every request in :attr:`requests` (turn off for long benchmarks).
        max_body_size: Larger request bodies get a 413.
        latency: Seconds every authenticated API request takes to process, to make
            concurrency visible in demos and benchmarks. It is not a server slot: any
            number of requests wait it out at once (network latency, as it were).
        capacity: Requests served at once (``None``, the default: no limit). Settable
            while running through :attr:`capacity`.
        service_time: Seconds each request holds one of the ``capacity`` slots.
        queue_limit: Requests that may wait for a slot (``None``: no limit). Beyond
            it, a request is answered ``overload`` at once, without being processed.
        overload: The answer to a request the queue cannot hold: a ``Fault.status``,
            503 by default; ``Fault.status(429, retry_after=1)`` for a throttling server.
    """

    def __init__(
        self,
        *,
        username: str = "user",
        password: str = "secret",
        host: str = "127.0.0.1",
        port: int = 0,
        create_missing: bool = False,
        record: bool = True,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        latency: float = 0.0,
        capacity: int | None = None,
        service_time: float = 0.0,
        queue_limit: int | None = None,
        overload: Fault = DEFAULT_TRANSIENT[0],
    ) -> None:
        self.username = username
        self._password = password
        self.host = host
        self.port = port
        self.create_missing = create_missing
        self.record = record
        self.max_body_size = max_body_size
        self.latency = check_seconds("latency", latency)
        self._slots = Capacity(capacity, queue_limit)
        self.service_time = check_seconds("service_time", service_time)
        if not isinstance(overload, Fault) or overload.kind != "status":
            raise ValueError(f"overload must be a Fault.status(...), got {overload!r}")
        self.overload = overload
        userpass = f"{username}:{password}".encode()
        self._expected_userpass = userpass
        self._expected_header = b"Basic " + base64.b64encode(userpass)

        self._infos: Mapping[Endpoint, EndpointInfo] = describe(RESOURCES)
        self._routes = Routes(RESOURCES)
        collections = {i.collection.name: i.collection for i in self._infos.values()}
        self._store = Store(collections.values())
        self._handlers = Handlers(self._store, self._infos)
        self._conversations = types.MappingProxyType(self._store.items[_CONVERSATION.collection])
        self.requests: list[RecordedRequest] = []
        self._faults = FaultSchedule()

        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._bound_port: int | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._runner is not None else "not running"
        return (
            f"<FakeShopServer {where} user={self.username!r} "
            f"conversations={len(self._conversations)} requests={len(self.requests)}>"
        )

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and serve; :attr:`base_url` is valid afterwards."""
        if self._runner is not None:
            raise RuntimeError("FakeShopServer is already running")
        app = web.Application(client_max_size=self.max_body_size)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, backlog=1024)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._bound_port = int(runner.addresses[0][1])
        self._closing = asyncio.Event()
        self._runner = runner

    async def close(self) -> None:
        """Stop serving and drop open connections; safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._closing is not None:
            self._closing.set()  # wakes delay faults so shutdown does not wait for them
        self._slots.admit_waiting(closing=True)  # every waiter gets a slot, then is dropped
        await runner.cleanup()

    async def __aenter__(self) -> FakeShopServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        if self._runner is None or self._bound_port is None:
            raise RuntimeError("FakeShopServer is not running; start it first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._bound_port}"

    # -- data -----------------------------------------------------------------------------

    def add(self, conversation: MessageConversation) -> None:
        """Store ``conversation`` (replacing the one with the same shop and id)."""
        if not isinstance(conversation, MessageConversation):
            raise TypeError(f"expected a MessageConversation, got {type(conversation).__name__}")
        self._store.put(_CONVERSATION.collection, (conversation.shop_id,), conversation)

    def seed(self, n: int, *, shop_id: int = 1, start_id: int = 1) -> list[MessageConversation]:
        """Store ``n`` realistic conversations with ids ``start_id..`` and return them.

        The data is a pure function of the ids, so two runs see the same conversations.
        """
        out = [sample_conversation(shop_id, start_id + i) for i in range(n)]
        for conversation in out:
            self._store.put(_CONVERSATION.collection, (shop_id,), conversation)
        return out

    def get(self, shop_id: int, conversation_id: int) -> MessageConversation | None:
        """The stored conversation, or ``None``."""
        found: MessageConversation | None = self._store.get(
            _CONVERSATION.collection, (shop_id,), conversation_id
        )
        return found

    @property
    def conversations(self) -> Mapping[tuple[int, int], MessageConversation]:
        """Every stored conversation by ``(shop_id, id)`` (a live, read-only view)."""
        view: Mapping[tuple[int, int], MessageConversation] = self._conversations  # type: ignore[assignment]
        return view

    def put_count(self, conversation_id: int) -> int:
        """How many PUTs were routed to that id, whatever their answer (faults included)."""
        return self._store.count(
            self._store.routed, _CONVERSATION.collection, "PUT", conversation_id
        )

    def saves(self, conversation_id: int) -> int:
        """How many PUTs for that id were actually stored."""
        return self._store.count(
            self._store.stored, _CONVERSATION.collection, "PUT", conversation_id
        )

    def post_count(self, conversation_id: int) -> int:
        """How many message POSTs were routed to that conversation (faults included)."""
        return self._store.count(self._store.routed, _MESSAGE.collection, "POST", conversation_id)

    def messages(self, shop_id: int, conversation_id: int) -> list[MessageChanges]:
        """The conversation's stored messages, oldest first (a copy)."""
        scope = (shop_id, conversation_id)
        found: list[MessageChanges] = self._store.page(_MESSAGE.collection, scope, 0, _EVERYTHING)
        return found

    def seed_messages(self, shop_id: int, conversation_id: int, n: int) -> list[MessageChanges]:
        """Store ``n`` messages in a stored conversation and return them.

        Enum values are integers; the server renders them in XML with its own names
        (:data:`MESSAGE_SENDER_NAMES`, :data:`MESSAGE_TYPE_NAMES`), as the real one would
        with the mapping the API does not document.
        """
        if self.get(shop_id, conversation_id) is None:
            raise KeyError(f"no conversation {conversation_id} in shop {shop_id}; seed it first")
        out = []
        for i in range(n):
            message = sample_message(conversation_id, self._store.take_id(_MESSAGE.collection), i)
            self._store.put(_MESSAGE.collection, (shop_id, conversation_id), message)
            out.append(message)
        return out

    def seed_endpoint(
        self,
        endpoint: Endpoint,
        values: Mapping[str, int | str],
        n: int = 1,
        *,
        changed: datetime | None = None,
    ) -> list[Any]:
        """Store what a call of ``endpoint`` at the path ``values`` finds, for any
        endpoint of :data:`shopapi._resources.RESOURCES`.

        Its parents (the conversation of a message) are stored first where missing;
        then, if the path names an item by its identity (a GET or an UPDATE), that item
        where missing; else ``n`` new items under the next identities, their key fields
        those of the path (for a LIST, an INSERT, or a GET by code, which finds the
        first). Each is a sample, a pure function of its ids.

        Args:
            endpoint: One of the descriptions' endpoints.
            values: Its path parameters, by Python name (``{"shop_id": 1, ...}``).
            n: How many new items a list or an insert gets.
            changed: When the new items last changed, which the list's date filters
                (``fromDateChanged`` ...) compare: their change-date field where their
                type shows one (``ChangedTimestamp``), else the change time the server
                records (the orders page is cut before its field). By default the
                sample's date, or now where the server records it.

        Returns:
            The items stored, parents first.

        Raises:
            KeyError: ``values`` lacks one of the endpoint's path parameters.
        """
        info = self._infos[endpoint]
        out = [item for p in info.parents for item in self.seed_endpoint(p, values)]
        collection = info.collection
        scope = info.scope_of(values)
        if scope is None:
            raise KeyError(f"{endpoint.path} needs {collection.scope}, got {dict(values)}")
        fixed: dict[str, object] = {
            f: values[p] for p, f in collection.fields.items() if p in values
        }
        when = change_field(collection.stored)
        if changed is not None and when is not None:
            fixed[when] = changed
        if info.identity_param is not None:
            ident = values[info.identity_param]
            if self._store.get(collection.name, scope, ident) is None:
                item_id = ident if isinstance(ident, int) else 1
                item = sample_item(collection.stored, item_id, fixed)
                self._store.put(collection.name, scope, item, changed=changed)
                out.append(item)
            return out
        if collection.identity is None and endpoint.role is Role.GET:
            # Its URL names the item (no id field shows): one, if none is stored there.
            if self._store.page(collection.name, scope, 0, 1):
                return out
            n = 1
        for i in range(n):
            new_id = self._store.take_id(collection.name)
            own = {} if collection.identity is None else {collection.identity: new_id}
            item = sample_item(collection.stored, new_id, {**fixed, **own}, i)
            self._store.put(collection.name, scope, item, new_id, changed)
            out.append(item)
        return out

    def store(
        self,
        endpoint: Endpoint,
        values: Mapping[str, int | str],
        item: Any,
        *,
        changed: datetime | None = None,
    ) -> Any:
        """Store ``item`` where a call of ``endpoint`` at the path ``values`` finds it
        (replacing the one with its identity), for data a test chooses itself: a product
        group tree, say. Its parents are not stored for it (:meth:`seed_endpoint` them).

        Args:
            endpoint: One of the descriptions' endpoints.
            values: Its path parameters, by Python name, that scope the item.
            item: A model of the endpoint's answer or body (or of the collection's stored
                type); it is stored as the stored type, field by field.
            changed: Its change time, as for :meth:`seed_endpoint`.

        Returns:
            The item as stored.

        Raises:
            KeyError: ``values`` lacks one of the collection's scope parameters.
            TypeError: ``item`` is not of one of those types.
        """
        info = self._infos[endpoint]
        collection = info.collection
        allowed = {t for t in (endpoint.answer, endpoint.body, collection.stored) if t}
        if type(item) not in allowed:
            names = ", ".join(sorted(t.__name__ for t in allowed))
            raise TypeError(f"expected one of {names}, got {type(item).__name__}")
        scope = info.scope_of(values)
        if scope is None:
            raise KeyError(f"{endpoint.path} needs {collection.scope}, got {dict(values)}")
        stored: Any = project(item, collection.stored)
        self._store.put(collection.name, scope, stored, changed=changed)
        return stored

    # -- capacity -------------------------------------------------------------------------

    @property
    def capacity(self) -> int | None:
        """Requests served at once; set it to change the capacity during a run. Raising
        it admits waiting requests at once; lowering it lets those in service finish."""
        return self._slots.capacity

    @capacity.setter
    def capacity(self, value: int | None) -> None:
        self._slots.capacity = check_capacity("capacity", value, 1)
        self._slots.admit_waiting(self._is_closing())

    @property
    def queue_limit(self) -> int | None:
        """Requests that may wait for a slot (``None``: no limit)."""
        return self._slots.queue_limit

    @queue_limit.setter
    def queue_limit(self, value: int | None) -> None:
        self._slots.queue_limit = check_capacity("queue_limit", value, 0)

    def load(self) -> Load:
        """What the capacity model is doing and went through, as a snapshot."""
        return self._slots.load(self._slots.capacity)

    @property
    def rejections(self) -> list[float]:
        """``time.monotonic()`` of each refusal for a full queue, oldest first (a copy)."""
        return list(self._slots.rejections)

    def _is_closing(self) -> bool:
        return self._closing is not None and self._closing.is_set()

    # -- faults ---------------------------------------------------------------------------

    def inject(self, *faults: Fault, conversation_id: int | None = None) -> None:
        """Queue ``faults``, first in first out.

        With ``conversation_id``, only requests for that conversation consume them, so a
        bulk test does not depend on the order requests arrive in; without, the next
        requests of any id do. A request takes from its id's queue first. (For any
        resource, the id is the URL's most specific parameter naming an item, as
        :attr:`RecordedRequest.conversation_id` shows.)
        """
        self._faults.inject(faults, conversation_id)

    def fault_rate(
        self,
        *,
        transient: float = 0.0,
        permanent: float = 0.0,
        seed: int = 0,
        transient_faults: Sequence[Fault] = DEFAULT_TRANSIENT,
        permanent_fault: Fault = DEFAULT_PERMANENT,
    ) -> None:
        """Draw faults at random, reproducibly, for soak tests.

        Each conversation id is permanently failing with probability ``permanent``
        (every request for it gets ``permanent_fault``); every other request gets one of
        ``transient_faults`` with probability ``transient``. The draws depend only on
        ``seed``, the id and how many requests that id has had, so concurrency does not
        change the outcome. Queued faults (:meth:`inject`) take precedence.
        """
        self._faults.set_rate(
            transient=transient,
            permanent=permanent,
            seed=seed,
            transient_faults=transient_faults,
            permanent_fault=permanent_fault,
        )

    def permanently_failing(self, conversation_id: int) -> bool:
        """Whether :meth:`fault_rate` made this id fail every time."""
        return self._faults.permanently_failing(conversation_id)

    def clear_faults(self) -> None:
        """Forget queued faults and the fault rate."""
        self._faults.clear()

    # -- HTTP -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        ex = Exchange()
        response = await self._route(request, ex)
        if self.record:
            await self._record(request, ex, response)
        return response

    async def _record(
        self, request: web.Request, ex: Exchange, response: web.StreamResponse
    ) -> None:
        body = ex.body
        if body is None:
            body = b""
            size = request.content_length
            if not ex.dropped and request.body_exists and (size or 0) <= self.max_body_size:
                try:
                    body = await request.read()
                except (web.HTTPRequestEntityTooLarge, ConnectionError):
                    body = b""
        status = None if ex.dropped else (ex.status or response.status)
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=request.query,
                headers=redact_headers(request.headers),
                body=body,
                shop_id=ex.shop_id,
                conversation_id=ex.conversation_id,
                status=status,
                fault=ex.fault,
                received_at=ex.received_at,
                params=ex.params,
            )
        )

    async def _route(self, request: web.Request, ex: Exchange) -> web.StreamResponse:
        headers = request.headers
        fmt = negotiated_format(headers.get("Accept"), headers.get("Content-Type"))
        matched = self._routes.match(request.method, request.path)
        if matched is None:
            return no_route(fmt, request.url)
        info = self._infos[matched.endpoint]
        values = matched.values
        ex.params = values
        shop_id = values.get("shop_id")
        ex.shop_id = shop_id if isinstance(shop_id, int) else None
        target = None if info.target is None else values[info.target]
        ex.conversation_id = target if isinstance(target, int) else None
        if isinstance(matched, NotAllowed):
            return not_allowed(fmt, request.method, matched.allow)
        endpoint = matched.endpoint
        has_body = endpoint.body is not None
        if has_body:
            self._store.bump(self._store.routed, endpoint.collection, endpoint.method, target)
            size = request.content_length
            if size is not None and size > self.max_body_size:
                return too_large(fmt, self.max_body_size)
        early, fault = await self._admit(request, ex, fmt, read_body=has_body)
        if early is not None:
            return early
        call = Call(info, values, fmt, ex.body or b"", headers.get("Content-Type"), request.query)
        if fault is None:
            return self._handlers.answer(call, create_missing=self.create_missing)
        paging = None
        given = None
        if endpoint.role is Role.LIST:
            # The query binds, and the parent is found, before the action would run.
            if endpoint.paging is not None:
                checked = self._handlers.paging(call)
                if isinstance(checked, web.Response):
                    return checked
                paging = checked
            bound = self._handlers.filters(call)
            if isinstance(bound, web.Response):
                return bound
            given = bound
            missing = self._handlers.missing_parent(call)
            if missing is not None:
                return missing
        handlers = self._handlers
        return apply_fault(
            request,
            ex,
            fault,
            fmt,
            lambda: handlers.would_be(call, paging, given),
            endpoint.answer,
            info.shifted,
            lambda: handlers.sample(call),
        )

    async def _admit(
        self, request: web.Request, ex: Exchange, fmt: Format, *, read_body: bool = False
    ) -> tuple[web.StreamResponse | None, Fault | None]:
        """Auth, the capacity model, faults, the body and the stalls, shared by every
        endpoint.

        The body is read before any stall, as a server that has received the request
        and is slow to process it: a client that gives up meanwhile does not stop the
        update from landing.

        Returns:
            An early answer (a 401, a 413, a drop) or ``None``, and the fault to apply
            instead of processing (``None``: process normally).
        """
        if not self._authorized(request.headers.get("Authorization")):
            return unauthorized(fmt), None
        if self._slots.capacity is not None or self.service_time:
            # Before the faults: a refusal for load consumes none of them.
            outcome = await self._slots.serve(self.service_time, self._stall, self._is_closing)
            if outcome == "refused":
                ex.fault = self.overload
                return None, self.overload
            if outcome == "closing":
                return drop(request, ex), None
        fault = ex.fault = self._faults.next(ex.conversation_id)
        if fault is not None and fault.kind == "drop" and not fault.after_body:
            return drop(request, ex), None
        if read_body:
            try:
                ex.body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                ex.body = b""
                return too_large(fmt, self.max_body_size), None
            except ConnectionError:  # the client went away mid-body
                return drop(request, ex), None
        stall = self.latency
        if fault is not None and fault.kind == "delay":
            stall += fault.seconds
            fault = None
        if stall and await self._stall(stall):
            return drop(request, ex), None
        return None, fault

    def _authorized(self, header: str | None) -> bool:
        """HTTP Basic, compared in constant time."""
        if header is None:
            return False
        raw = header.encode("utf-8", "surrogateescape")
        if hmac.compare_digest(raw, self._expected_header):
            return True
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            userpass = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(userpass, self._expected_userpass)

    async def _stall(self, seconds: float) -> bool:
        """Sleep ``seconds``; ``True`` when the server began closing meanwhile."""
        closing = self._closing
        if closing is None:
            await asyncio.sleep(seconds)
            return False
        try:
            await asyncio.wait_for(closing.wait(), seconds)
        except TimeoutError:
            return False
        return True
