"""One call's retry state (``CallState``): pure, driven on a fake clock, no event loop.

Each test is one branch of what ``ShopApiClient._call`` used to decide inline: the
deadline and each attempt's timeout, whether a shared wait fits, success and the budget's
refund, a 2xx that does not decode, giving up (not retryable, out of attempts, out of
budget, past the deadline, not idempotent), retrying (the wait, the budget's cost, the
client-wide 429 pause) and the log lines. The session tests (``tests/test_client*.py``)
check the same behaviour through the real loop.
"""

from __future__ import annotations

import logging
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopapi import RetryPolicy
from shopapi._exceptions import (
    ApiError,
    BadRequestError,
    DecodeError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    ShopApiError,
    TransportError,
)
from shopapi._protocol.requests import Request
from shopapi._protocol.retry import CallState, GiveUp, RetryBudget, TryAgain
from tests.test_retry import URL, dropped, refused, timed_out

PATH = "v1/Shops/1/MessageConversations/2"
PUT = Request("PUT", PATH, URL, MappingProxyType({}), b"{}", idempotent=True)
POST = Request("POST", PATH + "/Messages", URL + "/Messages", MappingProxyType({}), b"{}", False)
POLICY = RetryPolicy(max_attempts=4, initial_backoff=0.5, max_backoff=8.0)


def state(
    policy: RetryPolicy = POLICY,
    budget: RetryBudget | None = None,
    *,
    request: Request = PUT,
    now: float = 100.0,
    timeout: float = 4.0,
    pause_on_429: bool = True,
    jitter: float = 0.5,
) -> CallState:
    return CallState(
        policy,
        budget if budget is not None else RetryBudget(policy),
        request,
        now=now,
        timeout=timeout,
        pause_on_429=pause_on_429,
        jitter=lambda: jitter,
    )


def status_error(status: int, headers: dict[str, str] | None = None) -> ApiError:
    cls = {400: BadRequestError, 429: RateLimitError}.get(status, ServerError)
    return cls(status, method="PUT", url=URL, headers=headers)


def test_without_a_deadline_every_attempt_gets_the_whole_timeout_and_any_wait_fits() -> None:
    call = state()
    assert call.deadline is None
    assert call.time_left(1e9) == float("inf")
    assert call.fits(1e9, 1e9)
    assert call.attempts == 0
    assert call.start_attempt(100.0) == 4.0
    assert call.start_attempt(1e9) == 4.0
    assert call.attempts == 2


def test_the_deadline_shrinks_each_attempt_and_then_ends_the_call() -> None:
    call = state(RetryPolicy(deadline=10.0), now=100.0, timeout=4.0)
    assert call.deadline == 110.0
    assert call.start_attempt(100.0) == 4.0
    assert call.start_attempt(107.5) == 2.5  # the time left, not the attempt's timeout
    assert call.attempts == 2
    assert call.start_attempt(110.0) is None  # passed: nothing is sent, nothing counted
    assert call.attempts == 2
    error = call.deadline_passed()
    assert isinstance(error, RequestTimeoutError)
    assert (error.method, error.url, error.attempts) == ("PUT", URL, 2)
    assert str(error) == f"deadline of 10s passed (PUT {URL}, after 2 attempt(s))"


def test_a_deadline_passed_before_any_attempt_counts_none() -> None:
    call = state(RetryPolicy(deadline=1.0), now=0.0)
    assert call.time_left(1.5) == -0.5
    assert call.deadline_passed().attempts == 0


def test_a_shared_wait_fits_only_if_it_ends_before_the_deadline() -> None:
    call = state(RetryPolicy(deadline=10.0), now=100.0)
    assert call.time_left(105.0) == 5.0
    assert call.fits(4.9, 105.0)
    assert not call.fits(5.0, 105.0)  # ending exactly at the deadline is too late
    assert not call.fits(0.0, 111.0)


def test_a_first_try_success_refunds_one(caplog: pytest.LogCaptureFixture) -> None:
    policy = RetryPolicy(budget=20, retry_cost=5)
    budget = RetryBudget(policy)
    assert budget.try_spend()
    call = state(policy, budget)
    call.start_attempt(100.0)
    with caplog.at_level(logging.DEBUG, logger="shopapi"):
        call.succeeded(200)
    assert budget.level == 16
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, f"PUT {PATH} -> 200 (attempt 1)")
    ]


def test_a_retried_success_refunds_its_cost() -> None:
    policy = RetryPolicy(budget=20, retry_cost=5)
    budget = RetryBudget(policy)
    call = state(policy, budget)
    call.start_attempt(100.0)
    assert isinstance(call.failed(status_error(503), 100.1), TryAgain)
    assert budget.level == 15
    call.start_attempt(101.0)
    call.succeeded(200)
    assert budget.level == 20


