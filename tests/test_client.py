"""The session against the fake server over loopback: every retry, timeout, deadline,
budget, error and cancellation rule, in JSON and XML."""

from __future__ import annotations

import asyncio
import base64
import gc
import logging
import socket
import warnings
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import attrs
import pytest

from shopapi import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConnectError,
    DecodeError,
    JsonCodec,
    Limits,
    MessageConversation,
    MessageConversationChanges,
    NotFoundError,
    PlatformKindEnum,
    RateLimitError,
    RequestTimeoutError,
    ResponseMismatchError,
    ResponseTooLargeError,
    RetryPolicy,
    ServerError,
    ShopApiClient,
    Timestamp,
    ValidationError,
    XmlCodec,
)
from shopapi.codecs import Codec
from shopapi.testing import FakeShopServer, Fault

USER, PASSWORD = "user", "pa:ss wörd"
FAST = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.02)


@pytest.fixture
async def server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD) as srv:
        srv.seed(20, shop_id=1)
        yield srv


@pytest.fixture(params=["json", "xml"])
def codec(request: pytest.FixtureRequest) -> Codec:
    return JsonCodec() if request.param == "json" else XmlCodec()


def client_for(server: FakeShopServer, codec: Codec | None = None, **kw: object) -> ShopApiClient:
    kw.setdefault("retry", FAST)
    return ShopApiClient(server.base_url, auth=(USER, PASSWORD), codec=codec, **kw)  # type: ignore[arg-type]


def changes_for(server: FakeShopServer, cid: int, **kw: Any) -> MessageConversationChanges:
    conversation = server.get(1, cid)
    assert conversation is not None
    return conversation.to_changes(**kw)


async def test_update_round_trips_and_is_stored(server: FakeShopServer, codec: Codec) -> None:
    changes = changes_for(server, 3, note="line1\r\nline2 & <b>", rating=4)
    async with client_for(server, codec) as client:
        saved = await client.message_conversations.update(1, 3, changes)
    assert isinstance(saved, MessageConversation)
    assert saved.to_changes() == changes
    assert server.get(1, 3) == saved
    assert server.saves(3) == 1
    sent = server.requests[-1]
    assert sent.headers["Content-Type"].startswith(codec.media_type)
    assert sent.headers["Accept"] == codec.media_type
    assert sent.body == codec.encode(changes)


async def test_timestamps_keep_their_ticks_through_the_server(server: FakeShopServer) -> None:
    conversation = server.get(1, 4)
    assert conversation is not None
    assert conversation.creation_date is not None
    async with client_for(server, XmlCodec()) as client:
        saved = await client.message_conversations.update(1, 4, conversation.to_changes())
    assert saved.creation_date == conversation.creation_date
    assert isinstance(saved.creation_date, Timestamp)
    assert isinstance(conversation.creation_date, Timestamp)
    assert saved.creation_date.ticks == conversation.creation_date.ticks


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_transient_statuses_are_retried_until_saved(
    server: FakeShopServer, status: int
) -> None:
    server.inject(Fault.status(status), Fault.status(status), conversation_id=5)
    async with client_for(server) as client:
        saved = await client.message_conversations.update(1, 5, changes_for(server, 5, note="x"))
    assert saved.note == "x"
    assert server.put_count(5) == 3
    assert server.saves(5) == 1


async def test_retries_stop_at_max_attempts(server: FakeShopServer, codec: Codec) -> None:
    server.inject(*[Fault.status(503)] * 4, conversation_id=5)
    async with client_for(server, codec) as client:
        with pytest.raises(ServerError) as info:
            await client.message_conversations.update(1, 5, changes_for(server, 5))
    assert info.value.status == 503
    assert info.value.attempts == 4
    assert info.value.message is not None
    assert "injected" in info.value.message
    assert server.put_count(5) == 4
    assert server.saves(5) == 0


async def test_retry_after_seconds_sets_the_minimum_wait(server: FakeShopServer) -> None:
    server.inject(Fault.status(503, retry_after=1), conversation_id=6)
    async with client_for(server) as client:
        await client.message_conversations.update(1, 6, changes_for(server, 6))
    first, second = [r for r in server.requests if r.conversation_id == 6]
    assert second.received_at - first.received_at >= 0.98


