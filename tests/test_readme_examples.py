"""Every ```python block of the README runs against the fake server and passes mypy --strict.

Blocks are found by their fences, not by line numbers, so other sections may change.
Each block is the body of an ``async def``; the names it uses without defining them
(``base_url``, ``client``, ``conversation`` ...) are that function's parameters, the
context below, which the README describes next to each block. Blocks known by what
they do get a check of their effect on the server too: the bulk job keeps every detail
field, the bot replies as the shop and not as the customer.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from shopapi import MessageConversation, RetryPolicy, ShopApiClient
from shopapi.testing import FakeShopServer

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```python\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)
USER, PASSWORD = "readme-user", "readme-password"
BOT_SENDER, TEXT_TYPE = 2, 0  # the fake server's "Bot" and "Text"
CUTOFF = datetime(2026, 1, 1, tzinfo=UTC)

# The names a block may use without defining them. Kept small: one line each.
CONTEXT = """\
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from shopapi import MessageConversation, MessageConversationChanges, ShopApiClient


async def example(
    *,
    base_url: str,
    username: str,
    password: str,
    shop_id: int,
    conversation_id: int,
    conversation: MessageConversation,
    client: ShopApiClient,
    changes_iter: Iterable[MessageConversationChanges],
    cutoff: datetime,
    log: logging.Logger,
    our_sender: int | str,
    text_type: int | str,
    my_job: Callable[[ShopApiClient], Awaitable[None]],
) -> None:
"""
# Run mode only: await the test functions a block defines (the fake-server example).
RUN_TESTS = """
    for _name, _value in list(locals().items()):
        if _name.startswith("test_") and callable(_value):
            await _value()
"""


def python_blocks() -> list[str]:
    return FENCE.findall((ROOT / "README.md").read_text())


def as_function(block: str, *, run: bool = False) -> str:
    return CONTEXT + textwrap.indent(block, "    ") + (RUN_TESTS if run else "")


def block_ids() -> list[str]:
    """``index:first line`` of each block, for test ids."""
    return [f"{i}:{block.splitlines()[0][:40]}" for i, block in enumerate(python_blocks())]


def test_the_readme_has_the_examples_this_file_checks() -> None:
    text = "\n".join(python_blocks())
    for marker in ("stale_ones", "post_message", 'to_changes(note="called back"', "test_my_job"):
        assert marker in text, marker


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


async def my_job(client: ShopApiClient) -> None:
    """The fake-server example's "code under test": notes conversation 1 as done."""
    conversations = client.message_conversations
    full = await conversations.get(1, 1)
    await conversations.update(1, 1, full.to_changes(note="done"))


@pytest.fixture
async def ran_server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD) as server:
        server.seed(30)
        server.seed_messages(1, 1, 3)  # the last one is the customer's (sender 0)
        yield server


async def run_block(block: str, server: FakeShopServer) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(as_function(block, run=True), "<README>", "exec"), namespace)
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
            conversation_id=1,
            conversation=conversation,
            client=client,
            changes_iter=[
                c.to_changes(note="bulk")
                for (_, cid), c in sorted(server.conversations.items())
                if cid <= 5
            ],
            cutoff=CUTOFF,
            log=logging.getLogger("readme"),
            our_sender=BOT_SENDER,
            text_type=TEXT_TYPE,
            my_job=my_job,
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
    if "stale_ones" in block:
        stale = {
            key
            for key, c in before.items()
            if c.finished_date is None
            and c.last_activity_date is not None
            and c.last_activity_date < CUTOFF
        }
        assert 0 < len(stale) < len(before)  # the seed gives the job something to decide
        for key, old in before.items():
            new = after[key]
            if key in stale:
                assert new.note == "auto-closed"
                # The bug this guards against: the detail fields went out as null.
                assert new.customer_email == old.customer_email is not None
                assert attrs_equal_but_note(old, new)
            else:
                assert new == old
    if "post_message" in block:
        messages = server.messages(1, 1)
        assert len(messages) == 4
        reply = messages[-1]
        assert reply.message_sender_enum_value == BOT_SENDER  # the shop's side, not 0
        assert reply.type_enum_value == TEXT_TYPE
    if 'to_changes(note="called back"' in block:
        saved = after[(1, 1)]
        assert (saved.note, saved.rating) == ("called back", 5)
        assert saved.customer_email == before[(1, 1)].customer_email
    if "update_many(changes_iter" in block:
        assert [after[(1, c)].note for c in range(1, 6)] == ["bulk"] * 5


def attrs_equal_but_note(old: MessageConversation, new: MessageConversation) -> bool:
    return attrs.evolve(new, note=old.note) == old
