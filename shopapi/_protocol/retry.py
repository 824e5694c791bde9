"""When to try again: the policy, the pure decisions, and the client's retry budget.

Nothing here awaits or touches the network. :func:`decide` is given what happened (a
status and its headers, or a transport error), which attempt it was and how much time
is left, and answers :class:`Retry` (wait this long) or :class:`Stop` (and why).
:class:`CallState` holds one call's side of it (an h11-style state machine fed with the
clock's readings and each attempt's outcome): the deadline, each attempt's timeout,
whether a shared wait fits, the retry budget, the attempt count and the log lines. The
session only sequences it: wait, take the slots, send, tell the state, do what it says.
"""

from __future__ import annotations

import logging
import math
import random
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import attrs

from .._config import non_negative, optional_positive, positive_int
from .._exceptions import (
    ApiError,
    ConfigurationError,
    ConnectError,
    DecodeError,
    RequestTimeoutError,
    ShopApiError,
    TransportError,
)

if TYPE_CHECKING:
    from .requests import Request

__all__ = [
    "RETRYABLE_STATUSES",
    "CallState",
    "GiveUp",
    "Retry",
    "RetryBudget",
    "RetryPolicy",
    "Stop",
    "TryAgain",
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


@attrs.frozen
class TryAgain:
    """A :class:`CallState` decision: send again after ``wait`` seconds.

    Attributes:
        wait: Seconds to sleep before the next attempt.
        pause: Seconds every request of the client waits from now (a 429's
            ``Retry-After``, when ``Limits.pause_on_429``), or ``None``.
    """

    wait: float
    pause: float | None = None


@attrs.frozen
class GiveUp:
    """A :class:`CallState` decision: the call fails with ``error`` (attempts set)."""

    error: ShopApiError


class CallState:
    """One call's retries, decided without an event loop (the session only sequences).

    Fed the clock's readings (``now``, in the session's clock: ``loop.time()``) and each
    attempt's outcome, it decides everything about the retries: the deadline and each
    attempt's timeout, whether a shared wait (the 429 pause, the rate limit) fits in the
    time left, what a failure means (:class:`TryAgain` or :class:`GiveUp`, and whether
    the whole client pauses), spending and refunding the client's retry budget, the
    attempt count on errors, and the words and levels of the log lines. A 2xx whose
    body does not read is never retried (:meth:`undecodable`).

    The protocol, per attempt: :meth:`start_attempt` (after the waits and the slots),
    then :meth:`succeeded` or :meth:`failed`.

    Args:
        policy: The client's retry policy.
        budget: The client's retry budget, shared by its calls.
        request: The request: its method, URL and path for errors and logs, and
            whether it is idempotent.
        now: The clock's reading when the call starts; the deadline counts from it.
        timeout: Seconds per attempt (the deadline, if any, shrinks it).
        pause_on_429: Whether a 429's ``Retry-After`` pauses every request of the client.
        jitter: Draws a number in ``[0, 1]`` per retry (full jitter); injectable for tests.
    """

    __slots__ = (
        "_budget",
        "_jitter",
        "_pause_on_429",
        "_policy",
        "_request",
        "_timeout",
        "attempts",
        "deadline",
    )

    def __init__(
        self,
        policy: RetryPolicy,
        budget: RetryBudget,
        request: Request,
        now: float,
        timeout: float,
        pause_on_429: bool = True,
        *,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._policy = policy
        self._budget = budget
        self._request = request
        self._timeout = timeout
        self._pause_on_429 = pause_on_429
        self._jitter = jitter
        #: Attempts started (sent) so far.
        self.attempts = 0
        #: When the call must have ended, in the clock of ``now``; ``None``: never.
        self.deadline = None if policy.deadline is None else now + policy.deadline

    def time_left(self, now: float) -> float:
        """Seconds before the deadline (``inf`` without one; negative once passed)."""
        return math.inf if self.deadline is None else self.deadline - now

    def fits(self, wait: float, now: float) -> bool:
        """Whether a shared wait of ``wait`` seconds ends before the deadline.

        A pause or a rate-limit wait that would outlast the call's deadline fails the
        call at once instead of carrying it past it (``TokenBucket.acquire_within`` is
        given :meth:`time_left` and applies the same rule).
        """
        return wait < self.time_left(now)

    def deadline_passed(self) -> RequestTimeoutError:
        """The error a call fails with when its deadline passes before it ends."""
        return RequestTimeoutError(
            f"deadline of {self._policy.deadline:g}s passed",
            method=self._request.method,
            url=self._request.url,
            attempts=self.attempts,
        )

    def start_attempt(self, now: float) -> float | None:
        """Count an attempt about to be sent; return its timeout in seconds, or ``None``
        when the deadline has passed (send nothing: fail with :meth:`deadline_passed`).

        Called once the waits and slots are behind it: waiting for them is not part of
        the attempt, so only the deadline, never the attempt's timeout, bounds them.
        """
        if self.deadline is None:
            self.attempts += 1
            return self._timeout
        left = self.deadline - now
        if left <= 0:
            return None
        self.attempts += 1
        return min(self._timeout, left)

    def succeeded(self, status: int) -> None:
        """A 2xx arrived: refund the budget (a retried success its cost, else 1)."""
        if logger.isEnabledFor(logging.DEBUG):
            request = self._request
            logger.debug(
                "%s %s -> %d (attempt %d)", request.method, request.path, status, self.attempts
            )
        self._budget.refund(retried=self.attempts > 1)

    def undecodable(self, error: DecodeError, status: int) -> GiveUp:
        """A 2xx whose body does not read: never retried, since the server said it
        succeeded and the request may well have taken effect. Gives up with ``error``,
        noted with the answer it was in."""
        request = self._request
        error.add_note(
            f"shopapi: in the {status} answer to {request.method} {request.url} "
            f"(attempt {self.attempts})"
        )
        return GiveUp(error)

    def failed(
        self, error: ShopApiError, now: float, headers: Mapping[str, str] | None = None
    ) -> TryAgain | GiveUp:
        """What the attempt's failure means: try again (after how long, pausing the
        client or not), or give up with ``error``.

        Args:
            error: An :class:`ApiError` for an error answer, or the
                :class:`TransportError` of an attempt that got none.
            now: The clock's reading.
            headers: The error answer's headers, as received (for ``Retry-After``).
        """
        request = self._request
        attempts = self.attempts
        status = error.status if isinstance(error, ApiError) else None
        decision = decide(
            self._policy,
            attempt=attempts,
            status=status,
            headers=headers,
            error=error if status is None else None,
            time_left=None if self.deadline is None else self.deadline - now,
            jitter=self._jitter(),
            idempotent=request.idempotent,
        )
        outcome = status if status is not None else type(error).__name__
        if not isinstance(decision, Retry):
            logger.debug(
                "%s %s -> %s (attempt %d, giving up: %s)",
                request.method,
                request.path,
                outcome,
                attempts,
                decision.reason,
            )
            _set_attempts(error, attempts)
            return GiveUp(error)
        if not self._budget.try_spend(error if isinstance(error, TransportError) else None):
            logger.info(
                "%s %s -> %s (attempt %d): retry budget exhausted, failing fast",
                request.method,
                request.path,
                outcome,
                attempts,
            )
            _set_attempts(error, attempts)
            error.add_note("shopapi: the client's retry budget is exhausted; not retried")
            return GiveUp(error)
        logger.debug(
            "%s %s -> %s (attempt %d, retry in %.3fs)",
            request.method,
            request.path,
            outcome,
            attempts,
            decision.wait,
        )
        logger.info(
            "retrying %s %s after %s in %.3fs (attempt %d of %d)",
            request.method,
            request.path,
            decision.reason,
            decision.wait,
            attempts + 1,
            self._policy.max_attempts,
        )
        pause = None
        if status == 429 and decision.retry_after and self._pause_on_429:
            pause = decision.retry_after
        return TryAgain(decision.wait, pause)


def _set_attempts(error: ShopApiError, attempts: int) -> None:
    if isinstance(error, (ApiError, TransportError)):
        error.attempts = attempts