async def test_retry_after_as_an_http_date(server: FakeShopServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    server.inject(Fault.status(429, retry_after=when), conversation_id=6)
    async with client_for(server) as client:
        await client.message_conversations.update(1, 6, changes_for(server, 6))
    first, second = [r for r in server.requests if r.conversation_id == 6]
    # HTTP dates have whole seconds: the wait is at least one second.
    assert second.received_at - first.received_at >= 0.9


async def test_retry_after_beyond_the_cap_fails_with_the_429(server: FakeShopServer) -> None:
    server.inject(Fault.status(429, retry_after=3600), conversation_id=6)
    policy = attrs.evolve(FAST, max_retry_after=10.0)
    async with client_for(server, retry=policy) as client:
        with pytest.raises(RateLimitError) as info:
            await client.message_conversations.update(1, 6, changes_for(server, 6))
    assert info.value.headers["Retry-After"] == "3600"
    assert server.put_count(6) == 1


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        (Fault.status(400), BadRequestError, 400),
        (Fault.status(404), NotFoundError, 404),
        (Fault.status(409), None, 409),
        (Fault.status(422), None, 422),
        (Fault.status(501), ServerError, 501),
    ],
)
async def test_other_statuses_are_never_retried(
    server: FakeShopServer, fault: Fault, error: type[Exception] | None, status: int
) -> None:
    server.inject(fault, conversation_id=7)
    async with client_for(server) as client:
        with pytest.raises(Exception) as info:
            await client.message_conversations.update(1, 7, changes_for(server, 7))
    if error is not None:
        assert isinstance(info.value, error)
    assert info.value.status == status  # type: ignore[attr-defined]
    assert info.value.attempts == 1  # type: ignore[attr-defined]
    assert server.put_count(7) == 1


async def test_server_model_state_reaches_the_error(server: FakeShopServer, codec: Codec) -> None:
    # The server checks the same rules; bypass the client's check to see its answer.
    changes = changes_for(server, 8)
    body = codec.encode(attrs.evolve(changes, customer_name="n" * 51))
    async with (
        aiohttp.ClientSession() as session,
        session.put(
            f"{server.base_url}/v1/Shops/1/MessageConversations/8",
            data=body,
            headers={
                "Content-Type": codec.media_type,
                "Accept": codec.media_type,
                "Authorization": "Basic "
                + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
            },
        ) as resp,
    ):
        raw = await resp.read()
        status, headers = resp.status, dict(resp.headers)
    from shopapi._protocol.requests import Request, api_error

    error = api_error(Request("PUT", "p", "u", {}), status, headers, raw)
    assert isinstance(error, BadRequestError)
    assert any("CustomerName" in key for key in error.model_state)


async def test_unknown_conversation_is_not_found(server: FakeShopServer) -> None:
    changes = attrs.evolve(changes_for(server, 1), id=999)
    async with client_for(server) as client:
        with pytest.raises(NotFoundError) as info:
            await client.message_conversations.update(1, 999, changes)
    assert "999" in str(info.value)


async def test_wrong_credentials(server: FakeShopServer) -> None:
    async with ShopApiClient(server.base_url, auth=(USER, "wrong"), retry=FAST) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.message_conversations.update(1, 2, changes_for(server, 2))
    assert info.value.status == 401
    assert "wrong" not in str(info.value)


async def test_invalid_changes_never_reach_the_server(server: FakeShopServer) -> None:
    bad = changes_for(server, 2, customer_email="e" * 51, host_name="h" * 51)
    async with client_for(server) as client:
        with pytest.raises(ValidationError) as info:
            await client.message_conversations.update(1, 3, bad)
    assert set(info.value.fields) == {"Id", "CustomerEmail", "HostName"}
    assert server.requests == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_connection_refused_is_retried_then_a_chained_connect_error() -> None:
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.01)
    changes = MessageConversationChanges(id=1, shop_id=1, platform_kind_enum_value=0)
    async with ShopApiClient(f"http://127.0.0.1:{free_port()}", retry=policy) as client:
        with pytest.raises(ConnectError) as info:
            await client.message_conversations.update(1, 1, changes)
    assert info.value.request_sent is False
    assert info.value.attempts == 3
    assert isinstance(info.value.__cause__, aiohttp.ClientConnectorError)


