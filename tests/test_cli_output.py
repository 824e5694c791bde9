"""What the command line prints: a closed output pipe ends it quietly (``demo | head``),
``--version`` prints the version, and server text is escaped before it is printed."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import orjson
import pytest

from shopapi._cli.app import BROKEN_PIPE
from shopapi._cli.demo import run_demo
from shopapi._cli.terminal import printable
from shopapi.testing import FakeShopServer, Fault
from tests.test_cli import ENV, PASSWORD, USER, run, write_input

CLI = [sys.executable, "-m", "shopapi"]


def run_into_a_closed_pipe(argv: list[str]) -> tuple[int, bytes]:
    """Run the CLI with its stdout a pipe whose reader is already gone."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(argv, stdout=writer, stderr=subprocess.PIPE, timeout=120, check=False)
    finally:
        os.close(writer)
    return done.returncode, done.stderr


@pytest.mark.parametrize(
    ("args", "codes"),
    [
        (["demo", "--items", "20"], {BROKEN_PIPE}),
        # argparse writes these itself and drops a failed write, then exits 0; if the
        # text is still buffered, the CLI's own flush finds the closed pipe instead.
        (["--version"], {0, BROKEN_PIPE}),
        (["--help"], {0, BROKEN_PIPE}),
        (["bulk-update", "--help"], {0, BROKEN_PIPE}),
    ],
    ids=["demo", "version", "help", "bulk-update-help"],
)
def test_a_closed_output_pipe_ends_without_a_traceback(args: list[str], codes: set[int]) -> None:
    code, err = run_into_a_closed_pipe([*CLI, *args])
    assert b"Traceback" not in err, err.decode()
    assert b"BrokenPipeError" not in err
    assert err == b""
    assert code in codes


def test_demo_piped_into_head() -> None:
    """The README's first command, as a user pipes it."""
    done = subprocess.run(
        ["sh", "-c", f"'{sys.executable}' -m shopapi demo --items 20 | head -3"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0
    assert done.stderr == b"", done.stderr.decode()
    assert len(done.stdout.splitlines()) == 3
    assert done.stdout.startswith(b"shopapi demo: updating 20 conversations")


def test_version_from_the_console_script_and_from_python_m() -> None:
    expected = f"shopapi {version('shopapi')}\n".encode()
    script = Path(sys.executable).with_name("shopapi")
    assert script.exists(), "the package is installed with its console script"
    for argv in ([str(script), "--version"], [*CLI, "--version"]):
        done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr.decode()
        assert done.stdout == expected


def test_printable_escapes_every_control_character() -> None:
    hostile = "ok\x1b[2K\rshopapi: all 1 items saved\n\x07\x9b31m\u2028\u202eabc\t\x00\x7f"
    shown = printable(hostile)
    assert shown == (
        "ok\\x1b[2K\\rshopapi: all 1 items saved\\n\\x07\\x9b31m\\u2028\\u202eabc\\t\\x00\\x7f"
    )
    assert shown.isprintable()
    assert printable("Grüße, ünïcode €") == "Grüße, ünïcode €"  # printable text is untouched


FORGED = "\x1b[2K\rshopapi: all 1 items saved\n\x07"


async def test_server_text_is_escaped_on_stderr(tmp_path: Path) -> None:
    """A server's Message and ModelState cannot erase or forge a line of the output."""
    body = orjson.dumps(
        {"Message": FORGED, "ModelState": {"changes.Note" + FORGED: ["bad" + FORGED]}}
    )
    async with FakeShopServer(username=USER, password=PASSWORD) as server:
        server.seed(3, shop_id=1)
        path = tmp_path / "in.jsonl"
        write_input(server, path, range(1, 4))
        server.inject(
            Fault.status(400, body=body, content_type="application/json; charset=utf-8"),
            conversation_id=2,
        )
        code, err = await run(server, str(path), env=ENV)
    assert code == 1
    assert not any(c in err for c in "\x1b\x07\r"), repr(err)
    lines = err.splitlines()
    assert not any(line.startswith("shopapi: all") for line in lines)
    [failed] = [line for line in lines if line.startswith("failed: line 2")]
    assert "\\x1b[2K\\rshopapi: all 1 items saved\\n\\x07" in failed  # shown, escaped


async def test_demo_escapes_what_it_prints() -> None:
    out = io.StringIO()
    await run_demo(items=60, concurrency=8, out=out)
    assert out.getvalue().isascii()
    assert all(line.isprintable() for line in out.getvalue().splitlines())


async def test_bulk_update_into_a_closed_pipe_ends_without_a_traceback(tmp_path: Path) -> None:
    """``bulk-update ... 2>&1 | head -1``: its output is stderr. The exit status says the
    pipe closed, and the journal still holds exactly what was saved."""
    async with FakeShopServer(username=USER, password=PASSWORD) as server:
        server.seed(50, shop_id=1)
        path, journal = tmp_path / "in.jsonl", tmp_path / "job.journal"
        write_input(server, path, range(1, 51))
        reader, writer = os.pipe()
        os.close(reader)
        try:
            proc = await asyncio.create_subprocess_exec(
                *CLI,
                "bulk-update",
                "--base-url",
                server.base_url,
                "--journal",
                str(journal),
                str(path),
                env={**os.environ, **ENV},
                stdout=writer,
                stderr=writer,
            )
        finally:
            os.close(writer)
        assert await proc.wait() == BROKEN_PIPE
        records = journal.read_bytes().splitlines()[1:]
        journaled = {orjson.loads(raw)["id"] for raw in records}
        assert all(server.saves(c) >= 1 for c in journaled)
