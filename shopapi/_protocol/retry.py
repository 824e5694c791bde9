"""When to try again: the policy, the pure decision, and the client's retry budget.

Nothing here awaits or touches the network. :func:`decide` is given what happened (a
status and its headers, or a transport error), which attempt it was and how much time
is left, and answers :class:`Retry` (wait this long) or :class:`Stop` (and why). The
session only sequences it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import attrs

from .._config import non_negative, optional_positive, positive_int
from .._exceptions import (
    ConfigurationError,
    ConnectError,
    RequestTimeoutError,
    ShopApiError,
    TransportError,
)

__all__ = [
    "RETRYABLE_STATUSES",
    "Retry",
    "RetryBudget",
    "RetryPolicy",
    "Stop",
    "decide",
    "parse_retry_after",
]

logger = logging.getLogger("shopapi")

#: 408 Request Timeout, 429 Too Many Requests, and the 5xx a loaded server gives.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def _backoff_order(instance: RetryPolicy, attribute: attrs.Attribute[float], value: float) -> None:
    non_negative(instance, attribute, value)
    if value < instance.initial_backoff:
        raise ConfigurationError(
            f"max_backoff ({value}) must be >= initial_backoff ({instance.initial_backoff})"
        )


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How hard to try. Durations are seconds.

    Args:
        max_attempts: Attempts in all, the first included (1 means never retry).
        initial_backoff: The backoff cap of the first retry; it doubles per retry.
        max_backoff: The largest backoff cap. Waits use full jitter: uniform in
            ``[0, cap]``.
        deadline: Total seconds across all attempts and waits, or ``None``. A retry
            whose wait would pass it is not made, and each attempt's timeout shrinks
            to the time left.
        max_retry_after: The longest ``Retry-After`` honoured. A server asking for
            more stops the retries (the error carries its ``Retry-After``).
        retry_statuses: The statuses retried (never any other 4xx).
        budget: Retries the client may spend before it fails fast (botocore's retry
            quota): a retry costs ``retry_cost`` (a timeout ``timeout_cost``), a first-try
            success refunds 1. ``0`` turns the budget off.
        retry_cost: See ``budget``.
        timeout_cost: See ``budget``.
    """

    max_attempts: int = attrs.field(default=4, validator=positive_int)
    initial_backoff: float = attrs.field(default=0.5, validator=non_negative)
    max_backoff: float = attrs.field(default=30.0, validator=_backoff_order)
    deadline: float | None = attrs.field(default=None, validator=optional_positive)
    max_retry_after: float = attrs.field(default=120.0, validator=non_negative)
    retry_statuses: frozenset[int] = attrs.field(default=RETRYABLE_STATUSES, converter=frozenset)
    budget: int = attrs.field(default=500)
    retry_cost: int = attrs.field(default=5, validator=positive_int)
    timeout_cost: int = attrs.field(default=10, validator=positive_int)

    @retry_statuses.validator
    def _check_statuses(self, _: attrs.Attribute[frozenset[int]], value: frozenset[int]) -> None:
        for status in value:
            if not (status in (408, 429) or 500 <= status <= 599):
                raise ConfigurationError(
                    f"retry_statuses may hold 408, 429 and 5xx only, not {status}: "
                    "other 4xx mean the request itself is wrong"
                )

    @budget.validator
    def _check_budget(self, _: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigurationError(f"budget must be an int >= 0, got {value!r}")

    @classmethod
    def never(cls) -> RetryPolicy:
        """One attempt, no retries."""
        return cls(max_attempts=1)


@attrs.frozen
class Retry:
    """Try again after ``wait`` seconds."""

    wait: float
    reason: str
    retry_after: float | None = None


@attrs.frozen
class Stop:
    """Do not try again; ``reason`` says why."""

    reason: str


_DELAY_SECONDS = re.compile(r"[0-9]+", re.ASCII)
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = r"[0-9]{2}:[0-9]{2}:[0-9]{2}"
#: RFC 9110's HTTP-date: IMF-fixdate, and the obsolete rfc850-date and asctime-date
#: forms that recipients must still accept.
_HTTP_DATE = re.compile(
    rf"{_DAY}, [0-9]{{2}} {_MONTH} [0-9]{{4}} {_TIME} GMT"
    rf"|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), "
    rf"[0-9]{{2}}-{_MONTH}-[0-9]{{2}} {_TIME} GMT"
    rf"|{_DAY} {_MONTH} [ 0-9][0-9] {_TIME} [0-9]{{4}}",
    re.ASCII,
)
#: Longer digit runs are read as this many seconds: more than any cap, and clear of
#: Python's limit on converting long digit strings.
_HUGE_DELAY = 1e18


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds; ``None`` if absent or not what RFC 9110 allows.

    Only the two forms of RFC 9110 section 10.2.3 are read: delay-seconds (ASCII digits
    only, ``"120"``) and an HTTP-date (a date in the past gives 0). Anything else
    (``"1.5"``, ``"1_0"``, ``"+3"``, ``"-4"``, non-ASCII digits, ``"nan"``) is logged at
    WARNING and ignored: it never becomes a wait, because Python's ``float()`` reads
    far more than the RFC allows and a misread header must not stall a client.
    """
    if value is None:
        return None
    text = value.strip(" \t")  # the optional whitespace around a field value
    if _DELAY_SECONDS.fullmatch(text):
        return float(int(text)) if len(text) <= 18 else _HUGE_DELAY
    if _HTTP_DATE.fullmatch(text):
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            reference = now if now is not None else datetime.now(UTC)
            return max(0.0, (when - reference).total_seconds())
    logger.warning(
        "ignoring Retry-After %s: neither delay-seconds nor an HTTP-date (RFC 9110)",
        ascii(text[:100]),
    )
    return None


def _retryable_error(error: ShopApiError, idempotent: bool) -> str | None:
    """Why a transport error may be retried, or ``None``."""
    if isinstance(error, ConnectError):
        if not error.request_sent:
            return "connection failed before the request was sent"
        return "connection dropped" if idempotent else None
    if isinstance(error, RequestTimeoutError):
        return "attempt timed out" if idempotent else None
    return None


def decide(
    policy: RetryPolicy,
    *,
    attempt: int,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
    error: ShopApiError | None = None,
    time_left: float | None = None,
    jitter: float = 1.0,
    idempotent: bool = True,
    now: datetime | None = None,
) -> Retry | Stop:
    """Whether attempt number ``attempt`` (from 1) should be followed by another.

    Args:
        policy: The retry policy.
        attempt: The attempt that just ended, counting from 1.
        status: Its HTTP status, when there was an answer.
        headers: The answer's headers (for ``Retry-After``).
        error: The transport error, when there was no answer.
        time_left: Seconds left before the deadline, or ``None`` for no deadline.
        jitter: A number in ``[0, 1]``; the backoff is ``jitter * cap`` (full jitter).
            Passed in so that the decision stays pure and testable.
        idempotent: ``False`` for a POST: then only failures that provably never
            reached the server, and 429, are retried.
        now: The current time, for ``Retry-After`` dates.

    Returns:
        :class:`Retry` with the wait in seconds, or :class:`Stop` with the reason.
    """
    if status is not None:
        if status not in policy.retry_statuses:
            return Stop(f"status {status} is not retried")
        if not idempotent and status != 429:
            return Stop(f"status {status}: a non-idempotent request may have been processed")
        reason = f"status {status}"
    elif error is not None:
        why = _retryable_error(error, idempotent)
        if why is None:
            return Stop(f"{type(error).__name__} is not retried")
        reason = why
    else:
        return Stop("nothing to retry")
    if attempt >= policy.max_attempts:
        return Stop(f"{policy.max_attempts} attempts made")

    cap = min(policy.max_backoff, policy.initial_backoff * 2.0 ** (attempt - 1))
    wait = min(max(jitter, 0.0), 1.0) * cap
    retry_after = None
    if status is not None and headers:
        retry_after = parse_retry_after(_header(headers, "Retry-After"), now=now)
        if retry_after is not None:
            if retry_after > policy.max_retry_after:
                return Stop(
                    f"Retry-After {retry_after:g}s is more than max_retry_after "
                    f"{policy.max_retry_after:g}s"
                )
            wait = max(wait, retry_after)
    if time_left is not None and wait >= time_left:
        return Stop(f"waiting {wait:.3g}s would pass the deadline ({time_left:.3g}s left)")
    return Retry(wait, reason, retry_after)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lower = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lower), None)
    return value


class RetryBudget:
    """A client-wide allowance of retries, refilled by successes (botocore's retry quota).

    When most recent attempts fail, the budget drains and the client fails fast
    instead of multiplying the load on a struggling server. Not thread-safe; one per
    client, used from its event loop.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        self._capacity = policy.budget
        self._level = policy.budget
        self._retry_cost = policy.retry_cost
        self._timeout_cost = policy.timeout_cost

    @property
    def level(self) -> int:
        """What is left to spend."""
        return self._level

    @property
    def enabled(self) -> bool:
        """``False`` when the policy turned the budget off (``budget=0``)."""
        return self._capacity > 0

    def try_spend(self, error: TransportError | None = None) -> bool:
        """Take the cost of one retry; ``False`` (and nothing taken) if it is not there."""
        if not self.enabled:
            return True
        cost = self._timeout_cost if isinstance(error, RequestTimeoutError) else self._retry_cost
        if cost > self._level:
            return False
        self._level -= cost
        return True

    def refund(self, retried: bool) -> None:
        """Record a success: a retried success returns its cost, a first try refunds 1."""
        if self._level < self._capacity:  # full (or disabled, at 0 of 0): nothing to do
            self._level = min(self._capacity, self._level + (self._retry_cost if retried else 1))