@pytest.mark.parametrize("after_body", [False, True])
async def test_dropped_connections_are_retried(
    server: FakeShopServer, codec: Codec, after_body: bool
) -> None:
    server.inject(Fault.drop(after_body=after_body), conversation_id=9)
    server.inject(Fault.drop(after_body=after_body), conversation_id=9)
    async with client_for(server, codec) as client:
        saved = await client.message_conversations.update(1, 9, changes_for(server, 9, rating=2))
    assert saved.rating == 2
    assert server.saves(9) == 1
    assert server.put_count(9) == 3


async def test_truncated_body_is_retried(server: FakeShopServer, codec: Codec) -> None:
    server.inject(Fault.truncated(), conversation_id=9)
    async with client_for(server, codec) as client:
        await client.message_conversations.update(1, 9, changes_for(server, 9))
    assert server.put_count(9) == 2


async def test_timeout_is_retried_and_then_saved(server: FakeShopServer) -> None:
    server.inject(Fault.delay(1.0), conversation_id=10)
    async with client_for(server, timeout=0.2) as client:
        saved = await client.message_conversations.update(1, 10, changes_for(server, 10, note="t"))
    assert saved.note == "t"
    assert server.put_count(10) == 2


async def test_timeouts_that_outlive_the_retries(server: FakeShopServer) -> None:
    server.inject(*[Fault.delay(1.0)] * 2, conversation_id=10)
    policy = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.01)
    async with client_for(server, timeout=0.15, retry=policy) as client:
        with pytest.raises(RequestTimeoutError) as info:
            await client.message_conversations.update(1, 10, changes_for(server, 10))
    assert info.value.attempts == 2
    assert isinstance(info.value.__cause__, TimeoutError)


async def test_deadline_shrinks_the_attempt_and_bounds_the_total(server: FakeShopServer) -> None:
    server.inject(*[Fault.delay(5.0)] * 3, conversation_id=11)
    policy = RetryPolicy(max_attempts=10, initial_backoff=0.01, max_backoff=0.01, deadline=0.5)
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with client_for(server, timeout=30.0, retry=policy) as client:
        with pytest.raises(RequestTimeoutError):
            await client.message_conversations.update(1, 11, changes_for(server, 11))
    elapsed = loop.time() - start
    assert 0.45 <= elapsed < 1.5


async def test_deadline_stops_a_wait_that_would_pass_it(server: FakeShopServer) -> None:
    server.inject(Fault.status(503, retry_after=5), conversation_id=11)
    policy = RetryPolicy(max_attempts=10, deadline=2.0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with client_for(server, retry=policy) as client:
        with pytest.raises(ServerError):
            await client.message_conversations.update(1, 11, changes_for(server, 11))
    assert loop.time() - start < 1.0
    assert server.put_count(11) == 1


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.malformed(), DecodeError),
        (Fault.wrong_content_type(), DecodeError),
        (Fault.other_conversation(), ResponseMismatchError),
    ],
)
async def test_bad_answers_are_typed_and_not_retried(
    server: FakeShopServer, codec: Codec, fault: Fault, error: type[Exception]
) -> None:
    server.inject(fault, conversation_id=12)
    async with client_for(server, codec) as client:
        with pytest.raises(error):
            await client.message_conversations.update(1, 12, changes_for(server, 12))
    assert server.put_count(12) == 1


async def test_response_size_cap(server: FakeShopServer) -> None:
    server.inject(Fault.malformed(b"x" * 300_000), conversation_id=12)
    async with client_for(server, max_response_size=100_000) as client:
        with pytest.raises(ResponseTooLargeError, match="100000"):
            await client.message_conversations.update(1, 12, changes_for(server, 12))


