"""The command line: bulk-update with its journal, failures report and exit codes, and
a crash-and-resume run (SIGKILL and SIGINT in the middle)."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from shopapi import JsonCodec
from shopapi._cli.app import Progress, build_parser, bulk_update, main
from shopapi._cli.journal import Journal, input_digest, job_record
from shopapi.testing import FakeShopServer, Fault

USER, PASSWORD = "cli", "cli-secret"
ENV = {"SHOPAPI_USERNAME": USER, "SHOPAPI_PASSWORD": PASSWORD}


@pytest.fixture
async def server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD) as srv:
        srv.seed(300, shop_id=1)
        yield srv


def write_input(server: FakeShopServer, path: Path, ids: range, **changes: Any) -> list[bytes]:
    codec = JsonCodec()
    lines = []
    for cid in ids:
        conversation = server.get(1, cid)
        assert conversation is not None
        lines.append(codec.encode(conversation.to_changes(note=f"cli {cid}", **changes)))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return lines


async def run(
    server: FakeShopServer, *argv: str, env: dict[str, str] | None = None
) -> tuple[int, str]:
    args = build_parser().parse_args(["bulk-update", "--base-url", server.base_url, *argv])
    stderr = io.StringIO()
    code = await bulk_update(
        args, stdin=io.BytesIO(b""), stderr=stderr, env=ENV if env is None else env
    )
    return code, stderr.getvalue()


async def test_saves_every_item_and_exits_0(server: FakeShopServer, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    write_input(server, path, range(1, 101))
    code, err = await run(server, "--concurrency", "8", str(path))
    assert code == 0
    assert "saved 100, failed 0" in err
    assert all(server.get(1, c).note == f"cli {c}" for c in range(1, 101))  # type: ignore[union-attr]


async def test_xml_format(server: FakeShopServer, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    write_input(server, path, range(1, 6))
    code, _ = await run(server, "--format", "xml", str(path))
    assert code == 0
    assert all(r.headers["Content-Type"].startswith("application/xml") for r in server.requests)


async def test_failures_are_reported_with_line_numbers(
    server: FakeShopServer, tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    lines = write_input(server, path, range(1, 11))
    lines[2] = b'{"Id": 3, "ShopId": 1, "PlatformKindEnumValue": 0, "CustomerEmail": '
    lines[5] = orjson.dumps({**orjson.loads(lines[5]), "CustomerEmail": "e" * 60})
    lines.insert(7, b"")  # blank lines are skipped, but still counted as lines
    path.write_bytes(b"\n".join(lines) + b"\n")
    server.inject(Fault.status(400), conversation_id=9)
    failures = tmp_path / "failed.jsonl"
    code, err = await run(server, "--failures", str(failures), str(path))
    assert code == 1
    assert "saved 7, failed 3" in err
    records = [orjson.loads(raw) for raw in failures.read_bytes().splitlines()]
    by_line = {r["$failure"]["line"]: r for r in records}
    assert set(by_line) == {3, 6, 10}
    assert by_line[3]["$failure"]["error"] == "DecodeError"
    assert by_line[3]["$failure"]["text"] == lines[2].decode()  # not an object: kept as text
    assert by_line[6]["$failure"]["error"] == "ValidationError"
    assert by_line[6]["$failure"]["fields"] == ["CustomerEmail"]
    assert by_line[10]["$failure"]["error"] == "BadRequestError"
    assert by_line[10]["$failure"]["status"] == 400
    # The original item, member for member, with the error beside it.
    assert {k: v for k, v in by_line[10].items() if k != "$failure"} == orjson.loads(lines[9])


async def test_failures_go_to_stderr_without_a_file(server: FakeShopServer, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    write_input(server, path, range(1, 4))
    server.inject(Fault.status(404), conversation_id=2)
    code, err = await run(server, str(path))
    assert code == 1
    assert "failed: line 2 (shop 1, conversation 2): NotFoundError" in err


async def test_journal_makes_a_rerun_skip_what_was_saved(
    server: FakeShopServer, tmp_path: Path
) -> None:
    path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
    write_input(server, path, range(1, 51))
    server.inject(Fault.status(400), conversation_id=7)
    code, _ = await run(server, "--journal", str(journal), str(path))
    assert code == 1
    assert len(journal.read_bytes().splitlines()) == 1 + 49  # the job record, then the saves
    before = len(server.requests)
    code, err = await run(server, "--journal", str(journal), str(path))
    assert code == 0
    assert "saved 1, failed 0, skipped 49" in err
    assert [r.conversation_id for r in server.requests[before:]] == [7]


async def test_torn_journal_tail_is_ignored(server: FakeShopServer, tmp_path: Path) -> None:
    path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
    write_input(server, path, range(1, 4))
    job = job_record(server.base_url, str(path), input_digest(path)[1])
    with Journal(journal, job=job) as opened:
        opened.record(1, 1, 1)
    with journal.open("ab") as f:
        f.write(b'{"line":2,"shopId":1,"i')  # a crash in the middle of a record
    code, err = await run(server, "--journal", str(journal), str(path))
    assert code == 0
    assert "saved 2, failed 0, skipped 1" in err
    assert all(raw.startswith(b"{") for raw in journal.read_bytes().splitlines())
    with Journal(journal, job=job) as reopened:
        assert len(reopened) == 3


async def test_missing_credentials_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shopapi",
        "bulk-update",
        "--base-url",
        "http://127.0.0.1:9",
        str(path),
        env={k: v for k, v in os.environ.items() if not k.startswith("SHOPAPI_")},
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 2
    assert b"SHOPAPI_USERNAME" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["bulk-update", "x.jsonl"],
        ["bulk-update", "--base-url", "http://127.0.0.1:9", "--concurrency", "0", "x"],
        ["bulk-update", "--base-url", "http://127.0.0.1:9", "--format", "yaml", "x"],
        ["nope"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_unreadable_file_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOPAPI_USERNAME", "u")
    monkeypatch.setenv("SHOPAPI_PASSWORD", "p")
    with pytest.raises(SystemExit) as info:
        main(["bulk-update", "--base-url", "http://127.0.0.1:9", str(tmp_path / "missing")])
    assert info.value.code == 2
    assert "cannot read" in capsys.readouterr().err


def test_progress_bar_on_a_terminal_and_lines_otherwise() -> None:
    tty, plain = io.StringIO(), io.StringIO()
    bar = Progress(tty, total=10, tty=True)
    bar.saved, bar.failed = 4, 1
    bar.tick(force=True)
    assert tty.getvalue().startswith("\r\x1b[2K[")
    assert "5/10" in tty.getvalue()
    assert "ETA" in tty.getvalue()
    lines = Progress(plain, total=None, tty=False)
    lines.saved = 3
    lines.tick(force=True)
    assert plain.getvalue().startswith("progress: 3 done (3 saved, 0 failed)")
    assert "\r" not in plain.getvalue()


async def cli(
    server: FakeShopServer, path: Path, journal: Path, concurrency: int
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shopapi",
        "bulk-update",
        "--base-url",
        server.base_url,
        "--concurrency",
        str(concurrency),
        "--journal",
        str(journal),
        str(path),
        env={**os.environ, **ENV},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_for_lines(journal: Path, count: int, proc: asyncio.subprocess.Process) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") >= count:
            return
        if proc.returncode is not None:
            raise AssertionError("the CLI ended before the crash point")
        await asyncio.sleep(0.005)
    raise AssertionError("the CLI made no progress")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
async def test_crash_and_resume_loses_nothing(tmp_path: Path, sig: signal.Signals) -> None:
    concurrency = 8
    async with FakeShopServer(username=USER, password=PASSWORD, latency=0.01) as server:
        server.seed(300, shop_id=1)
        path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
        write_input(server, path, range(1, 301))
        proc = await cli(server, path, journal, concurrency)
        await wait_for_lines(journal, 60, proc)
        proc.send_signal(sig)
        _, err = await proc.communicate()
        if sig is signal.SIGKILL:
            assert proc.returncode == -signal.SIGKILL
        else:
            assert proc.returncode == 130, err.decode()
            assert b"interrupted" in err
        recorded = journal.read_bytes().count(b"\n")
        assert recorded < 300  # it really was stopped in the middle

        proc = await cli(server, path, journal, concurrency)
        _, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert b"skipped" in err
        saves = [server.saves(cid) for cid in range(1, 301)]
        assert all(n >= 1 for n in saves)  # every item ended up saved
        redone = sum(1 for n in saves if n > 1)
        if sig is signal.SIGKILL:
            assert redone <= concurrency  # only what was in flight at the crash
        else:
            assert redone == 0  # Ctrl-C lets the items in flight finish and be journaled
        for cid in range(1, 301):
            assert server.get(1, cid).note == f"cli {cid}"  # type: ignore[union-attr]


async def test_reads_stdin_with_a_dash(server: FakeShopServer, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    write_input(server, path, range(1, 21))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shopapi",
        "bulk-update",
        "--base-url",
        server.base_url,
        "-",
        env={**os.environ, **ENV},
        stdin=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate(path.read_bytes())
    assert proc.returncode == 0, err.decode()
    assert b"saved 20, failed 0" in err
    assert b"progress: " in err  # stderr is not a terminal: plain lines
    assert all(server.saves(c) == 1 for c in range(1, 21))
