"""Properties of the retry decision over whole call sequences, and the deadline as the
client really keeps it.

``tests/test_retry.py`` checks single decisions. Here a simulation replays
``ShopApiClient._call``'s loop on a fake clock (the attempt's timeout shrinks to the time
left; the attempt lasts at most that; then ``decide`` is asked with the time left) over
random outcomes, durations and jitter, and checks: attempts never exceed
``max_attempts``; waits never exceed ``max_backoff`` or the capped ``Retry-After``; the
sum of waits and attempt durations never passes the deadline. A loopback test then
checks the same bound on the real client when another request's 429 pauses it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopapi import (
    MessageConversationChanges,
    PlatformKindEnum,
    RequestTimeoutError,
    RetryPolicy,
    ShopApiClient,
)
from shopapi._exceptions import ConnectError, ShopApiError
from shopapi._protocol.retry import RETRYABLE_STATUSES, Retry, decide
from shopapi.testing import FakeShopServer, Fault
from tests.test_retry import NOW, dropped, refused, timed_out

STATUSES = sorted(RETRYABLE_STATUSES | {200, 400, 401, 404, 409, 501})


@st.composite
def outcomes(draw: st.DrawFn) -> tuple[int | None, dict[str, str] | None, ShopApiError | None]:
    """One attempt's ending: a status (maybe with Retry-After, seconds or a date) or an error."""
    if draw(st.booleans()):
        error = draw(st.sampled_from([refused(), dropped(), timed_out()]))
        return None, None, error
    status = draw(st.sampled_from(STATUSES))
    kind = draw(st.sampled_from(["none", "seconds", "date", "garbage"]))
    headers = None
    if kind == "seconds":
        headers = {"Retry-After": str(draw(st.integers(0, 400)))}
    elif kind == "date":
        seconds = draw(st.integers(-100, 400))
        headers = {"Retry-After": format_datetime(NOW + timedelta(seconds=seconds), usegmt=True)}
    elif kind == "garbage":
        garbage = ["soon", "", "inf", "nan", "-1", "1.5", "1_0", "+3"]
        headers = {"retry-after": draw(st.sampled_from(garbage))}
    return status, headers, None


policies = st.builds(
    lambda attempts, initial, extra, deadline, cap: RetryPolicy(
        max_attempts=attempts,
        initial_backoff=initial,
        max_backoff=initial + extra,
        deadline=deadline,
        max_retry_after=cap,
    ),
    st.integers(1, 12),
    st.floats(0, 5),
    st.floats(0, 60),
    st.one_of(st.none(), st.floats(0.01, 200)),
    st.floats(0, 300),
)


@settings(max_examples=2000, deadline=None)
@given(
    policy=policies,
    timeout=st.floats(0.01, 60),
    idempotent=st.booleans(),
    data=st.data(),
)
def test_a_whole_call_keeps_every_bound(
    policy: RetryPolicy, timeout: float, idempotent: bool, data: st.DataObject
) -> None:
    """Replays ``_call`` on a fake clock: attempts, waits and the deadline all hold."""
    now = 0.0
    attempt = 0
    spent_waiting = spent_sending = 0.0
    while True:
        attempt += 1
        attempt_timeout = timeout
        if policy.deadline is not None:
            left = policy.deadline - now
            if left <= 0:
                break  # _call raises RequestTimeoutError here, sending nothing
            attempt_timeout = min(timeout, left)
        # An attempt ends by its timeout (aiohttp's total timeout); it may end sooner.
        duration = data.draw(st.floats(0, attempt_timeout), label="duration")
        now += duration
        spent_sending += duration
        status, headers, error = data.draw(outcomes(), label="outcome")
        if status is not None and 200 <= status < 300:
            break
        decision = decide(
            policy,
            attempt=attempt,
            status=status,
            headers=headers,
            error=error,
            time_left=None if policy.deadline is None else policy.deadline - now,
            jitter=data.draw(st.floats(0, 1), label="jitter"),
            idempotent=idempotent,
            now=NOW,
        )
        if not isinstance(decision, Retry):
            break
        # Never more attempts than the policy allows.
        assert attempt < policy.max_attempts
        # A wait is the backoff (<= max_backoff) or an honoured Retry-After (<= its cap).
        assert 0 <= decision.wait <= max(policy.max_backoff, policy.max_retry_after)
        if decision.retry_after is None:
            assert decision.wait <= policy.max_backoff
        else:
            assert decision.retry_after <= policy.max_retry_after
            assert decision.wait == max(decision.retry_after, decision.wait)
            assert decision.wait <= max(policy.max_backoff, decision.retry_after)
        if not idempotent:
            assert status == 429 or (isinstance(error, ConnectError) and not error.request_sent)
        now += decision.wait
        spent_waiting += decision.wait
    assert attempt <= policy.max_attempts + 1  # the +1 is the deadline check, not a send
    if policy.deadline is not None:
        assert spent_waiting + spent_sending == pytest.approx(now)
        assert now <= policy.deadline + 1e-9