async def test_retry_budget_fails_fast_when_most_attempts_fail(server: FakeShopServer) -> None:
    server.fault_rate(transient=1.0, transient_faults=(Fault.status(503),))
    policy = RetryPolicy(
        max_attempts=4, initial_backoff=0.001, max_backoff=0.001, budget=20, retry_cost=5
    )
    async with client_for(server, retry=policy) as client:
        attempts = []
        for cid in range(1, 9):
            with pytest.raises(ServerError) as info:
                await client.message_conversations.update(1, cid, changes_for(server, cid))
            attempts.append(info.value.attempts)
        assert any("budget" in n for n in getattr(info.value, "__notes__", []))
    # 20 / 5 = 4 retries in all, then every call fails after its first attempt.
    assert sum(a - 1 for a in attempts) == 4
    assert attempts[-3:] == [1, 1, 1]
    server.clear_faults()
    server.fault_rate()
    async with client_for(server, retry=policy) as client:
        for cid in range(1, 6):
            await client.message_conversations.update(1, cid, changes_for(server, cid))


async def test_successes_refill_the_budget(server: FakeShopServer) -> None:
    policy = RetryPolicy(initial_backoff=0.001, max_backoff=0.001, budget=5, retry_cost=5)
    async with client_for(server, retry=policy) as client:
        server.inject(Fault.status(503), conversation_id=1)
        await client.message_conversations.update(1, 1, changes_for(server, 1))
        # The retried success gave its cost back, so another retry is affordable.
        server.inject(Fault.status(503), conversation_id=2)
        await client.message_conversations.update(1, 2, changes_for(server, 2))
    assert server.put_count(2) == 2


async def test_a_429_pauses_every_request_of_the_client(server: FakeShopServer) -> None:
    server.inject(Fault.status(429, retry_after=1), conversation_id=1)
    for cid in range(2, 6):
        server.inject(Fault.delay(0.1), conversation_id=cid)
    async with client_for(server) as client:
        first = asyncio.create_task(
            client.message_conversations.update(1, 1, changes_for(server, 1))
        )
        await asyncio.sleep(0.05)  # the 429 is in; the pause has begun
        await asyncio.gather(
            first,
            *(
                client.message_conversations.update(1, cid, changes_for(server, cid))
                for cid in range(2, 6)
            ),
        )
    refused = next(r for r in server.requests if r.status == 429)
    later = [r for r in server.requests if r.received_at > refused.received_at]
    assert len(later) == 5
    assert all(r.received_at - refused.received_at >= 0.95 for r in later)


async def test_cancellation_is_never_retried_or_swallowed(server: FakeShopServer) -> None:
    server.inject(Fault.delay(2.0), conversation_id=13)
    async with client_for(server) as client:
        task = asyncio.create_task(
            client.message_conversations.update(1, 13, changes_for(server, 13))
        )
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert server.put_count(13) == 1


async def test_cancellation_during_backoff(server: FakeShopServer) -> None:
    server.inject(Fault.status(503, retry_after=5), conversation_id=13)
    async with client_for(server, retry=RetryPolicy()) as client:
        task = asyncio.create_task(
            client.message_conversations.update(1, 13, changes_for(server, 13))
        )
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert server.put_count(13) == 1


async def test_no_unclosed_session_warning_on_any_path(server: FakeShopServer) -> None:
    server.inject(Fault.status(400), conversation_id=14)
    server.inject(Fault.delay(2.0), conversation_id=15)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with client_for(server) as client:
            await client.message_conversations.update(1, 16, changes_for(server, 16))
        with pytest.raises(BadRequestError):
            async with client_for(server) as client:
                await client.message_conversations.update(1, 14, changes_for(server, 14))

        async def cancelled() -> None:
            async with client_for(server) as client:
                await client.message_conversations.update(1, 15, changes_for(server, 15))

        task = asyncio.create_task(cancelled())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        explicit = client_for(server)
        await explicit.message_conversations.update(1, 17, changes_for(server, 17))
        await explicit.close()
        await asyncio.sleep(0)
        gc.collect()
    unclosed = [w for w in caught if "Unclosed" in str(w.message)]
    assert unclosed == []


