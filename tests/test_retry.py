"""The retry decision and the retry budget: pure, tested without an event loop."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopapi import ConfigurationError, RetryPolicy
from shopapi._exceptions import (
    ConnectError,
    DecodeError,
    RequestTimeoutError,
    ResponseTooLargeError,
    TransportError,
)
from shopapi._protocol.retry import Retry, RetryBudget, Stop, decide, parse_retry_after

URL = "http://127.0.0.1/v1/Shops/1/MessageConversations/2"
NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def refused() -> ConnectError:
    return ConnectError("refused", method="PUT", url=URL, request_sent=False)


def dropped() -> ConnectError:
    return ConnectError("server disconnected", method="PUT", url=URL, request_sent=True)


def timed_out() -> RequestTimeoutError:
    return RequestTimeoutError("no answer", method="PUT", url=URL)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(status: int) -> None:
    decision = decide(RetryPolicy(), attempt=1, status=status, jitter=1.0)
    assert isinstance(decision, Retry)
    assert decision.wait == 0.5
    assert str(status) in decision.reason


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 413, 415, 422, 501, 505])
def test_other_statuses_are_never_retried(status: int) -> None:
    decision = decide(RetryPolicy(), attempt=1, status=status)
    assert isinstance(decision, Stop)
    assert str(status) in decision.reason


@pytest.mark.parametrize("error", [refused(), dropped(), timed_out()])
def test_connection_failures_and_timeouts_are_retried(error: TransportError) -> None:
    assert isinstance(decide(RetryPolicy(), attempt=1, error=error), Retry)


@pytest.mark.parametrize(
    "error",
    [
        ResponseTooLargeError("too big", method="PUT", url=URL),
        TransportError("TLS failed", method="PUT", url=URL),
        DecodeError("malformed JSON"),
    ],
)
def test_other_failures_are_not_retried(error: Exception) -> None:
    assert isinstance(decide(RetryPolicy(), attempt=1, error=error), Stop)  # type: ignore[arg-type]


def test_backoff_is_exponential_and_capped_with_full_jitter() -> None:
    policy = RetryPolicy(max_attempts=10, initial_backoff=0.5, max_backoff=3.0)
    caps = [decide(policy, attempt=a, status=503, jitter=1.0) for a in range(1, 7)]
    assert [d.wait for d in caps if isinstance(d, Retry)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    half = decide(policy, attempt=3, status=503, jitter=0.5)
    assert isinstance(half, Retry)
    assert half.wait == 1.0
    zero = decide(policy, attempt=3, status=503, jitter=0.0)
    assert isinstance(zero, Retry)
    assert zero.wait == 0.0


def test_stops_at_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert isinstance(decide(policy, attempt=2, status=503), Retry)
    stop = decide(policy, attempt=3, status=503)
    assert isinstance(stop, Stop)
    assert "3 attempts" in stop.reason
    assert isinstance(decide(RetryPolicy.never(), attempt=1, status=503), Stop)


def test_retry_after_seconds_is_the_minimum_wait() -> None:
    decision = decide(
        RetryPolicy(), attempt=1, status=429, headers={"Retry-After": "7"}, jitter=0.1
    )
    assert isinstance(decision, Retry)
    assert decision.wait == 7.0
    assert decision.retry_after == 7.0


def test_retry_after_as_http_date() -> None:
    when = format_datetime(NOW + timedelta(seconds=12), usegmt=True)
    decision = decide(RetryPolicy(), attempt=1, status=503, headers={"retry-after": when}, now=NOW)
    assert isinstance(decision, Retry)
    assert decision.wait == pytest.approx(12.0)


def test_retry_after_beyond_the_cap_stops() -> None:
    policy = RetryPolicy(max_retry_after=60.0)
    stop = decide(policy, attempt=1, status=429, headers={"Retry-After": "3600"})
    assert isinstance(stop, Stop)
    assert "max_retry_after" in stop.reason


def test_unreadable_retry_after_falls_back_to_backoff() -> None:
    decision = decide(
        RetryPolicy(), attempt=1, status=503, headers={"Retry-After": "soon"}, jitter=1.0
    )
    assert isinstance(decision, Retry)
    assert decision.wait == 0.5


def test_a_wait_that_would_pass_the_deadline_stops() -> None:
    policy = RetryPolicy(deadline=10.0)
    assert isinstance(decide(policy, attempt=1, status=503, jitter=1.0, time_left=0.6), Retry)
    stop = decide(policy, attempt=1, status=503, jitter=1.0, time_left=0.4)
    assert isinstance(stop, Stop)
    assert "deadline" in stop.reason
    late = decide(policy, attempt=1, status=429, headers={"Retry-After": "5"}, time_left=4.0)
    assert isinstance(late, Stop)


def test_non_idempotent_requests_retry_only_when_provably_unprocessed() -> None:
    assert isinstance(decide(RetryPolicy(), attempt=1, error=refused(), idempotent=False), Retry)
    assert isinstance(decide(RetryPolicy(), attempt=1, status=429, idempotent=False), Retry)
    assert isinstance(decide(RetryPolicy(), attempt=1, error=dropped(), idempotent=False), Stop)
    assert isinstance(decide(RetryPolicy(), attempt=1, error=timed_out(), idempotent=False), Stop)
    assert isinstance(decide(RetryPolicy(), attempt=1, status=503, idempotent=False), Stop)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("\t0", 0.0),
        ("Wed, 25 Nov 2026 12:00:10 GMT", 10.0),  # IMF-fixdate
        ("Wednesday, 25-Nov-26 12:00:10 GMT", 10.0),  # rfc850-date (obsolete, still read)
        ("Wed Nov 25 12:00:10 2026", 10.0),  # asctime-date (obsolete, still read)
    ],
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize(
    "value",
    [
        "1.5",
        "1_0",
        "+3",
        "-4",
        "\u0661\u0662",  # Arabic-Indic digits, which float() and int() read
        "\uff13",  # a fullwidth digit
        "1e3",
        "nan",
        "inf",
        "0x10",
        "x",
        "",
        "Wed, 25 Nov 2026 12:00:10 +0100",  # email dates with an offset are not HTTP-dates
        "25 Nov 2026 12:00:10 GMT",
        "Wed, 1 Nov 2026 12:00:10 GMT",
    ],
)
def test_retry_after_outside_rfc_9110_is_logged_and_ignored(
    value: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shopapi"):
        assert parse_retry_after(value, now=NOW) is None
    [record] = caplog.records
    assert "ignoring Retry-After" in record.getMessage()
    decision = decide(
        RetryPolicy(), attempt=1, status=503, headers={"Retry-After": value}, jitter=0.5
    )
    assert isinstance(decision, Retry)
    assert decision.retry_after is None
    assert decision.wait == 0.25  # the backoff alone


def test_a_huge_delay_seconds_stops_as_beyond_the_cap() -> None:
    stop = decide(RetryPolicy(), attempt=1, status=429, headers={"Retry-After": "9" * 5000})
    assert isinstance(stop, Stop)
    assert "max_retry_after" in stop.reason


def test_parse_retry_after_date_in_the_past_is_zero() -> None:
    past = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(past, now=NOW) == 0.0


@settings(max_examples=300)
@given(
    max_attempts=st.integers(1, 12),
    initial=st.floats(0, 5),
    extra=st.floats(0, 60),
    attempt=st.integers(1, 20),
    status=st.sampled_from([408, 429, 500, 502, 503, 504]),
    retry_after=st.one_of(st.none(), st.integers(0, 500)),
    cap=st.floats(0, 300),
    jitter=st.floats(0, 1),
    time_left=st.one_of(st.none(), st.floats(0, 100)),
)
def test_decisions_respect_every_bound(
    max_attempts: int,
    initial: float,
    extra: float,
    attempt: int,
    status: int,
    retry_after: int | None,
    cap: float,
    jitter: float,
    time_left: float | None,
) -> None:
    policy = RetryPolicy(
        max_attempts=max_attempts,
        initial_backoff=initial,
        max_backoff=initial + extra,
        max_retry_after=cap,
    )
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    decision = decide(
        policy,
        attempt=attempt,
        status=status,
        headers=headers,
        jitter=jitter,
        time_left=time_left,
    )
    if isinstance(decision, Retry):
        assert attempt < max_attempts
        assert 0 <= decision.wait <= max(policy.max_backoff, min(retry_after or 0, cap))
        if retry_after is not None:
            assert decision.wait >= retry_after
        if time_left is not None:
            assert decision.wait < time_left


def test_policy_is_frozen_and_keyword_only() -> None:
    policy = RetryPolicy()
    with pytest.raises(AttributeError):
        policy.max_attempts = 9  # type: ignore[misc]
    with pytest.raises(TypeError):
        RetryPolicy(4)  # type: ignore[call-arg]  # deliberately positional: the TypeError is the test


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": True},
        {"initial_backoff": -1},
        {"initial_backoff": 2.0, "max_backoff": 1.0},
        {"deadline": 0},
        {"deadline": float("nan")},
        {"retry_statuses": {404}},
        {"budget": -1},
    ],
)
def test_policy_validates(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_budget_drains_on_failures_and_refills_on_success() -> None:
    budget = RetryBudget(RetryPolicy(budget=20, retry_cost=5, timeout_cost=10))
    assert budget.try_spend()
    assert budget.level == 15
    assert budget.try_spend(timed_out())
    assert budget.level == 5
    assert not budget.try_spend(timed_out())
    assert budget.level == 5  # a refused spend takes nothing
    assert budget.try_spend()
    assert budget.level == 0
    assert not budget.try_spend()
    budget.refund(retried=False)
    assert budget.level == 1
    budget.refund(retried=True)
    assert budget.level == 6
    for _ in range(100):
        budget.refund(retried=True)
    assert budget.level == 20  # never above capacity


def test_budget_zero_turns_it_off() -> None:
    budget = RetryBudget(RetryPolicy(budget=0))
    assert all(budget.try_spend() for _ in range(1000))
