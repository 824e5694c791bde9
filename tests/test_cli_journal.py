"""The journal (issue 12, items 6 and 9): keyed by conversation, last line wins, bound to
its job, locked against a second process, and honest on a full disk."""

from __future__ import annotations

import asyncio
import errno
import os
import resource
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from shopapi import JsonCodec
from shopapi._cli.app import JOURNAL_LOCKED, JOURNAL_MISMATCH, WRITE_FAILED, UsageError
from shopapi._cli.journal import Journal, JournalLockedError, input_digest, job_record
from shopapi._cli.ordering import KeyedQueue
from shopapi.testing import FakeShopServer, Fault
from tests.test_cli import ENV, PASSWORD, USER, cli, run, wait_for_lines, write_input


@pytest.fixture
async def server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD) as srv:
        srv.seed(60, shop_id=1)
        yield srv


def note_line(server: FakeShopServer, cid: int, note: str) -> bytes:
    conversation = server.get(1, cid)
    assert conversation is not None
    return JsonCodec().encode(conversation.to_changes(note=note))


def notes_sent(server: FakeShopServer, cid: int) -> list[str]:
    return [
        orjson.loads(r.body)["Note"]
        for r in server.requests
        if r.conversation_id == cid and r.method == "PUT" and r.body
    ]


def test_keyed_queue_releases_one_item_per_key_in_order() -> None:
    queue: KeyedQueue[int, str] = KeyedQueue()
    for key, item in [(7, "A"), (8, "x"), (7, "B"), (7, "C"), (9, "y")]:
        queue.put(key, item)
    assert queue.waiting == 2
    assert [queue.pop(), queue.pop(), queue.pop(), queue.pop()] == [
        (7, "A"),
        (8, "x"),
        (9, "y"),
        None,  # B waits for A
    ]
    queue.done(8)
    assert queue.pop() is None
    queue.done(7)
    assert queue.pop() == (7, "B")
    queue.put(8, "z")  # 8 is free again: ready at once
    assert queue.pop() == (8, "z")
    assert list(queue.drain()) == ["C"]
    assert len(queue) == 0


@pytest.mark.parametrize("journal", [False, True])
@pytest.mark.parametrize("concurrency", ["1", "8"])
async def test_the_last_line_for_a_conversation_wins(
    server: FakeShopServer, tmp_path: Path, journal: bool, concurrency: str
) -> None:
    """A, B, C for conversation 7 end as C, sent in that order, never two at once (the
    first is slow: sent together, it would land last)."""
    path = tmp_path / "in.jsonl"
    lines = [note_line(server, c, f"cli {c}") for c in range(1, 22) if c != 7]
    lines[2] = note_line(server, 7, "A")
    lines[9] = note_line(server, 7, "B")
    lines[15] = note_line(server, 7, "C")
    path.write_bytes(b"\n".join(lines) + b"\n")
    server.inject(Fault.delay(0.3), conversation_id=7)
    extra = ["--journal", str(tmp_path / "job.journal")] if journal else []
    code, err = await run(server, "--concurrency", concurrency, *extra, str(path))
    assert code == 0, err
    assert notes_sent(server, 7) == ["A", "B", "C"]
    assert server.get(1, 7).note == "C"  # type: ignore[union-attr]
    if journal:
        before = len(server.requests)
        code, err = await run(server, *extra, str(path))
        assert code == 0, err
        assert len(server.requests) == before  # all done: nothing sent again
        assert "skipped 20" in err


async def test_a_repeated_line_is_not_mistaken_for_one_already_saved(
    server: FakeShopServer, tmp_path: Path
) -> None:
    """A, then B, then A again: the third line is sent, with or without a journal."""
    path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
    lines = [note_line(server, 7, n) for n in ("A", "B", "A")]
    path.write_bytes(b"\n".join(lines) + b"\n")
    code, err = await run(server, "--journal", str(journal), str(path))
    assert code == 0, err
    assert notes_sent(server, 7) == ["A", "B", "A"]
    assert server.get(1, 7).note == "A"  # type: ignore[union-attr]


