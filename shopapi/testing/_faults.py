"""The fault DSL: what a request may suffer, and which request suffers it. Pure.

:class:`Fault` is plain data; :class:`FaultSchedule` holds the queues
(:meth:`FakeShopServer.inject`) and the seeded rate (:meth:`FakeShopServer.fault_rate`)
and picks the fault of each request, so the choice is testable without a server.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Sequence
from typing import Final, Literal, TypeAlias

import attrs

from ._draws import draw

__all__ = [
    "FAULT_KINDS",
    "OTHER_CONVERSATION_OFFSET",
    "Fault",
    "FaultKind",
    "FaultSchedule",
    "check_seconds",
]

FaultKind: TypeAlias = Literal[
    "status", "delay", "drop", "truncated", "malformed", "wrong_content_type", "other_conversation"
]
FAULT_KINDS: Final = frozenset(
    {
        "status",
        "delay",
        "drop",
        "truncated",
        "malformed",
        "wrong_content_type",
        "other_conversation",
    }
)

#: Added to the shifted fields by ``Fault.other_conversation()``.
OTHER_CONVERSATION_OFFSET: Final = 1_000_000


def check_seconds(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _validate_kind(instance: Fault, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {value!r}; expected one of {sorted(FAULT_KINDS)}")


@attrs.frozen(repr=False)
class Fault:
    """One injected misbehaviour: plain data, built with the constructors below.

    ``repr(fault)`` is the constructor call that builds it, e.g.
    ``Fault.status(503, retry_after=2)``.

    Attributes:
        kind: Which misbehaviour.
        code: The status of a ``status`` fault.
        retry_after: The ``Retry-After`` value of a ``status`` fault.
        body: The body of a ``status`` or ``malformed`` fault (``None``: the default).
        content_type: That body's ``Content-Type`` (``None``: the negotiated one).
        seconds: How long a ``delay`` fault stalls.
        after_body: Whether a ``drop`` fault reads the request body first.
    """

    kind: FaultKind = attrs.field(validator=_validate_kind)
    code: int | None = None
    retry_after: float | str | None = None
    body: bytes | None = None
    content_type: str | None = None
    seconds: float = 0.0
    after_body: bool = False

    @classmethod
    def status(
        cls,
        code: int,
        *,
        retry_after: float | str | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Fault:
        """Answer ``code`` instead of processing the request.

        Args:
            code: An HTTP status, 200..599.
            retry_after: Sent as ``Retry-After``: a number of seconds (``2``; a whole
                float is written as an integer) or a string sent verbatim (an HTTP
                date, or garbage to test a client's parser). RFC 9110 allows whole
                seconds only: a fraction such as ``0.5`` is written as ``0.5``, which
                shopapi's client ignores (it falls back to its own backoff).
            body: The body; by default an ASP.NET ``HttpError`` in the negotiated format
                whose message is ``"<Reason> (injected)"``.
            content_type: The body's ``Content-Type``; by default the negotiated one.
        """
        if isinstance(code, bool) or not isinstance(code, int) or not 200 <= code <= 599:
            raise ValueError(f"code must be an HTTP status in 200..599, got {code!r}")
        if retry_after is not None and not isinstance(retry_after, str):
            retry_after = check_seconds("retry_after", retry_after)
        if isinstance(retry_after, str) and ("\r" in retry_after or "\n" in retry_after):
            raise ValueError("retry_after must not contain CR or LF")
        return cls(
            "status", code=code, retry_after=retry_after, body=body, content_type=content_type
        )

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Stall ``seconds``, then answer normally: the update *is* stored.

        This is the fault behind client timeouts: the client gives up while the server
        still applies the change.
        """
        return cls("delay", seconds=check_seconds("seconds", seconds))

    @classmethod
    def drop(cls, *, after_body: bool = False) -> Fault:
        """Close the connection without answering; the update is not stored.

        Args:
            after_body: Read the whole request body first (the request provably
                arrived), rather than closing before reading it.
        """
        return cls("drop", after_body=bool(after_body))

    @classmethod
    def truncated(cls) -> Fault:
        """Answer 200 with a ``Content-Length`` larger than the body sent, then close."""
        return cls("truncated")

    @classmethod
    def malformed(cls, body: bytes = b'{"Id": 1,', content_type: str | None = None) -> Fault:
        """Answer 200 with ``body`` (by default cut-off JSON) under the negotiated type."""
        return cls("malformed", body=bytes(body), content_type=content_type)

    @classmethod
    def wrong_content_type(cls) -> Fault:
        """Answer 200 with the body a success would carry, labelled ``text/html``."""
        return cls("wrong_content_type")

    @classmethod
    def other_conversation(cls) -> Fault:
        """Answer 200 with a valid answer about another item: its ``Id`` and the key field
        of the URL's most specific parameter are shifted by
        :data:`OTHER_CONVERSATION_OFFSET`.

        The shifted key is one the client must check against the URL (the endpoint's
        :class:`~shopapi._resources.spec.Key`), so on every endpoint, list pages
        included, a client that checks the keys refuses the answer.
        """
        return cls("other_conversation")

    @classmethod
    def other_resource(cls) -> Fault:
        """:meth:`other_conversation` under the name that fits every resource (the same
        fault; its ``kind`` and repr stay ``other_conversation``)."""
        return cls.other_conversation()

    def __repr__(self) -> str:
        args: list[str] = []
        if self.kind == "status":
            args.append(str(self.code))
            if self.retry_after is not None:
                args.append(f"retry_after={self.retry_after!r}")
            if self.body is not None:
                args.append(f"body={self.body!r}")
            if self.content_type is not None:
                args.append(f"content_type={self.content_type!r}")
        elif self.kind == "delay":
            args.append(repr(self.seconds))
        elif self.kind == "drop":
            if self.after_body:
                args.append("after_body=True")
        elif self.kind == "malformed":
            args.append(repr(self.body))
            if self.content_type is not None:
                args.append(f"content_type={self.content_type!r}")
        return f"Fault.{self.kind}({', '.join(args)})"


DEFAULT_TRANSIENT: Final = (Fault.status(503),)
DEFAULT_PERMANENT: Final = Fault.status(400)


@attrs.frozen
class _FaultRate:
    transient: float
    permanent: float
    seed: int
    transient_faults: tuple[Fault, ...]
    permanent_fault: Fault


class FaultSchedule:
    """Which fault, if any, the next request for an id suffers.

    Queued faults (per id first, then the shared queue) come before the seeded rate,
    whose draws depend only on the seed, the id and how many requests that id has had.
    """

    def __init__(self) -> None:
        self._attempts: Counter[int | None] = Counter()
        self._faults: deque[Fault] = deque()
        self._faults_by_id: dict[int, deque[Fault]] = {}
        self._rate: _FaultRate | None = None

    def inject(self, faults: Sequence[Fault], target: int | None) -> None:
        """Queue ``faults`` for requests about ``target`` (``None``: any request)."""
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"expected a Fault, got {type(fault).__name__}")
        if target is None:
            self._faults.extend(faults)
        else:
            self._faults_by_id.setdefault(target, deque()).extend(faults)

    def set_rate(
        self,
        *,
        transient: float,
        permanent: float,
        seed: int,
        transient_faults: Sequence[Fault],
        permanent_fault: Fault,
    ) -> None:
        """Draw faults at random from now on (see :meth:`FakeShopServer.fault_rate`)."""
        for name, p in (("transient", transient), ("permanent", permanent)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
        faults = tuple(transient_faults)
        if transient > 0 and not faults:
            raise ValueError("transient_faults must not be empty when transient > 0")
        self._rate = _FaultRate(transient, permanent, int(seed), faults, permanent_fault)

    def permanently_failing(self, target: int) -> bool:
        """Whether the rate made this id fail every time."""
        rate = self._rate
        return rate is not None and draw(rate.seed, 0, target) < rate.permanent

    def clear(self) -> None:
        """Forget queued faults and the rate."""
        self._faults.clear()
        self._faults_by_id.clear()
        self._rate = None

    def next(self, target: int | None) -> Fault | None:
        """The fault of the next request about ``target`` (counting it as an attempt)."""
        attempt = self._attempts[target]
        self._attempts[target] = attempt + 1
        if target is not None:
            queue = self._faults_by_id.get(target)
            if queue:
                fault = queue.popleft()
                if not queue:
                    del self._faults_by_id[target]
                return fault
        if self._faults:
            return self._faults.popleft()
        rate = self._rate
        if rate is None:
            return None
        keys: tuple[int, ...]
        if target is None:
            keys = (rate.seed, 2, attempt)
        else:
            if draw(rate.seed, 0, target) < rate.permanent:
                return rate.permanent_fault
            keys = (rate.seed, 1, target, attempt)
        if rate.transient and draw(*keys) < rate.transient:
            pick = int(draw(*keys, 3) * len(rate.transient_faults))
            return rate.transient_faults[min(pick, len(rate.transient_faults) - 1)]
        return None
