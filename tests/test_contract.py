"""The contract tests: every endpoint of :data:`shopapi._resources.RESOURCES` x JSON/XML x
the standard faults, through the client's typed methods, against the fake server.

Nothing here names a resource: the cases, the path values, the bodies, the seeded data
and the expected answers all derive from the descriptions, so a resource added to
``RESOURCES`` gets its contract tests without a test written for it. Methods are reached
by the conventions: ``getattr(client, Resource.name)``, then ``Endpoint.name`` (a paged
list's one page as ``{name}_page``), the path values positionally in template order,
the body last.

One server serves the whole module (its data is kept apart by fresh path values per
test); retries back off for a millisecond.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any, Final

import aiohttp
import attrs
import pytest
import pytest_asyncio

from shopapi import (
    AuthenticationError,
    DecodeError,
    JsonCodec,
    NotFoundError,
    ResponseMismatchError,
    RetryPolicy,
    ServerError,
    ShopApiClient,
    TransportError,
    ValidationError,
    XmlCodec,
)
from shopapi._protocol.errorbody import parse_error_body
from shopapi._resources import RESOURCES
from shopapi._resources.spec import Endpoint, Resource, Role
from shopapi._wire.fields import Kind, wire_fields
from shopapi.codecs import Codec
from shopapi.testing import FakeShopServer, Fault
from shopapi.testing._enum_names import to_wire_names
from shopapi.testing._samples import sample_item
from shopapi.testing._store import EndpointInfo, describe, project

pytestmark = pytest.mark.asyncio(loop_scope="module")

USER, PASSWORD = "contract", "contract-pw"
FAST: Final = RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.002)
INFOS: Final = describe(RESOURCES)
FORMATS: Final = ("json", "xml")
_IDS = itertools.count(100)


@attrs.frozen
class Case:
    """One endpoint, one format, one fault."""

    resource: Resource
    endpoint: Endpoint
    fmt: str
    fault: str

    @property
    def info(self) -> EndpointInfo:
        return INFOS[self.endpoint]

    def __str__(self) -> str:
        return f"{self.resource.name}.{self.endpoint.name}-{self.fmt}-{self.fault}"


def _invalid_field(endpoint: Endpoint) -> tuple[str, str, int] | None:
    """A string field of the body with a maximum length: (name, wire, limit)."""
    assert endpoint.body is not None
    for f in wire_fields(endpoint.body):
        if f.kind is Kind.STR and f.max_length is not None:
            return f.name, f.wire, f.max_length
    return None


def _faults(endpoint: Endpoint) -> Iterator[str]:
    """The standard faults that apply to ``endpoint``."""
    info = INFOS[endpoint]
    yield "ok"
    if endpoint.body is not None and _invalid_field(endpoint) is not None:
        yield "invalid_body"
    if endpoint.insert_id is not None:
        yield "insert_id_not_zero"
    yield "unauthorized"
    if info.identity_param is not None or info.parents or endpoint.role in (Role.GET, Role.UPDATE):
        yield "not_found"
    yield "rate_limited"
    yield "unavailable"
    yield "drop_before_body"
    yield "drop_after_body"
    if endpoint.answer is not None:
        # (An answer with no model has no body to cut short, or to garble.)
        yield "truncated"
        yield "malformed"
        yield "wrong_content_type"
    if endpoint.answer is not None and endpoint.keys:
        yield "other_resource"


CASES: Final = [
    Case(resource, endpoint, fmt, fault)
    for resource in RESOURCES
    for endpoint in resource.endpoints
    for fmt in FORMATS
    for fault in _faults(endpoint)
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _no_faults_left(server: FakeShopServer) -> Iterator[None]:
    server.clear_faults()
    yield
    server.clear_faults()


def codec_of(case: Case) -> Codec:
    return JsonCodec() if case.fmt == "json" else XmlCodec()


def client_for(server: FakeShopServer, case: Case, password: str = PASSWORD) -> ShopApiClient:
    return ShopApiClient(server.base_url, auth=(USER, password), codec=codec_of(case), retry=FAST)


def fresh_values(endpoint: Endpoint) -> dict[str, int | str]:
    """Path values no earlier test used, so each test sees only what it seeds."""
    return {
        p.name: next(_IDS) if p.type is int else f"CODE-{next(_IDS)}" + "/x" * p.catch_all
        for p in endpoint.params
    }


def wire_form(case: Case, obj: Any) -> Any:
    """``obj`` as it travels in the case's format (the server's enum names in XML)."""
    if case.fmt != "xml":
        return obj
    if isinstance(obj, list):
        return [to_wire_names(o) for o in obj]
    return to_wire_names(obj)


def mine(case: Case, seeded: list[Any]) -> list[Any]:
    """The seeded items of the endpoint's own collection (not its parents)."""
    return [i for i in seeded if type(i) is case.info.collection.stored]


