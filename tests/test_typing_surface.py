"""Typed at the surface: a user's ``mypy --strict`` sees precise types for every resource
method, argument and answer, and refuses wrong calls (tests/data/typing_surface.snippet)."""

from __future__ import annotations

import re
import subprocess
import sys
import typing
from pathlib import Path

import attrs

from shopapi import ShopApiClient
from shopapi._resources import RESOURCES
from shopapi._resources.message_conversations import (
    BasicInfoFields,
    ConversationFields,
    MessageConversation,
    MessageConversationBasicInfo,
)

SNIPPET = Path(__file__).parent / "data" / "typing_surface.snippet"
_LINE = re.compile(r"^[^:]+:(\d+): (error|note): (.*?)(?:  \[[\w-]+\])?$")


def _mypy(tmp_path: Path) -> list[tuple[int, str, str]]:
    target = tmp_path / "user.py"
    target.write_text(SNIPPET.read_text("utf-8"), "utf-8")
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\npython_version = 3.11\n", "utf-8")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--no-error-summary",
            "--no-pretty",
            "--show-error-codes",
            str(target),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr
    found = []
    for raw in completed.stdout.splitlines():
        match = _LINE.match(raw)
        assert match is not None, raw
        found.append((int(match[1]), match[2], match[3]))
    return found


def test_mypy_reveals_every_answer_and_refuses_every_wrong_call(tmp_path: Path) -> None:
    lines = SNIPPET.read_text("utf-8").splitlines()
    reveals = {n: line.split("# R: ")[1] for n, line in enumerate(lines, 1) if "# R: " in line}
    errors = {n: line.split("# E: ")[1] for n, line in enumerate(lines, 1) if "# E: " in line}
    assert len(reveals) >= 15
    assert len(errors) >= 10
    found = _mypy(tmp_path)
    revealed = {n: text for n, kind, text in found if text.startswith("Revealed type is")}
    assert revealed == {n: f'Revealed type is "{want}"' for n, want in reveals.items()}
    reported = {n for n, kind, _ in found if kind == "error"}
    assert reported == set(errors), [f for f in found if f[0] not in reveals]
    for n, want in errors.items():
        texts = [text for line, kind, text in found if line == n and kind == "error"]
        assert any(want in text for text in texts), (n, want, texts)


def test_the_keyword_types_are_the_models_fields() -> None:
    """The TypedDicts behind ``**changes`` must name every field, with its type."""
    for fields, model in [
        (BasicInfoFields, MessageConversationBasicInfo),
        (ConversationFields, MessageConversation),
    ]:
        hints = typing.get_type_hints(fields)
        model_hints = typing.get_type_hints(model)
        assert set(hints) == {a.name for a in attrs.fields(model)}
        assert hints == {name: model_hints[name] for name in hints}


def test_the_client_declares_one_typed_attribute_per_resource() -> None:
    """The client attaches ``resource.methods`` per resource; its annotation is what a
    user's mypy sees, so each must name that class."""
    hints = typing.get_type_hints(ShopApiClient)
    client = ShopApiClient("http://127.0.0.1:9")
    for resource in RESOURCES:
        assert hints[resource.name] is resource.methods
        assert type(getattr(client, resource.name)) is resource.methods
