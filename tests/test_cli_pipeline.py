"""The real executable against ``shopapi serve`` in another process: the export, edit,
update pipeline, the environment, a dry run that sends nothing, logging without
credentials, and the progress bar on a terminal."""

from __future__ import annotations

import asyncio
import base64
import os
import pty
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from shopapi import JsonCodec
from shopapi.testing import FakeShopServer

CLI = [sys.executable, "-m", "shopapi"]
CONVERSATIONS = 40

#: A stand-in for ``jq -c '.Note = "checked"'``: the default test needs no jq.
EDIT_IN_PYTHON = [
    sys.executable,
    "-c",
    "import json, sys\n"
    "for line in sys.stdin:\n"
    "    item = json.loads(line)\n"
    "    item['Note'] = 'checked'\n"
    "    print(json.dumps(item, ensure_ascii=False))\n",
]
EDITORS = {"python": EDIT_IN_PYTHON}
if shutil.which("jq"):  # also the real thing, where it is installed (CI has only Python)
    EDITORS["jq"] = ["jq", "-c", '.Note = "checked"']


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPAPI_")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, str]]:
    """``shopapi serve`` in its own process; the variables it printed."""
    proc = subprocess.Popen(
        [*CLI, "serve", "--seed", str(CONVERSATIONS), "--latency", "0.003"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_clean_env(),
        text=True,
    )
    try:
        assert proc.stdout is not None
        variables = dict(proc.stdout.readline().strip().split("=", 1) for _ in range(3))
        assert set(variables) == {"SHOPAPI_BASE_URL", "SHOPAPI_USERNAME", "SHOPAPI_PASSWORD"}
        yield variables
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CLI, *argv], env=env, capture_output=True, timeout=60, check=False)


def _export(env: dict[str, str]) -> list[dict[str, object]]:
    done = _run(["conversations", "export", "--shop", "1", "--full"], _clean_env(**env))
    assert done.returncode == 0, done.stderr.decode()
    return [orjson.loads(line) for line in done.stdout.splitlines()]