def test_the_success_line_costs_nothing_when_debug_is_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    call = state()
    call.start_attempt(100.0)
    with caplog.at_level(logging.INFO, logger="shopapi"):
        call.succeeded(204)
    assert caplog.records == []


def test_a_2xx_that_does_not_decode_is_never_retried() -> None:
    budget = RetryBudget(POLICY)
    call = state(budget=budget)
    call.start_attempt(100.0)
    call.succeeded(200)
    error = DecodeError("not JSON", media_type="application/json")
    decision = call.undecodable(error, 200)
    assert decision == GiveUp(error)
    assert decision.error is error
    assert error.__notes__ == [f"shopapi: in the 200 answer to PUT {URL} (attempt 1)"]
    assert budget.level == POLICY.budget


def test_a_status_that_is_not_retried_gives_up_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    budget = RetryBudget(POLICY)
    call = state(budget=budget)
    call.start_attempt(100.0)
    call.start_attempt(101.0)
    error = status_error(400)
    with caplog.at_level(logging.DEBUG, logger="shopapi"):
        decision = call.failed(error, 101.5)
    assert decision == GiveUp(error)
    assert error.attempts == 2
    assert budget.level == POLICY.budget
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, f"PUT {PATH} -> 400 (attempt 2, giving up: status 400 is not retried)")
    ]


@pytest.mark.parametrize("error", [status_error(503), refused(), timed_out()])
def test_the_last_attempt_gives_up_with_the_attempt_count(
    error: ShopApiError, caplog: pytest.LogCaptureFixture
) -> None:
    call = state(RetryPolicy(max_attempts=3))
    for second in range(3):
        call.start_attempt(100.0 + second)
    with caplog.at_level(logging.DEBUG, logger="shopapi"):
        decision = call.failed(error, 103.0)
    assert decision == GiveUp(error)
    assert isinstance(error, (ApiError, TransportError))
    assert error.attempts == 3
    assert "giving up: 3 attempts made" in caplog.records[-1].getMessage()


def test_a_failure_that_is_not_an_answer_or_a_transport_error_keeps_its_fields() -> None:
    error = DecodeError("unreadable error body")
    decision = state().failed(error, 100.0)
    assert decision == GiveUp(error)
    assert not hasattr(error, "attempts")


def test_a_retry_waits_the_jittered_backoff_and_spends_the_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy = RetryPolicy(max_attempts=4, initial_backoff=0.5, budget=50, retry_cost=5)
    budget = RetryBudget(policy)
    call = state(policy, budget, jitter=0.5)
    call.start_attempt(100.0)
    with caplog.at_level(logging.DEBUG, logger="shopapi"):
        decision = call.failed(refused(), 100.2)
    assert decision == TryAgain(0.25, None)  # half of the first cap, 0.5 s
    assert budget.level == 45
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, f"PUT {PATH} -> ConnectError (attempt 1, retry in 0.250s)"),
        (
            logging.INFO,
            f"retrying PUT {PATH} after connection failed before the request was sent "
            "in 0.250s (attempt 2 of 4)",
        ),
    ]
    call.start_attempt(100.5)
    assert call.failed(status_error(503), 100.6) == TryAgain(0.5, None)  # cap 1.0 s now
    assert budget.level == 40


def test_a_timeout_costs_the_budget_more_than_another_failure() -> None:
    policy = RetryPolicy(budget=50, retry_cost=5, timeout_cost=10)
    budget = RetryBudget(policy)
    call = state(policy, budget)
    call.start_attempt(100.0)
    assert isinstance(call.failed(timed_out(), 104.0), TryAgain)
    assert budget.level == 40
    call.start_attempt(105.0)
    assert isinstance(call.failed(dropped(), 105.1), TryAgain)
    assert budget.level == 35


def test_an_exhausted_budget_fails_fast_and_takes_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy = RetryPolicy(budget=4, retry_cost=5)
    budget = RetryBudget(policy)
    call = state(policy, budget)
    call.start_attempt(100.0)
    error = status_error(503)
    with caplog.at_level(logging.DEBUG, logger="shopapi"):
        decision = call.failed(error, 100.1)
    assert decision == GiveUp(error)
    assert budget.level == 4
    assert error.attempts == 1
    assert error.__notes__ == ["shopapi: the client's retry budget is exhausted; not retried"]
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, f"PUT {PATH} -> 503 (attempt 1): retry budget exhausted, failing fast")
    ]


def test_a_budget_of_zero_never_stops_a_retry() -> None:
    policy = RetryPolicy(max_attempts=100, budget=0, initial_backoff=0.0, max_backoff=0.0)
    call = state(policy)
    for second in range(99):
        call.start_attempt(100.0 + second)
        assert call.failed(status_error(503), 100.0 + second) == TryAgain(0.0, None)


