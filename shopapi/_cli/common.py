"""What every command shares: exit statuses, the connection options, the client, the
progress display, and the output of items as lines.

Exit status (the bulk jobs guide's table): 0 success, 1 some items failed (or, in a dry run,
were invalid), 2 usage error, 3 the journal belongs to another job, 4 the journal is in
use by another process, 5 stopped at a fatal error (no item could succeed, or the one
request of a reading command failed), 6 the journal or the failures file could not be
written, 130 interrupted, 141 the output pipe was closed.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import time
from collections.abc import Iterator, Mapping
from typing import IO, Any

from .._exceptions import ShopApiError
from .._protocol.retry import RetryPolicy
from .._session.client import Limits, ShopApiClient
from ..codecs import Codec, JsonCodec, XmlCodec
from .terminal import printable

__all__ = [
    "BROKEN_PIPE",
    "FATAL",
    "INTERRUPTED",
    "JOURNAL_LOCKED",
    "JOURNAL_MISMATCH",
    "SOME_FAILED",
    "USAGE_ERROR",
    "WRITE_FAILED",
    "Progress",
    "UsageError",
    "logging_to",
    "connect",
    "encode_line",
]

SOME_FAILED = 1
USAGE_ERROR = 2
JOURNAL_MISMATCH = 3
JOURNAL_LOCKED = 4
FATAL = 5
WRITE_FAILED = 6
INTERRUPTED = 130
#: What a shell reports for a program killed by SIGPIPE (128 + 13): ``| head`` closed it.
BROKEN_PIPE = 141

#: The environment variables the connection options fall back to.
ENV_BASE_URL = "SHOPAPI_BASE_URL"
ENV_USERNAME = "SHOPAPI_USERNAME"
ENV_PASSWORD = "SHOPAPI_PASSWORD"


class UsageError(Exception):
    """Bad arguments or environment: exit status 2."""


def base_url(args: argparse.Namespace, env: Mapping[str, str]) -> str:
    """``--base-url``, else ``SHOPAPI_BASE_URL``: the option wins.

    Raises:
        UsageError: Neither is set.
    """
    url = getattr(args, "base_url", None) or env.get(ENV_BASE_URL)
    if not url:
        raise UsageError(f"give --base-url or set {ENV_BASE_URL}")
    return url


def credentials(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[str, str]:
    """``--username``/``--password``, else ``SHOPAPI_USERNAME``/``SHOPAPI_PASSWORD``;
    each option wins over its variable.

    Raises:
        UsageError: A user name or a password is missing.
    """
    username = getattr(args, "username", None) or env.get(ENV_USERNAME)
    password = getattr(args, "password", None)
    if password is None:
        password = env.get(ENV_PASSWORD)
    if not username or password is None:
        raise UsageError(
            f"set {ENV_USERNAME} and {ENV_PASSWORD} in the environment (or give --username "
            "and --password)"
        )
    return username, password


def wire_codec(fmt: str) -> Codec:
    """The codec of ``--format``."""
    return XmlCodec() if fmt == "xml" else JsonCodec()


def connect(args: argparse.Namespace, env: Mapping[str, str]) -> ShopApiClient:
    """The client the connection options describe (not entered yet).

    Raises:
        UsageError: A missing or invalid option (the client's own message).
    """
    url = base_url(args, env)
    auth = credentials(args, env)
    try:
        return ShopApiClient(
            url,
            auth=auth,
            codec=wire_codec(args.format),
            timeout=args.timeout,
            retry=RetryPolicy(max_attempts=args.max_attempts),
            limits=Limits(rate=args.rate),
        )
    except ShopApiError as exc:
        raise UsageError(str(exc)) from None


class _Printable(logging.Formatter):
    """Log lines made printable: a URL or a server message cannot drive the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


@contextlib.contextmanager
def logging_to(stream: IO[str], verbosity: int) -> Iterator[None]:
    """``-v``: the ``shopapi`` logger at INFO on ``stream``; ``-vv``: at DEBUG; undone
    on leaving (a test or an embedding program keeps its own logging).

    The library never logs a credential (its requests are logged by method and path),
    so nothing here needs to filter them out; a test holds it to that.
    """
    if verbosity <= 0:
        yield
        return
    logger = logging.getLogger("shopapi")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_Printable("shopapi: %(levelname)s: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def encode_line(item: Any, codec: Codec) -> bytes:
    """One item as one output line, without its line end.

    JSON: the object as Json.NET writes it (compact, PascalCase). XML: the element as
    XmlSerializer writes it, with each line break inside a text written as the
    character reference ``&#xA;`` (``&#xD;`` already is one), which any XML reader
    reads as the same character: so every line is one whole document.
    """
    data = codec.encode(item)
    if isinstance(codec, XmlCodec):
        data = data.replace(b"\r", b"&#xD;").replace(b"\n", b"&#xA;")
    return data


class Progress:
    """Progress on stderr: a redrawn bar on a terminal, periodic plain lines otherwise.

    A write command counts ``saved``/``failed``/``skipped`` against ``total`` (the
    input's lines, when it is a file); an export counts ``saved`` as the items written
    (``noun`` names them) and has no total, because the API tells no count ahead.
    """

    def __init__(
        self,
        stream: IO[str],
        total: int | None,
        *,
        tty: bool | None = None,
        noun: str | None = None,
    ) -> None:
        self.stream = stream
        self.total = total
        self.tty = stream.isatty() if tty is None else tty
        self.interval = 0.1 if self.tty else 2.0
        self.started = time.monotonic()
        self._last = 0.0
        self.noun = noun
        self.saved = self.failed = self.skipped = 0
        self.drawn = False

    def line(self) -> str:
        done = self.saved + self.failed
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = done / elapsed
        if self.noun is not None:
            spinner = "|/-\\"[int(elapsed * 8) % 4] if self.tty else ""
            text = f"{self.saved} {self.noun}, {rate:.1f}/s, {elapsed:.0f}s"
            return f"[{spinner}] " + text + ", ETA ? (no total)" if self.tty else text
        text = f"{done} done ({self.saved} saved, {self.failed} failed"
        if self.skipped:
            text += f", {self.skipped} skipped"
        text += f"), {rate:.1f}/s"
        if self.total:
            remaining = max(self.total - done - self.skipped, 0)
            eta = remaining / rate if rate > 0 else float("inf")
            width = 24
            filled = int(width * min(1.0, (done + self.skipped) / self.total))
            bar = "#" * filled + "." * (width - filled)
            eta_text = f"{eta:.0f}s" if eta != float("inf") else "?"
            text = f"[{bar}] {done + self.skipped}/{self.total} " + text + f", ETA {eta_text}"
        return text

    def tick(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        if self.tty:
            self.stream.write("\r\x1b[2K" + self.line())
            self.drawn = True
        else:
            self.stream.write("progress: " + self.line() + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """Write a line without breaking the bar."""
        if self.tty:
            self.stream.write("\r\x1b[2K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
