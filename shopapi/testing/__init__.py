"""A fake ShopCtrl server: a real aiohttp application on 127.0.0.1, for tests and demos.

It emulates the ASP.NET Web API behind ``v1/Shops/{shopId}/MessageConversations``: HTTP
Basic auth, content negotiation by ``Accept`` (and, like Web API, by the request's
``Content-Type`` when ``Accept`` matches nothing), byte-exact compact Json.NET and
XmlSerializer bodies, ``HttpError`` bodies with ``ModelState`` for 400s, and faults on
demand. Because it is a real server on a real socket, a client under test goes through
its whole stack (connection pool, timeouts, retries) exactly as it would in production.

Use it in your own tests (pytest-asyncio)::

    import pytest
    from shopapi.testing import FakeShopServer, Fault

    @pytest.fixture
    async def shop():
        async with FakeShopServer(username="user", password="secret") as server:
            server.seed(10)                      # conversations 1..10 in shop 1
            yield server

    async def test_update_retries_a_503(shop):
        shop.inject(Fault.status(503, retry_after=0), conversation_id=3)
        ...  # point your client at shop.base_url with auth ("user", "secret")
        assert shop.put_count(3) == 2 and shop.saves(3) == 1

Endpoints: every endpoint of :data:`shopapi._resources.RESOURCES`, its route, storage and
answers derived from its description (a resource added there is served without a change
here; :meth:`FakeShopServer.seed_endpoint` seeds any of them). Paths match
case-insensitively, as ASP.NET routing does; a known path under another method is a 405
with ``Allow``, any other path a 404. Today's:

* ``PUT  /v1/Shops/{shopId}/MessageConversations/{id}``: stores the
  ``MessageConversationChanges`` and answers the stored ``MessageConversation``.
* ``GET  /v1/Shops/{shopId}/MessageConversations/{id}``: the stored conversation.
  **The real API documents no such endpoint**: none of its help pages found so far
  has a GET of a single conversation. The fake serves one so that
  ``MessageConversations.get`` (undocumented too, and said so) can be tested; a test
  passing here says nothing about whether your tenant serves it.
* ``GET  /v1/Shops/{shopId}/MessageConversations?pageSize=&pageNumber=``: a bare array
  of ``MessageConversationBasicInfo``, sorted by id; an empty page ends the list.
* ``GET  /v1/Shops/{shopId}/MessageConversations/{id}/Messages?pageSize=&pageNumber=``:
  the conversation's ``MessageBasicInfo``, oldest first, paged the same way.
* ``POST /v1/Shops/{shopId}/MessageConversations/{id}/Messages``: stores a
  ``MessageChanges`` (``Id`` 0) under a new id and answers its ``MessageBasicInfo``.
  Message enums are stored as integers and written in XML with the server's own names
  (:data:`MESSAGE_SENDER_NAMES`, :data:`MESSAGE_TYPE_NAMES`).

Faults (queue them with :meth:`FakeShopServer.inject`, or draw them at random with
:meth:`FakeShopServer.fault_rate`). Each one replaces the processing of one request;
except for ``delay``, the update it hits is **not** stored:

* ``Fault.status(code, retry_after=..., body=..., content_type=...)``: answer that
  status (default body: an ``HttpError`` whose message is ``"<Reason> (injected)"``).
* ``Fault.delay(seconds)``: stall, then answer (and store) normally, so a client
  timeout fires while the update still lands.
* ``Fault.drop(after_body=False)``: close the connection with no answer, before or
  after reading the request body.
* ``Fault.truncated()``: a 200 whose ``Content-Length`` promises more than is sent.
* ``Fault.malformed(body)``: a 200 with a body that does not parse.
* ``Fault.wrong_content_type()``: a 200 with a correct body labelled ``text/html``.
* ``Fault.other_conversation()`` (or its alias ``Fault.other_resource()``): a 200
  describing another item: its ``Id`` and the key field of the URL's most specific
  parameter (``ShopId`` on a conversation list, ``MessageConversationId`` on a messages
  page) shifted by :data:`OTHER_CONVERSATION_OFFSET`, so a client that checks the keys
  refuses it on every endpoint.

Faults apply to authenticated requests on the endpoints above (a 401 never consumes one).

A capacity model makes it behave like a server with finite workers, for adaptive
concurrency: ``FakeShopServer(capacity=4, service_time=0.02, queue_limit=16)`` serves
4 requests at once for 20 ms each, queues up to 16 more first come first served (so
latency grows with load), and answers the rest at once with 503, or with
``overload=Fault.status(429, retry_after=1)``. ``server.capacity = 2`` changes it
during a run; :meth:`FakeShopServer.load` and :attr:`FakeShopServer.rejections` say what
it went through.

Modules, one job each: ``_faults`` (the fault DSL and its schedule), ``_draws`` (seeded
draws), ``_recording`` (request recording), ``_negotiation`` (``Accept``), ``_samples``
(sample data), ``_routes`` (routing), ``_store`` (per-collection storage and counters,
and what it derives from the descriptions), ``_handlers`` (one per role), ``_answers``
(bodies and faults), ``_errors`` (ASP.NET's error answers, the one writer of their
bodies), ``_enum_names`` (the server's names for undocumented enums), ``_capacity``
(the capacity model) and ``_server`` (lifecycle and admission).
"""

from __future__ import annotations

from ._capacity import Load
from ._enum_names import MESSAGE_SENDER_NAMES as MESSAGE_SENDER_NAMES
from ._enum_names import MESSAGE_TYPE_NAMES as MESSAGE_TYPE_NAMES
from ._faults import FAULT_KINDS, OTHER_CONVERSATION_OFFSET, Fault, FaultKind
from ._recording import RecordedRequest
from ._samples import sample_conversation
from ._server import DEFAULT_MAX_BODY_SIZE, FakeShopServer

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "OTHER_CONVERSATION_OFFSET",
    "FakeShopServer",
    "Fault",
    "FaultKind",
    "Load",
    "RecordedRequest",
]

# Where tests and benchmarks found them when this was one module.
_FAULT_KINDS = FAULT_KINDS
_sample_conversation = sample_conversation
