"""A fatal answer stops the job (issue 12, item 7): a 401 or 403 means no item can
succeed, so the job stops after at most ``concurrency`` requests, says so once, exits 5,
and reports the items it did not attempt, which a re-run then does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from shopapi._cli.app import FATAL
from shopapi._cli.input import FAILURE_KEY
from shopapi.testing import FakeShopServer, Fault
from tests.test_cli import ENV, PASSWORD, USER, run, write_input

WRONG = {**ENV, "SHOPAPI_PASSWORD": "wrong"}


@pytest.fixture
async def server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD, latency=0.005) as srv:
        srv.seed(300, shop_id=1)
        yield srv


def puts(server: FakeShopServer) -> int:
    return sum(1 for r in server.requests if r.method == "PUT")


@pytest.mark.parametrize("concurrency", [1, 8, 32])
async def test_a_wrong_password_stops_after_at_most_concurrency_requests(
    server: FakeShopServer, tmp_path: Path, concurrency: int
) -> None:
    path = tmp_path / "in.jsonl"
    write_input(server, path, range(1, 301))
    code, err = await run(server, "--concurrency", str(concurrency), str(path), env=WRONG)
    assert code == FATAL
    assert 1 <= puts(server) <= concurrency
    failed = puts(server)
    # One message, not one per item (counted as "401 from", which a progress line
    # such as "240.1/s" cannot contain).
    assert err.count("401 from ") == 1
    assert "shopapi: stopped: line " in err
    assert "AuthenticationError" in err
    assert f"failed {failed}," in err
    assert f"not attempted {300 - failed}" in err
    assert "no item can succeed" in err


async def test_a_403_midway_stops_the_job_and_a_rerun_does_the_rest(
    server: FakeShopServer, tmp_path: Path
) -> None:
    path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
    write_input(server, path, range(1, 301))
    server.inject(Fault.status(403), conversation_id=100)
    code, err = await run(
        server, "--concurrency", "8", "--journal", str(journal), str(path), env=ENV
    )
    assert code == FATAL
    assert "PermissionDeniedError" in err
    assert puts(server) <= 100 + 8  # nothing started after the 403 arrived but in flight
    sent = puts(server)
    code, err = await run(server, "--journal", str(journal), str(path), env=ENV)
    assert code == 0, err
    assert f"saved {300 - (sent - 1)}," in err  # every line the first run did not save
    assert all(server.get(1, c).note == f"cli {c}" for c in range(1, 301))  # type: ignore[union-attr]


async def test_the_failures_file_holds_the_items_not_attempted(
    server: FakeShopServer, tmp_path: Path
) -> None:
    """So that "fix and re-run the failures" finishes the job after a fatal stop."""
    path, failed, retry = tmp_path / "in.jsonl", tmp_path / "failed.jsonl", tmp_path / "retry.jsonl"
    lines = write_input(server, path, range(1, 301))
    code, _ = await run(
        server, "--concurrency", "8", "--failures", str(failed), str(path), env=WRONG
    )
    assert code == FATAL
    records = [orjson.loads(raw) for raw in failed.read_bytes().splitlines()]
    assert sorted(r[FAILURE_KEY]["line"] for r in records) == list(range(1, 301))
    errors = [r[FAILURE_KEY]["error"] for r in records]
    assert errors.count("AuthenticationError") == puts(server)
    assert errors.count("NotAttempted") == 300 - puts(server)
    by_line = {r[FAILURE_KEY]["line"]: r for r in records}
    assert {k: v for k, v in by_line[300].items() if k != FAILURE_KEY} == orjson.loads(lines[299])

    failed.rename(retry)
    code, err = await run(server, "--failures", str(failed), str(retry), env=ENV)
    assert code == 0, err
    assert "saved 300, failed 0" in err
    assert failed.read_bytes() == b""


async def test_other_failures_do_not_stop_the_job(server: FakeShopServer, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    write_input(server, path, range(1, 21))
    for cid in (3, 4, 5):
        server.inject(Fault.status(404), conversation_id=cid)
    code, err = await run(server, str(path), env=ENV)
    assert code == 1
    assert "saved 17, failed 3" in err
    assert "stopped" not in err


async def test_a_wrong_password_under_auto_stops_within_the_starting_limit(
    server: FakeShopServer, tmp_path: Path
) -> None:
    """With ``--concurrency auto`` (the default) the job stops within the limit in force
    when the first 401 is read. Its first answers may have widened the starting window
    once (1.5x) by then, so at most twice the starting limit is sent, never the ceiling."""
    from shopapi._protocol.adaptive import AdaptiveLimit

    path = tmp_path / "in.jsonl"
    write_input(server, path, range(1, 301))
    code, err = await run(server, str(path), env=WRONG)
    assert code == FATAL
    assert 1 <= puts(server) <= 2 * AdaptiveLimit().limit
    assert err.count("401 from ") == 1