async def test_trace_configs_see_every_attempt(server: FakeShopServer) -> None:
    starts: list[str] = []

    async def on_start(
        session: object, ctx: object, params: aiohttp.TraceRequestStartParams
    ) -> None:
        starts.append(params.method)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    server.inject(Fault.status(503), conversation_id=2)
    async with client_for(server, trace_configs=[trace]) as client:
        await client.message_conversations.update(1, 2, changes_for(server, 2))
    assert starts == ["PUT", "PUT"]


async def test_credentials_never_appear_in_errors_or_logs(
    server: FakeShopServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.inject(*[Fault.status(503)] * 4, conversation_id=2)
    server.inject(Fault.drop(), Fault.drop(), conversation_id=3)
    errors: list[BaseException] = []
    async with client_for(server) as client:
        for cid in (2, 3):
            try:
                await client.message_conversations.update(1, cid, changes_for(server, cid))
            except Exception as exc:  # noqa: BLE001 - collected to search them
                errors.append(exc)
        text = repr(client)
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert caplog.records
    haystack = caplog.text + text + "".join(repr(e) + str(e) for e in errors)
    haystack += "".join(repr(r) for r in server.requests)
    assert PASSWORD not in haystack
    assert token not in haystack


async def test_borrowed_session_stays_open_and_is_used(server: FakeShopServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with ShopApiClient(server.base_url, auth=(USER, PASSWORD), session=session) as c:
            await c.message_conversations.update(1, 2, changes_for(server, 2))
        assert not session.closed
        async with session.get(server.base_url + "/v1/Shops/1/MessageConversations/2") as r:
            assert r.status == 401  # the session itself carries no credentials


async def test_cancelled_while_waiting_for_a_concurrency_slot(server: FakeShopServer) -> None:
    server.inject(Fault.delay(1.0), conversation_id=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with client_for(server, limits=Limits(max_concurrency=1)) as client:
            busy = asyncio.create_task(
                client.message_conversations.update(1, 2, changes_for(server, 2))
            )
            await asyncio.sleep(0.1)
            waiting = asyncio.create_task(
                client.message_conversations.update(1, 3, changes_for(server, 3))
            )
            await asyncio.sleep(0.1)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            await busy
        gc.collect()
    assert server.put_count(3) == 0
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []


async def test_a_decode_error_says_which_answer_it_was(server: FakeShopServer) -> None:
    server.inject(Fault.malformed(), conversation_id=4)
    async with client_for(server) as client:
        with pytest.raises(DecodeError) as info:
            await client.message_conversations.update(1, 4, changes_for(server, 4))
    notes = getattr(info.value, "__notes__", [])
    assert any("PUT" in n and "/MessageConversations/4" in n for n in notes)


@pytest.mark.parametrize("borrowed", [False, True], ids=["own session", "borrowed session"])
def test_a_client_used_from_a_second_event_loop_is_a_configuration_error(borrowed: bool) -> None:
    """A second ``asyncio.run`` with the same client raised a bare ``RuntimeError: Event
    loop is closed`` from inside aiohttp; now it is a ConfigurationError that says what to
    do, raised before anything is sent."""
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        server = FakeShopServer(username=USER, password=PASSWORD)
        first.run_until_complete(server.start())
        server.seed(2)
        session = (
            first.run_until_complete(_new_session()) if borrowed else None  # made in `first`
        )
        client = ShopApiClient(server.base_url, auth=(USER, PASSWORD), retry=FAST, session=session)
        first.run_until_complete(client.message_conversations.update(1, 1, changes_for(server, 1)))
        with pytest.raises(ConfigurationError, match="another event loop") as info:
            second.run_until_complete(
                client.message_conversations.update(1, 2, changes_for(server, 2))
            )
        assert "one per event loop" in str(info.value)
        assert server.put_count(2) == 0
        first.run_until_complete(client.close())
        if session is not None:
            first.run_until_complete(session.close())
        first.run_until_complete(server.close())
    finally:
        first.close()
        second.close()


async def _new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


def _body(cid: int) -> MessageConversationChanges:
    return MessageConversationChanges(
        id=cid, shop_id=1, platform_kind_enum_value=PlatformKindEnum.FlowAi, note=f"n{cid}"
    )


async def test_waiting_for_a_pooled_connection_is_not_an_attempt_timeout() -> None:
    """400 calls on the client's own pool of 100, against a healthy server that takes
    0.2 s: the last ones queue for 0.6 s, longer than the 0.5 s attempt timeout. Every
    call succeeds at its first attempt and no retry budget is spent."""
    async with FakeShopServer(username=USER, password=PASSWORD, latency=0.2) as server:
        server.seed(400)
        policy = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.01)
        async with ShopApiClient(
            server.base_url, auth=(USER, PASSWORD), retry=policy, timeout=0.5
        ) as client:
            results = await asyncio.gather(
                *(client.message_conversations.update(1, c, _body(c)) for c in range(1, 401)),
                return_exceptions=True,
            )
            assert client._budget.level == policy.budget
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    assert sum(server.put_count(c) for c in range(1, 401)) == 400


async def test_a_borrowed_sessions_small_pool_is_waited_for_outside_the_timeout() -> None:
    async with FakeShopServer(username=USER, password=PASSWORD, latency=0.2) as server:
        server.seed(20)
        async with (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=4)) as session,
            ShopApiClient(
                server.base_url,
                auth=(USER, PASSWORD),
                retry=RetryPolicy.never(),
                timeout=0.5,
                session=session,
            ) as client,
        ):
            saved = await asyncio.gather(
                *(client.message_conversations.update(1, c, _body(c)) for c in range(1, 21))
            )
    assert [s.id for s in saved] == list(range(1, 21))


