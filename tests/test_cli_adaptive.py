"""``bulk-update --concurrency auto``: parsed and passed to update_many."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from shopapi import JsonCodec
from shopapi._cli.app import build_parser, bulk_update, main
from shopapi.testing import FakeShopServer

USER, PASSWORD = "cli", "cli-pw"


async def test_concurrency_auto_saves_every_item(tmp_path: Path) -> None:
    async with FakeShopServer(
        username=USER, password=PASSWORD, capacity=3, service_time=0.005, queue_limit=3
    ) as server:
        conversations = server.seed(120)
        path = tmp_path / "in.jsonl"
        codec = JsonCodec()
        path.write_bytes(b"\n".join(codec.encode(c.to_changes(note="auto")) for c in conversations))
        args = build_parser().parse_args(
            ["bulk-update", "--base-url", server.base_url, "--concurrency", "auto", str(path)]
        )
        assert args.concurrency == "auto"
        stderr = io.StringIO()
        code = await bulk_update(
            args,
            stdin=io.BytesIO(b""),
            stderr=stderr,
            env={"SHOPAPI_USERNAME": USER, "SHOPAPI_PASSWORD": PASSWORD},
        )
        assert code == 0, stderr.getvalue()
        assert "saved 120, failed 0" in stderr.getvalue()
        assert server.load().peak_in_service == 3
        assert all(server.get(1, c.id).note == "auto" for c in conversations)  # type: ignore[union-attr]


@pytest.mark.parametrize("value", ["AUTO", "12"])
def test_concurrency_accepts_auto_or_an_int(value: str) -> None:
    args = build_parser().parse_args(
        ["bulk-update", "--base-url", "x", "--concurrency", value, "f"]
    )
    assert args.concurrency == ("auto" if value == "AUTO" else 12)


@pytest.mark.parametrize("value", ["fast", "0", "-3"])
def test_anything_else_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["bulk-update", "--base-url", "http://127.0.0.1:9", "--concurrency", value, "x"])
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_auto_is_the_default() -> None:
    args = build_parser().parse_args(["bulk-update", "--base-url", "x", "f"])
    assert args.concurrency == "auto"