def body_for(case: Case, values: dict[str, int | str], seeded: list[Any]) -> Any:
    """A valid body for the call: the stored item for an update (a sample one when
    nothing is stored), a sample with identity 0 for an insert."""
    endpoint, collection = case.endpoint, case.info.collection
    assert endpoint.body is not None
    stored = mine(case, seeded)
    if endpoint.role is Role.UPDATE and stored:
        return wire_form(case, project(stored[-1], endpoint.body))
    fixed: dict[str, object] = {f: values[p] for p, f in collection.fields.items() if p in values}
    if endpoint.insert_id is not None:
        fixed[endpoint.insert_id] = 0
    item_id: object = next(_IDS)
    if collection.identity is not None:  # (no id field shows: nothing to fix)
        item_id = fixed.setdefault(collection.identity, item_id)
    assert isinstance(item_id, int)
    return wire_form(case, project(sample_item(collection.stored, item_id, fixed), endpoint.body))


def seed(case: Case, server: FakeShopServer, values: dict[str, int | str]) -> list[Any]:
    """What the call finds: 3 items for a list, the addressed item (a new one for an
    update whose path names none), and the parents."""
    n = {Role.LIST: 3, Role.GET: 1, Role.UPDATE: 1}.get(case.endpoint.role, 0)
    return server.seed_endpoint(case.endpoint, values, n=n)


async def call(
    client: ShopApiClient, case: Case, values: dict[str, int | str], body: Any, **kw: Any
) -> Any:
    """The typed method, by the conventions."""
    endpoint = case.endpoint
    methods = getattr(client, case.resource.name)
    args: list[Any] = [values[p.name] for p in endpoint.params]
    if endpoint.paging is not None:
        return await getattr(methods, f"{endpoint.name}_page")(*args, page_number=1, **kw)
    if endpoint.body is not None:
        args.append(body)
    return await getattr(methods, endpoint.name)(*args, **kw)


def expected(case: Case, seeded: list[Any], body: Any) -> Any:
    """The answer a success carries, made the way the descriptions say (as the case's
    format carries it)."""
    endpoint = case.endpoint
    answer = endpoint.answer
    if answer is None:
        return None
    if endpoint.role is Role.LIST:
        return wire_form(case, [project(i, answer) for i in mine(case, seeded)])
    if endpoint.role is Role.GET:
        return wire_form(case, project(mine(case, seeded)[0], answer))
    return project(body, answer)


async def test_every_endpoint_has_cases() -> None:
    names = {(c.resource.name, c.endpoint.name) for c in CASES}
    assert names == {(r.name, e.name) for r in RESOURCES for e in r.endpoints}
    assert {c.fault for c in CASES} >= {"ok", "unauthorized", "truncated", "other_resource"}


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_contract(case: Case, server: FakeShopServer) -> None:
    if not case.endpoint.params:
        # A collection no path scopes (GET v1/Shops/ShopStatus) lists everything stored,
        # so fresh path values cannot keep cases apart: such a case has its own server.
        async with FakeShopServer(username=USER, password=PASSWORD) as own:
            await _contract(case, own)
        return
    await _contract(case, server)