async def test_the_deadline_still_bounds_the_wait_for_a_connection() -> None:
    """With a pool of 2 and a server taking 0.5 s, calls 5 and 6 never get a connection
    before their 0.7 s deadline: they fail with RequestTimeoutError at the deadline,
    having made no attempt, and spend no retry budget."""
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.01, deadline=0.7)
    async with FakeShopServer(username=USER, password=PASSWORD, latency=0.5) as server:
        server.seed(6)
        async with (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2)) as session,
            ShopApiClient(
                server.base_url, auth=(USER, PASSWORD), retry=policy, session=session
            ) as client,
        ):
            loop = asyncio.get_running_loop()
            start = loop.time()

            async def call(cid: int) -> tuple[float, object]:
                try:
                    result: object = await client.message_conversations.update(1, cid, _body(cid))
                except RequestTimeoutError as exc:
                    result = exc
                return loop.time() - start, result

            ended = await asyncio.gather(*(call(c) for c in range(1, 7)))
    assert all(elapsed <= 0.7 + 0.15 for elapsed, _ in ended), ended
    assert all(isinstance(r, MessageConversation) for _, r in ended[:2])
    late = [r for _, r in ended[4:]]
    assert all(isinstance(r, RequestTimeoutError) for r in late)
    assert [r.attempts for r in late if isinstance(r, RequestTimeoutError)] == [0, 0]
    assert "deadline" in str(late[0])
    assert server.put_count(5) == server.put_count(6) == 0


@pytest.mark.parametrize("codec", [JsonCodec(), XmlCodec()], ids=["json", "xml"])
async def test_get_reads_one_full_conversation(server: FakeShopServer, codec: Codec) -> None:
    """``get()`` (an endpoint the API does not document) reads a full conversation, so a
    read-modify-write keeps every detail field."""
    async with client_for(server, codec) as client:
        conversation = await client.message_conversations.get(1, 3)
        assert conversation == server.get(1, 3)
        saved = await client.message_conversations.update(
            1, 3, conversation.to_changes(note="called back")
        )
        with pytest.raises(NotFoundError):
            await client.message_conversations.get(1, 999_999)
    assert saved.note == "called back"
    assert saved.customer_email == conversation.customer_email is not None