async def test_a_rerun_never_replays_an_earlier_line_over_a_later_one(
    server: FakeShopServer, tmp_path: Path
) -> None:
    """B failed, the later A was saved: a re-run must not send B (it would end as B)."""
    path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
    path.write_bytes(note_line(server, 7, "B") + b"\n" + note_line(server, 7, "A") + b"\n")
    server.inject(Fault.status(400), conversation_id=7)
    code, _ = await run(server, "--journal", str(journal), str(path))
    assert code == 1
    assert server.get(1, 7).note == "A"  # type: ignore[union-attr]
    code, err = await run(server, "--journal", str(journal), str(path))
    assert code == 0, err
    assert "skipped 2" in err
    assert notes_sent(server, 7) == ["B", "A"]  # nothing more
    assert server.get(1, 7).note == "A"  # type: ignore[union-attr]


async def test_a_journal_of_another_tenant_stops_the_job(
    server: FakeShopServer, tmp_path: Path
) -> None:
    path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
    write_input(server, path, range(1, 41))
    code, _ = await run(server, "--journal", str(journal), str(path))
    assert code == 0
    async with FakeShopServer(username=USER, password=PASSWORD) as tenant_b:
        tenant_b.seed(60, shop_id=1)
        code, err = await run(tenant_b, "--journal", str(journal), str(path))
        assert code == JOURNAL_MISMATCH
        assert tenant_b.requests == []
    assert "belongs to another job: base URL" in err
    assert server.base_url in err
    assert len(err.splitlines()) == 1


async def test_a_journal_of_another_input_stops_the_job(
    server: FakeShopServer, tmp_path: Path
) -> None:
    path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
    write_input(server, path, range(1, 21))
    code, _ = await run(server, "--journal", str(journal), str(path))
    assert code == 0
    before = len(server.requests)
    write_input(server, path, range(21, 41))  # the same name, other lines
    code, err = await run(server, "--journal", str(journal), str(path))
    assert code == JOURNAL_MISMATCH
    assert "another input" in err
    assert len(server.requests) == before


async def test_an_old_journal_without_a_job_record_is_refused(
    server: FakeShopServer, tmp_path: Path
) -> None:
    path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
    write_input(server, path, range(1, 3))
    journal.write_bytes(b'{"key": "0123456789abcdef0123456789abcdef", "line": 1}\n')
    code, err = await run(server, "--journal", str(journal), str(path))
    assert code == JOURNAL_MISMATCH
    assert "not a journal of this version" in err
    assert server.requests == []


async def test_a_journal_in_use_is_refused(server: FakeShopServer, tmp_path: Path) -> None:
    path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
    write_input(server, path, range(1, 11))
    failures = tmp_path / "failed.jsonl"
    failures.write_bytes(b"the first run's\n")
    job = job_record(server.base_url, str(path), input_digest(path)[1])
    with Journal(journal, job=job):
        with pytest.raises(JournalLockedError):
            Journal(journal, job=job)
        code, err = await run(
            server, "--journal", str(journal), "--failures", str(failures), str(path)
        )
    assert code == JOURNAL_LOCKED
    assert "in use by another process" in err
    assert server.requests == []
    assert failures.read_bytes() == b"the first run's\n"  # not truncated by the refused run


async def test_two_processes_on_one_journal_send_each_item_once(tmp_path: Path) -> None:
    # 200 items, 4 at a time, 50 ms each: the first run lasts ~2.5 s, well past the
    # start of the second one.
    async with FakeShopServer(username=USER, password=PASSWORD, latency=0.05) as server:
        server.seed(200, shop_id=1)
        path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
        write_input(server, path, range(1, 201))
        first = await cli(server, path, journal, 4)
        await wait_for_lines(journal, 5, first)  # the first one is running
        second = await cli(server, path, journal, 4)
        _, err2 = await second.communicate()
        assert first.returncode is None  # the refusal came while the first one ran
        _, err1 = await first.communicate()
        assert second.returncode == JOURNAL_LOCKED, err2.decode()
        assert first.returncode == 0, err1.decode()
        assert b"in use by another process" in err2
        assert all(server.saves(c) == 1 for c in range(1, 201))
        assert len([r for r in server.requests if r.method == "PUT"]) == 200