async def _contract(case: Case, server: FakeShopServer) -> None:
    endpoint = case.endpoint
    values = fresh_values(endpoint)
    seeded = [] if case.fault == "not_found" else seed(case, server, values)
    body = body_for(case, values, seeded) if endpoint.body is not None else None
    before = len(server.requests)

    def sent() -> int:
        return len(server.requests) - before

    async with client_for(server, case) as client:
        if case.fault == "ok":
            result = await call(client, case, values, body)
            want = expected(case, seeded, body)
            # An insert whose page shows no answer type answers no model (None).
            if endpoint.role is Role.INSERT and endpoint.answer is not None:
                assert endpoint.insert_id is not None
                assert getattr(result, endpoint.insert_id) != 0
                want = attrs.evolve(
                    want, **{endpoint.insert_id: getattr(result, endpoint.insert_id)}
                )
            assert result == want
            for key in endpoint.keys if endpoint.answer is not None else ():
                for item in result if isinstance(result, list) else [result]:
                    assert getattr(item, key.field) == values[key.param]
            if endpoint.paging is not None:
                methods = getattr(client, case.resource.name)
                args = [values[p.name] for p in endpoint.params]
                everything = [item async for item in getattr(methods, endpoint.name)(*args)]
                assert everything == result
            return
        if case.fault == "invalid_body":
            await _check_invalid_body(case, server, client, values, body)
            return
        if case.fault == "insert_id_not_zero":
            # "Must be 0 (for insert operations)": refused before sending, naming it.
            assert endpoint.insert_id is not None
            assert endpoint.body is not None
            assert body is not None
            bad = attrs.evolve(body, **{endpoint.insert_id: 7})
            with pytest.raises(ValidationError) as refused:
                await call(client, case, values, bad)
            wire = {f.name: f.wire for f in wire_fields(endpoint.body)}[endpoint.insert_id]
            assert wire in refused.value.fields
            assert sent() == 0
            return
        if case.fault == "unauthorized":
            async with client_for(server, case, password="wrong") as stranger:
                with pytest.raises(AuthenticationError):
                    await call(stranger, case, values, body)
            assert sent() == 1
            return
        if case.fault == "not_found":
            with pytest.raises(NotFoundError):
                await call(client, case, values, body)
            assert sent() == 1
            return
        if case.fault == "rate_limited":
            server.inject(Fault.status(429, retry_after=0))
            await call(client, case, values, body)
            assert sent() == 2
            assert server.requests[before].status == 429
            return
        fault = {
            "unavailable": Fault.status(503),
            "drop_before_body": Fault.drop(),
            "drop_after_body": Fault.drop(after_body=True),
            "truncated": Fault.truncated(),
            "malformed": Fault.malformed(),
            "wrong_content_type": Fault.wrong_content_type(),
            "other_resource": Fault.other_resource(),
        }[case.fault]
        server.inject(fault)
        if case.fault in ("malformed", "wrong_content_type", "other_resource"):
            error = ResponseMismatchError if case.fault == "other_resource" else DecodeError
            with pytest.raises(error):
                await call(client, case, values, body)
            assert sent() == 1  # an answer that does not read is not retried
            return
        if endpoint.idempotent:
            await call(client, case, values, body)
            assert sent() == 2  # retried once, then served
            return
        # An insert the server may have processed is not retried ...
        with pytest.raises(ServerError if case.fault == "unavailable" else TransportError):
            await call(client, case, values, body)
        assert sent() == 1
        # ... unless duplicates are acceptable.
        server.inject(fault)
        await call(client, case, values, body, allow_duplicates=True)
        assert sent() == 3


async def _check_invalid_body(
    case: Case,
    server: FakeShopServer,
    client: ShopApiClient,
    values: dict[str, int | str],
    body: Any,
) -> None:
    """The client refuses a too-long string without sending it, naming the field; the
    server, sent the same body, answers 400 with a ``ModelState`` naming it too."""
    found = _invalid_field(case.endpoint)
    assert found is not None
    name, wire, limit = found
    bad = attrs.evolve(body, **{name: "x" * (limit + 1)})
    before = len(server.requests)
    with pytest.raises(ValidationError) as info:
        await call(client, case, values, bad)
    assert wire in info.value.fields
    assert len(server.requests) == before
    codec = codec_of(case)
    path = case.endpoint.path
    for p in case.endpoint.params:
        path = path.replace(f"{{{p.wire}}}", str(values[p.name]))
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
        "Content-Type": codec.media_type,
        "Accept": codec.media_type,
    }
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            case.endpoint.method,
            f"{server.base_url}/{path}",
            data=codec.encode(bad),
            headers=headers,
        ) as resp,
    ):
        assert resp.status == 400
        parsed = parse_error_body(await resp.read(), resp.headers.get("Content-Type"))
    assert parsed is not None
    assert parsed.message == "The request is invalid."
    assert [k.rsplit(".", 1)[-1] for k in parsed.model_state] == [wire]
