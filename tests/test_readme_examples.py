"""Every ```python block of the README runs against the fake server and passes mypy --strict.

Blocks are found by their fences, not by line numbers, so other sections may change.
Each block is the body of an ``async def``; the names it uses without defining them
(``base_url``, ``client``, ``conversation`` ...) are that function's parameters, the
context below, which the README describes next to each block. A block known by what it
does gets a check of its effect on the server too: the update keeps every field it did
not change.

The README used to hold more examples (the bulk job that lists, decides and updates, the
bot's reply, the fake server in a test, ``update_many()``). They moved to the guides,
where ``tests/test_docs.py`` runs them with the same checks of their effect in their
``example: run`` comments; the last test here pins that they are still there.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shopapi import RetryPolicy, ShopApiClient
from shopapi.testing import FakeShopServer
from tests.test_docs import doc_examples

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```python\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)
USER, PASSWORD = "readme-user", "readme-password"
CUTOFF = datetime(2026, 1, 1, tzinfo=UTC)

# The names a block may use without defining them. Kept small: one line each.
CONTEXT = """\
from datetime import datetime

from shopapi import MessageConversation, ShopApiClient


async def example(
    *,
    base_url: str,
    username: str,
    password: str,
    shop_id: int,
    conversation: MessageConversation,
    client: ShopApiClient,
    cutoff: datetime,
) -> None:
"""


def python_blocks() -> list[str]:
    return FENCE.findall((ROOT / "README.md").read_text())


def as_function(block: str) -> str:
    return CONTEXT + textwrap.indent(block, "    ")


def block_ids() -> list[str]:
    """``index:first line`` of each block, for test ids."""
    return [f"{i}:{block.splitlines()[0][:40]}" for i, block in enumerate(python_blocks())]


def test_the_readme_has_the_example_this_file_checks() -> None:
    assert 'to_changes(note="called back"' in "\n".join(python_blocks())


#: What identifies each of the README's former examples, and the guide it moved to.
MOVED = {
    "async def stale_ones(": "docs/guides/bulk-jobs.md",
    "update_many(changes": "docs/guides/bulk-jobs.md",
    "post_message(": "docs/guides/bots.md",
    "Fault.status(503), Fault.drop()": "docs/guides/testing.md",
}


def test_the_readmes_former_examples_run_in_the_guides() -> None:
    runs = [example for example in doc_examples() if example.mode == "run"]
    for marker, page in MOVED.items():
        assert any(e.path == page and marker in e.source for e in runs), (marker, page)


def test_every_block_passes_mypy_strict(tmp_path: Path) -> None:
    files = []
    for index, block in enumerate(python_blocks()):
        path = tmp_path / f"readme_block_{index}.py"
        path.write_text(as_function(block))
        files.append(str(path))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", *files],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_type_check_catches_a_broken_block(tmp_path: Path) -> None:
    """The check above would fail on the README's old bulk example."""
    old = (
        "async for basic in client.message_conversations.list(shop_id):\n"
        "    if basic.finished_date is None and basic.last_activity_date < cutoff:\n"
        "        pass\n"
    )
    path = tmp_path / "old_block.py"
    path.write_text(as_function(old))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 1
    assert "Unsupported operand types for >" in result.stdout


@pytest.fixture
async def ran_server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD) as server:
        server.seed(30)
        yield server


async def run_block(block: str, server: FakeShopServer) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(as_function(block), "<README>", "exec"), namespace)
    example: Callable[..., Awaitable[None]] = namespace["example"]
    conversation = server.get(1, 1)
    assert conversation is not None
    fast = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05)
    async with ShopApiClient(server.base_url, auth=(USER, PASSWORD), retry=fast) as client:
        await example(
            base_url=server.base_url,
            username=USER,
            password=PASSWORD,
            shop_id=1,
            conversation=conversation,
            client=client,
            cutoff=CUTOFF,
        )


@pytest.mark.parametrize("index", range(len(python_blocks())), ids=block_ids())
async def test_every_block_runs_against_the_fake_server(
    index: int, ran_server: FakeShopServer
) -> None:
    block = python_blocks()[index]
    server = ran_server
    before = dict(server.conversations)
    await run_block(block, server)
    after = server.conversations
    if 'to_changes(note="called back"' in block:
        saved = after[(1, 1)]
        assert (saved.note, saved.rating) == ("called back", 5)
        assert saved.customer_email == before[(1, 1)].customer_email
        assert {key: c for key, c in after.items() if key != (1, 1)} == {
            key: c for key, c in before.items() if key != (1, 1)
        }