def test_a_429_with_retry_after_pauses_the_whole_client() -> None:
    call = state()
    call.start_attempt(100.0)
    decision = call.failed(status_error(429, {"Retry-After": "3"}), 100.1, {"Retry-After": "3"})
    assert decision == TryAgain(3.0, 3.0)


def test_a_429_pauses_only_its_own_call_without_pause_on_429() -> None:
    call = state(pause_on_429=False)
    call.start_attempt(100.0)
    decision = call.failed(status_error(429), 100.1, {"retry-after": "3"})
    assert decision == TryAgain(3.0, None)


def test_no_pause_without_a_retry_after_or_for_another_status() -> None:
    call = state(jitter=1.0)
    call.start_attempt(100.0)
    assert call.failed(status_error(429), 100.1, {}) == TryAgain(0.5, None)
    call.start_attempt(101.0)
    assert call.failed(status_error(503), 101.1, {"Retry-After": "2"}) == TryAgain(2.0, None)
    call.start_attempt(104.0)
    assert call.failed(status_error(429), 104.1, {"Retry-After": "0"}) == TryAgain(2.0, None)


def test_a_wait_past_the_deadline_gives_up(caplog: pytest.LogCaptureFixture) -> None:
    call = state(RetryPolicy(deadline=2.0), now=100.0)
    call.start_attempt(100.0)
    error = status_error(429)
    with caplog.at_level(logging.DEBUG, logger="shopapi"):
        decision = call.failed(error, 101.5, {"Retry-After": "1"})
    assert decision == GiveUp(error)
    assert "would pass the deadline (0.5s left)" in caplog.records[-1].getMessage()


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (status_error(503), False),
        (status_error(429), True),
        (refused(), True),
        (dropped(), False),
        (timed_out(), False),
    ],
)
def test_a_post_is_retried_only_where_it_provably_was_not_processed(
    error: ShopApiError, retried: bool
) -> None:
    call = state(request=POST)
    call.start_attempt(100.0)
    decision = call.failed(error, 100.1)
    assert isinstance(decision, TryAgain) is retried


@st.composite
def failures(draw: st.DrawFn) -> tuple[ShopApiError, dict[str, str] | None]:
    if draw(st.booleans()):
        return draw(st.sampled_from([refused(), dropped(), timed_out()])), None
    status = draw(st.sampled_from([400, 404, 408, 429, 500, 502, 503, 504]))
    headers = None
    if draw(st.booleans()):
        headers = {"Retry-After": str(draw(st.integers(0, 200)))}
    return status_error(status, headers), headers


@settings(max_examples=400, deadline=None)
@given(
    attempts=st.integers(1, 8),
    deadline=st.one_of(st.none(), st.floats(0.01, 100)),
    timeout=st.floats(0.01, 30),
    budget=st.integers(0, 60),
    data=st.data(),
)
def test_whole_calls_on_a_fake_clock_keep_every_bound(
    attempts: int, deadline: float | None, timeout: float, budget: int, data: st.DataObject
) -> None:
    """Runs calls the way the session does, against a clock that only the test moves:
    attempts never exceed the policy's, nothing is sent or waited past the deadline, the
    budget stays within its capacity, and a failure that ends the call carries the count."""
    policy = RetryPolicy(
        max_attempts=attempts, initial_backoff=0.1, max_backoff=2.0, deadline=deadline,
        max_retry_after=60.0, budget=budget,
    )  # fmt: skip
    shared = RetryBudget(policy)
    for _ in range(3):  # calls of one client share its budget
        now = data.draw(st.floats(0, 1000), label="start")
        call = state(policy, shared, now=now, timeout=timeout, jitter=data.draw(st.floats(0, 1)))
        while True:
            pause = data.draw(st.floats(0, 5), label="shared wait")
            if not call.fits(pause, now):
                assert deadline is not None
                break
            now += pause
            attempt_timeout = call.start_attempt(now)
            if attempt_timeout is None:
                assert call.deadline is not None
                assert now >= call.deadline
                break
            assert attempt_timeout <= timeout
            now += data.draw(st.floats(0, attempt_timeout), label="attempt")
            if data.draw(st.booleans(), label="success"):
                call.succeeded(200)
                break
            error, headers = data.draw(failures(), label="failure")
            decision = call.failed(error, now, headers)
            if isinstance(decision, GiveUp):
                assert decision.error is error
                assert isinstance(error, (ApiError, TransportError))
                assert error.attempts == call.attempts
                break
            now += decision.wait
            if call.deadline is not None:
                assert now < call.deadline
        assert call.attempts <= policy.max_attempts
        if call.deadline is not None:
            assert now <= call.deadline + 1e-9
        assert 0 <= shared.level <= policy.budget