def test_serve_prints_its_variables_and_stops_cleanly_on_ctrl_c() -> None:
    proc = subprocess.Popen(
        [*CLI, "serve", "--seed", "3", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_clean_env(),
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("SHOPAPI_BASE_URL=http://127.0.0.1:")
    assert proc.stdout.readline() == "SHOPAPI_USERNAME=user\n"
    assert proc.stdout.readline() == "SHOPAPI_PASSWORD=secret\n"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "Traceback" not in err
    assert err.rstrip().endswith("shopapi serve: stopped")


@pytest.mark.parametrize("editor", sorted(EDITORS))
def test_export_edit_update_as_one_pipeline(served: dict[str, str], editor: str) -> None:
    env = _clean_env(**served)
    export = subprocess.Popen(
        [*CLI, "conversations", "export", "--shop", "1", "--full"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    edit = subprocess.Popen(EDITORS[editor], stdin=export.stdout, stdout=subprocess.PIPE)
    update = subprocess.Popen(
        [*CLI, "conversations", "update", "-"],
        stdin=edit.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert export.stdout is not None
    assert edit.stdout is not None
    export.stdout.close()  # the next process holds its own copy of each pipe
    edit.stdout.close()
    out, err = update.communicate(timeout=60)
    export_err = export.communicate(timeout=10)[1].decode()
    assert edit.wait(timeout=10) == 0
    assert export.returncode == 0, export_err
    assert f"exported {CONVERSATIONS} conversations" in export_err
    assert update.returncode == 0, err.decode()
    assert out == b""  # stdout holds data only, and an update writes none
    assert f"saved {CONVERSATIONS}, failed 0" in err.decode()
    after = _export(served)
    assert len(after) == CONVERSATIONS
    assert {item["Note"] for item in after} == {"checked"}


def test_export_lines_are_the_api_json_and_xml_lines_are_documents(
    served: dict[str, str],
) -> None:
    env = _clean_env(**served)
    done = _run(["conversations", "export", "--shop", "1"], env)
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.splitlines()
    assert len(lines) == CONVERSATIONS
    first = orjson.loads(lines[0])
    assert list(first)[:3] == ["Id", "CreationDate", "LastActivityDate"]  # PascalCase, in order
    assert b"progress: " in done.stderr  # not a terminal: plain lines, and not on stdout

    done = _run(["conversations", "export", "--shop", "1", "--format", "xml"], env)
    assert done.returncode == 0, done.stderr.decode()
    xml_lines = done.stdout.splitlines()
    assert len(xml_lines) == CONVERSATIONS
    from lxml import etree

    for line in xml_lines:
        assert etree.fromstring(line).tag == "MessageConversationBasicInfo"


def test_an_xml_line_reads_back_as_the_same_item(served: dict[str, str], tmp_path: Path) -> None:
    from shopapi import MessageConversation, XmlCodec

    env = _clean_env(**served)
    one = ["conversations", "get", "--shop", "1", "--message-conversation", "1"]
    as_json = _run(one, env)
    assert as_json.returncode == 0
    edited = {**orjson.loads(as_json.stdout), "Note": "two\nlines\r\nand a CR\r"}
    path = tmp_path / "one.jsonl"
    path.write_bytes(orjson.dumps(edited) + b"\n")
    assert _run(["conversations", "update", str(path)], env).returncode == 0
    as_xml = _run([*one, "--format", "xml"], env)
    assert as_xml.returncode == 0
    (xml_line,) = as_xml.stdout.splitlines()
    assert b"&#xA;" in xml_line  # written as a character reference: the line stays one
    assert XmlCodec().decode(xml_line, MessageConversation).note == edited["Note"]


def test_the_environment_or_the_options_give_the_connection(served: dict[str, str]) -> None:
    argv = ["conversations", "get", "--shop", "1", "--message-conversation", "2"]
    assert _run(argv, _clean_env(**served)).returncode == 0
    wrong = _clean_env(**{**served, "SHOPAPI_PASSWORD": "wrong"})
    refused = _run(argv, wrong)
    assert refused.returncode == 5
    assert b"AuthenticationError" in refused.stderr
    assert _run([*argv, "--password", served["SHOPAPI_PASSWORD"]], wrong).returncode == 0
    options = [
        *argv,
        "--base-url",
        served["SHOPAPI_BASE_URL"],
        "--username",
        served["SHOPAPI_USERNAME"],
        "--password",
        served["SHOPAPI_PASSWORD"],
    ]
    assert _run(options, _clean_env(SHOPAPI_BASE_URL="http://127.0.0.1:9")).returncode == 0


def test_export_to_a_closed_pipe_exits_141(served: dict[str, str]) -> None:
    export = subprocess.Popen(
        [*CLI, "conversations", "export", "--shop", "1", "--full"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_clean_env(**served),
    )
    assert export.stdout is not None
    export.stdout.readline()
    export.stdout.close()  # `| head -1`
    _, err = export.communicate(timeout=30)
    assert export.returncode == 141, err.decode()
    assert b"Traceback" not in err


async def test_a_dry_run_checks_every_line_and_sends_nothing(tmp_path: Path) -> None:
    async with FakeShopServer(username="u", password="p") as server:
        conversations = server.seed(10, shop_id=1)
        codec = JsonCodec()
        export = tmp_path / "export.jsonl"
        export.write_bytes(b"".join(codec.encode(c) + b"\n" for c in conversations))
        changes = [c.to_changes(note=f"dry {c.id}") for c in conversations]
        lines = [codec.encode(c) for c in changes]
        lines[4] = orjson.dumps({**orjson.loads(lines[4]), "CustomerEmail": "e" * 60})
        path = tmp_path / "in.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        env = _clean_env(
            SHOPAPI_BASE_URL=server.base_url, SHOPAPI_USERNAME="u", SHOPAPI_PASSWORD="p"
        )

        async def dry(*argv: str) -> tuple[int, bytes, str]:
            proc = await asyncio.create_subprocess_exec(
                *CLI,
                "conversations",
                "update",
                "--dry-run",
                *argv,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await proc.communicate()
            assert proc.returncode is not None
            return proc.returncode, out, err.decode()

        code, out, err = await dry(str(path))
        assert code == 1  # one line is invalid
        assert "invalid: line 5: ValidationError" in err
        assert "CustomerEmail" in err
        assert "dry run: 9 valid, 1 invalid (the first 3 shown); nothing was sent" in err
        assert out.splitlines() == lines[:3]  # the bodies as they would be sent

        code, out, err = await dry("--against", str(export), str(path))
        diffs = out.decode().splitlines()
        assert len(diffs) == 9
        before = orjson.dumps(conversations[0].note).decode()
        assert diffs[0] == f'line 1 (shop 1, conversation 1): Note: {before} -> "dry 1"'
        assert "(9 differ from the export, 0 unchanged)" in err

        assert server.requests == []  # nothing reached the server
        assert all(server.get(1, c.id) == c for c in conversations)


async def test_verbose_logs_retries_and_never_a_credential(tmp_path: Path) -> None:
    password = "very-secret-password-42"
    async with FakeShopServer(username="u", password=password) as server:
        conversations = server.seed(20, shop_id=1)
        server.fault_rate(transient=0.4, seed=3)
        path = tmp_path / "in.jsonl"
        codec = JsonCodec()
        path.write_bytes(
            b"".join(codec.encode(c.to_changes(note="v")) + b"\n" for c in conversations)
        )
        proc = await asyncio.create_subprocess_exec(
            *CLI,
            "-vv",
            "conversations",
            "update",
            "--base-url",
            server.base_url,
            "--username",
            "u",
            "--password",
            password,
            "--max-attempts",
            "8",
            str(path),
            env=_clean_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, raw = await proc.communicate()
    err = raw.decode()
    assert proc.returncode == 0, err
    assert "shopapi: INFO: retrying PUT" in err
    assert "shopapi: DEBUG: PUT v1/Shops/1/MessageConversations/" in err
    assert password not in err
    assert base64.b64encode(f"u:{password}".encode()).decode() not in err
    assert out == b""


def _on_a_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, bytes, bytes]:
    """Run with stderr on a pseudo-terminal; return the status, stdout and what the
    terminal received."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*CLI, *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.close()
    received = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    out = proc.stdout.read()
    proc.stdout.close()
    return proc.wait(timeout=30), out, bytes(received)


def test_the_progress_bar_draws_and_clears_on_a_terminal(
    served: dict[str, str], tmp_path: Path
) -> None:
    env = _clean_env(**served)
    code, out, screen = _on_a_terminal(["conversations", "export", "--shop", "1", "--full"], env)
    assert code == 0, screen.decode()
    assert len(out.splitlines()) == CONVERSATIONS  # the data is not mixed with the bar
    draws = screen.split(b"\r\x1b[2K")
    bars = [d for d in draws if d.startswith(b"[") and b"conversations," in d]
    assert bars  # it drew (items, rate, elapsed; the API tells no total for an ETA)
    assert b"/s" in bars[-1]
    assert draws[-1].startswith(b"exported 40 conversations")  # cleared, then the summary
    assert b"progress: " not in screen  # no plain lines on a terminal

    path = tmp_path / "all.jsonl"
    path.write_bytes(out)
    code, _, screen = _on_a_terminal(["conversations", "update", str(path)], env)
    assert code == 0, screen.decode()
    draws = screen.split(b"\r\x1b[2K")
    assert any(d.startswith(b"[") and b"/40 " in d and b"ETA" in d for d in draws)
    assert draws[-1].startswith(b"saved 40, failed 0")


def test_ctrl_c_stops_an_export_with_130_and_no_traceback(served: dict[str, str]) -> None:
    export = subprocess.Popen(
        [*CLI, "conversations", "export", "--shop", "1", "--full", "--concurrency", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_clean_env(**served),
    )
    assert export.stdout is not None
    first = export.stdout.readline()  # it is under way
    export.send_signal(signal.SIGINT)
    rest, err = export.communicate(timeout=30)
    assert export.returncode == 130, err.decode()
    assert b"shopapi: interrupted" in err
    assert b"Traceback" not in err
    lines = [first, *rest.splitlines(keepends=True)]
    assert len(lines) < CONVERSATIONS
    assert all(line.endswith(b"\n") for line in lines)  # whole lines only
    assert all(orjson.loads(line) for line in lines)
