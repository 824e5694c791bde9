"""The demo (the README's first command) tells the truth about what happened."""

from __future__ import annotations

import io

import pytest

from shopapi._cli.demo import run_demo


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_demo_reports_every_item_once(fmt: str) -> None:
    out = io.StringIO()
    assert await run_demo(items=80, concurrency=8, fmt=fmt, out=out) == 0
    text = out.getvalue()
    assert "saved:   76 of 80" in text
    assert "failed:  4" in text
    assert text.count("ValidationError") == 4
    assert "after status 503" in text
    assert "after status 429" in text
    assert "every item was reported exactly once" in text