@settings(max_examples=500, deadline=None)
@given(
    policy=policies,
    attempt=st.integers(1, 20),
    status=st.sampled_from(sorted(RETRYABLE_STATUSES)),
    ahead=st.integers(-3600, 3600),
    jitter=st.floats(0, 1),
)
def test_retry_after_dates_are_capped_like_seconds(
    policy: RetryPolicy, attempt: int, status: int, ahead: int, jitter: float
) -> None:
    """A Retry-After date is the same wait as its seconds, under the same cap."""
    date = format_datetime(NOW + timedelta(seconds=ahead), usegmt=True)
    by_date = decide(
        policy, attempt=attempt, status=status, headers={"Retry-After": date},
        jitter=jitter, now=NOW,
    )  # fmt: skip
    by_seconds = decide(
        policy, attempt=attempt, status=status, headers={"Retry-After": str(max(0, ahead))},
        jitter=jitter, now=NOW,
    )  # fmt: skip
    assert by_date == by_seconds


def item(cid: int) -> MessageConversationChanges:
    return MessageConversationChanges(
        id=cid, shop_id=1, platform_kind_enum_value=PlatformKindEnum.FlowAi, note="d"
    )


async def test_another_requests_429_pause_never_carries_a_call_past_its_deadline() -> None:
    """The deadline bounds the whole call, including the client-wide 429 pause.

    B starts at t=0 with a 3.0 s deadline; its first attempt times out at 1.5 s and it
    retries. A starts at 1.2 s and gets a 429 with Retry-After 2 s (within A's own
    time left; RFC 9110 allows whole seconds only), which pauses every request of the
    client until 3.2 s. B must end by its deadline, not wait out a pause that outlives it.
    """
    policy = RetryPolicy(max_attempts=5, initial_backoff=0.01, max_backoff=0.01, deadline=3.0)
    async with FakeShopServer(username="u", password="p") as server:
        server.seed(2)
        server.inject(Fault.delay(5.0), conversation_id=1)
        server.inject(Fault.status(429, retry_after=2), conversation_id=2)
        async with ShopApiClient(
            server.base_url, auth=("u", "p"), retry=policy, timeout=1.5
        ) as client:
            loop = asyncio.get_running_loop()
            start = loop.time()

            async def b() -> float:
                with contextlib.suppress(RequestTimeoutError):
                    await client.message_conversations.update(1, 1, item(1))
                return loop.time() - start

            async def a() -> None:
                await asyncio.sleep(1.2)
                await client.message_conversations.update(1, 2, item(2))

            elapsed, _ = await asyncio.gather(b(), a())
    assert policy.deadline is not None
    assert elapsed <= policy.deadline + 0.1, f"B ended {elapsed:.2f}s after it started"
