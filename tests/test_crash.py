"""Crash safety of the bulk command line and its journal.

The CLI is killed (SIGKILL and SIGINT, alternately) at random journal sizes in repeated
runs, then run to the end. Every item ends up saved with its own changes; after each
kill, the items saved on the server but not in the journal (the only ones a re-run
redoes) are at most ``concurrency``; and the items saved twice are exactly among those.
The long campaign is marked ``crash`` (``nox -s crash``); a 3-kill run is in the default
suite. The journal itself is cut at every byte of a real journal and must reopen to
exactly its complete records.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from pathlib import Path

import orjson
import pytest

from shopapi._cli.journal import Journal, job_record
from shopapi.testing import FakeShopServer
from tests.test_cli import PASSWORD, USER, cli, wait_for_lines, write_input


def journaled_ids(journal: Path) -> set[int]:
    """Ids of the complete records (a torn tail is not a record)."""
    data = journal.read_bytes() if journal.exists() else b""
    ids = set()
    for raw in data[: data.rfind(b"\n") + 1].splitlines()[1:]:  # after the job record
        ids.add(orjson.loads(raw)["id"])
    return ids


async def settle(server: FakeShopServer, ids: range) -> None:
    """Let PUTs the dead process had sent finish on the server (latency is 10 ms)."""
    before = -1
    while True:
        now = sum(server.saves(cid) for cid in ids)
        if now == before:
            return
        before = now
        await asyncio.sleep(0.1)


async def crash_campaign(
    tmp_path: Path, *, items: int, kills: int, concurrency: int, seed: int
) -> dict[str, object]:
    """Kill the CLI ``kills`` times at random journal sizes, then finish; check all."""
    rng = random.Random(seed)
    ids = range(1, items + 1)
    started = time.perf_counter()
    async with FakeShopServer(username=USER, password=PASSWORD, latency=0.01) as server:
        server.seed(items, shop_id=1)
        path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
        write_input(server, path, ids)
        orphans: set[int] = set()  # saved by a killed run but not journaled
        kill_points: list[int] = []
        for k in range(kills):
            sig = signal.SIGKILL if k % 2 == 0 else signal.SIGINT
            recorded = len(journaled_ids(journal))
            target = recorded + rng.randint(5, max(6, (items - recorded) // (kills - k + 1)))
            proc = await cli(server, path, journal, concurrency)
            await wait_for_lines(journal, target, proc)
            proc.send_signal(sig)
            _, err = await proc.communicate()
            expected = -signal.SIGKILL if sig is signal.SIGKILL else 130
            assert proc.returncode == expected, err.decode()
            await settle(server, ids)
            done = journaled_ids(journal)
            kill_points.append(len(done))
            assert len(done) < items, "the run ended before the kill"
            saved = {cid for cid in ids if server.saves(cid) >= 1}
            assert done <= saved  # the journal never claims an unsaved item
            in_flight = saved - done - orphans
            assert len(in_flight) <= concurrency, (sig, sorted(in_flight))
            orphans |= in_flight
        proc = await cli(server, path, journal, concurrency)
        _, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        saves = {cid: server.saves(cid) for cid in ids}
        assert all(n >= 1 for n in saves.values())  # nothing lost
        twice = {cid for cid, n in saves.items() if n > 1}
        assert twice <= orphans  # only what was in flight at a kill was redone
        assert all(n <= 2 for n in saves.values())
        for cid in ids:
            assert server.get(1, cid).note == f"cli {cid}"  # type: ignore[union-attr]
        assert journaled_ids(journal) == set(ids)
    return {
        "items": items,
        "kills": kills,
        "journal sizes at the kills": kill_points,
        "redone": len(twice),
        "redone bound": concurrency * kills,
        "seconds": round(time.perf_counter() - started, 1),
    }


async def test_three_kills_then_resume(tmp_path: Path) -> None:
    """The quick run of the campaign, in the default suite."""
    figures = await crash_campaign(tmp_path, items=200, kills=3, concurrency=8, seed=1)
    assert figures["redone"] <= 24  # type: ignore[operator]


@pytest.mark.crash
@pytest.mark.parametrize("seed", range(int(os.environ.get("SHOPAPI_CRASH_RUNS", "5"))))
async def test_crash_campaign(
    tmp_path: Path, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """8 kills at random journal sizes per run (``nox -s crash``); prints its figures."""
    figures = await crash_campaign(tmp_path, items=600, kills=8, concurrency=8, seed=seed)
    with capsys.disabled():
        print(f"\ncrash campaign seed {seed}:", figures)


JOB = job_record("http://127.0.0.1:9", "in.jsonl", "0" * 32)


def real_journal(path: Path, n: int) -> None:
    """A journal as the CLI writes it: the job record, then one record per saved line."""
    with Journal(path, job=JOB) as journal:
        for number in range(1, n + 1):
            journal.record(number, 1, number)


def test_torn_tail_at_every_cut_point(tmp_path: Path) -> None:
    """A crash mid-write leaves any prefix of the journal; each must reopen cleanly."""
    source, torn = tmp_path / "full.journal", tmp_path / "torn.journal"
    real_journal(source, 25)
    data = source.read_bytes()
    header = data.index(b"\n") + 1
    assert data.count(b"\n") == 1 + 25
    for cut in range(len(data) + 1):
        prefix = data[:cut]
        torn.write_bytes(prefix)
        complete = max(prefix.count(b"\n") - 1, 0)  # records after the job record
        journal = Journal(torn, job=JOB)
        try:
            assert len(journal) == complete
            assert all(journal.done(1, i, i) for i in range(1, complete + 1))
            assert not any(journal.done(1, i, i) for i in range(complete + 1, 26))
            assert journal.torn == (not prefix.endswith(b"\n") and cut > 0)
            # Cut inside the job record, the journal starts afresh with it.
            kept = prefix[: prefix.rfind(b"\n") + 1] if cut >= header else data[:header]
            assert torn.read_bytes() == kept
            journal.record(99, 1, 99)
        finally:
            journal.close()
        with Journal(torn, job=JOB) as reopened:
            assert not reopened.torn
            assert len(reopened) == complete + 1
            assert reopened.done(1, 99, 99)


def test_torn_tail_at_random_cut_points_of_a_cli_journal(tmp_path: Path) -> None:
    """The same on a long journal, at random cut points."""
    rng = random.Random(5)
    source, torn = tmp_path / "full.journal", tmp_path / "torn.journal"
    real_journal(source, 2000)
    data = source.read_bytes()
    for cut in rng.sample(range(len(data)), 200):
        torn.write_bytes(data[:cut])
        with Journal(torn, job=JOB) as journal:
            assert len(journal) == max(data[:cut].count(b"\n") - 1, 0)
        assert torn.read_bytes().endswith(b"\n")