async def test_a_journal_needs_an_input_file(server: FakeShopServer) -> None:
    with pytest.raises(UsageError, match="--journal needs an input FILE"):
        await run(server, "--journal", "x.journal", "-")


def journal_lines(journal: Path) -> list[dict[str, object]]:
    return [orjson.loads(raw) for raw in journal.read_bytes().splitlines()[1:]]


async def test_a_full_disk_stops_the_job_and_claims_only_what_is_journaled(
    server: FakeShopServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
    write_input(server, path, range(1, 51))
    real_write = os.write
    records = 0

    def full_after_ten(fd: int, data: bytes) -> int:
        nonlocal records
        if data.startswith(b'{"line"'):
            records += 1
            if records > 10:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    # os.write itself: the journal's records are the only writes that start so.
    monkeypatch.setattr("shopapi._cli.journal.os.write", full_after_ten)
    code, err = await run(server, "--concurrency", "4", "--journal", str(journal), str(path))
    monkeypatch.undo()
    assert code == WRITE_FAILED
    assert "Traceback" not in err
    [error] = [line for line in err.splitlines() if line.startswith("shopapi: error:")]
    assert f"cannot write to the journal {journal}: No space left on device" in error
    assert "saved 10," in err  # what the journal holds, and no more
    assert "saved on the server but not journaled" in err
    assert len(journal_lines(journal)) == 10
    saved_on_server = sum(1 for c in range(1, 51) if server.saves(c))
    assert saved_on_server <= 10 + 4  # it stopped: at most the items in flight more

    code, err = await run(server, "--journal", str(journal), str(path))
    assert code == 0, err
    assert "skipped 10" in err
    assert all(server.get(1, c).note == f"cli {c}" for c in range(1, 51))  # type: ignore[union-attr]


async def test_a_file_size_limit_in_a_real_process_is_one_line_and_status_6(
    tmp_path: Path,
) -> None:
    """A real filesystem error: the process may not grow any file past a few records."""
    async with FakeShopServer(username=USER, password=PASSWORD) as server:
        server.seed(100, shop_id=1)
        path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
        write_input(server, path, range(1, 101))
        header = len(orjson.dumps({"job": job_record(server.base_url, str(path), "0" * 32)}))
        limit = header + 1 + 20 * len(b'{"line":10,"shopId":1,"id":10}\n')

        def small_files() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "shopapi",
            "bulk-update",
            "--base-url",
            server.base_url,
            "--journal",
            str(journal),
            str(path),
            env={**os.environ, **ENV},
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=small_files,
        )
        _, raw_err = await proc.communicate()
        err = raw_err.decode()
        assert proc.returncode == WRITE_FAILED, err
        assert "Traceback" not in err
        assert "File too large" in err
        kept = journal_lines(journal)  # complete records only: the partial one was cut
        assert journal.read_bytes().endswith(b"\n")
        assert f"saved {len(kept)}," in err
        assert 0 < len(kept) < 100


async def test_a_full_disk_under_the_failures_file_is_one_line_and_status_6(
    server: FakeShopServer, tmp_path: Path
) -> None:
    """/dev/full answers every write with ENOSPC: a real full disk."""
    path = tmp_path / "in.jsonl"
    write_input(server, path, range(1, 31))
    server.inject(Fault.status(400), conversation_id=5)
    code, err = await run(server, "--concurrency", "2", "--failures", "/dev/full", str(path))
    assert code == WRITE_FAILED
    [error] = [line for line in err.splitlines() if line.startswith("shopapi: error:")]
    assert "cannot write the failures file /dev/full: No space left on device" in error
    assert "Traceback" not in err
    assert sum(1 for r in server.requests if r.method == "PUT") <= 5 + 2  # it stopped
