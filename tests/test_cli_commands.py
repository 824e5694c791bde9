"""The command line derives from the resource descriptions: nouns, verbs, options, help,
and dispatch through the client's methods by name, for any resource in the registry."""

from __future__ import annotations

import argparse
import asyncio
import builtins
import datetime
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest

from shopapi import (
    JsonCodec,
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
    ShopApiClient,
)
from shopapi._cli.app import build_parser, main
from shopapi._cli.commands import derive, filter_flag, kebab, param_flag, verb
from shopapi._cli.common import base_url, credentials
from shopapi._cli.reading import export, get
from shopapi._cli.serve import serve
from shopapi._cli.writing import write
from shopapi._resources import RESOURCES
from shopapi._resources.spec import (
    Endpoint,
    Key,
    Paging,
    PathParam,
    QueryKind,
    QueryParam,
    Resource,
    Role,
)
from shopapi._wire.fields import wire_fields
from shopapi.testing import FakeShopServer, Fault

USER, PASSWORD = "cmd", "cmd-secret"
ENV = {"SHOPAPI_USERNAME": USER, "SHOPAPI_PASSWORD": PASSWORD}

# A resource the command line has never heard of: the conversation endpoints under
# another noun, with a filter, served by the fake server at the same paths.
_SHOP = PathParam(wire="shopId", name="shop_id")
_THREAD = PathParam(wire="messageConversationId", name="message_conversation_id")
_PATH = "v1/Shops/{shopId}/MessageConversations"
_FROM_DATE = QueryParam(wire="fromDateChanged", name="from_date_changed", kind=QueryKind.DATE)
_KEYS = (Key("shop_id", "shop_id"), Key("id", "message_conversation_id"))
#: The filters each ``threads.list`` call was given.
list_calls: list[dict[str, object]] = []


class _Threads:
    """What the client would attach for ``THREADS``: a method per endpoint, by name
    (here, the conversation methods under other names)."""

    def __init__(self, client: ShopApiClient) -> None:
        self._inner = client.message_conversations

    def list(
        self, shop_id: int, **filters: datetime.datetime
    ) -> AsyncIterator[MessageConversationBasicInfo]:
        """The conversations' list, recording the filters it was given (the fake server
        has none to apply)."""
        list_calls.append({"shop_id": shop_id, **filters})
        return self._inner.list(shop_id)

    async def list_page(
        self, shop_id: int, *, page_number: int = 1, page_size: int = 100
    ) -> builtins.list[MessageConversationBasicInfo]:
        return await self._inner.list_page(shop_id, page_number=page_number, page_size=page_size)

    async def fetch(self, shop_id: int, message_conversation_id: int) -> MessageConversation:
        return await self._inner.get(shop_id, message_conversation_id)

    async def update(
        self, shop_id: int, message_conversation_id: int, changes: MessageConversationChanges
    ) -> MessageConversation:
        return await self._inner.update(shop_id, message_conversation_id, changes)

    def update_many(self, items: Any, **options: Any) -> Any:
        return self._inner.update_many(items, **options)


def _resource(**values: Any) -> Resource:
    """A ``Resource``, with its methods class where the spec asks for one."""
    if "methods" in attrs.fields_dict(Resource):
        values.setdefault("methods", _Threads)
    return Resource(**values)


THREADS = _resource(
    name="threads",
    cli="threads",
    endpoints=(
        Endpoint(
            name="list",
            role=Role.LIST,
            method="GET",
            path=_PATH,
            params=(_SHOP,),
            query=(_FROM_DATE,),
            paging=Paging(size=100),
            answer=MessageConversationBasicInfo,
            keys=(Key("shop_id", "shop_id"),),
            collection="threads",
            summary="Every thread.",
        ),
        Endpoint(
            name="fetch",
            role=Role.GET,
            method="GET",
            path=_PATH + "/{messageConversationId}",
            params=(_SHOP, _THREAD),
            answer=MessageConversation,
            keys=_KEYS,
            collection="threads",
            summary="One thread.",
        ),
        Endpoint(
            name="update",
            role=Role.UPDATE,
            method="PUT",
            path=_PATH + "/{messageConversationId}",
            params=(_SHOP, _THREAD),
            body=MessageConversationChanges,
            answer=MessageConversation,
            keys=_KEYS,
            collection="threads",
            summary="Save a thread.",
        ),
    ),
)


def test_the_naming_rule() -> None:
    assert kebab("fromDateChanged") == "from-date-changed"
    assert kebab("post_message") == "post-message"
    assert kebab("parcelStatusId") == "parcel-status-id"
    assert param_flag(_SHOP) == "--shop"
    assert param_flag(_THREAD) == "--message-conversation"
    assert param_flag(PathParam(wire="code", name="code", type=str)) == "--code"
    query = QueryParam(wire="fromDateChanged", name="from_date_changed", kind=QueryKind.DATE)
    assert filter_flag(query) == "--from-date-changed"
    verbs = [verb(e) for e in RESOURCES[0].endpoints]
    assert verbs == ["export", "get", "update", "export-messages", "post-message"]


def test_a_writing_command_reads_keyed_path_parameters_from_each_line() -> None:
    commands = {c.name: c for c in derive(RESOURCES)}
    update = commands["conversations update"]
    assert [p.field for p in update.path] == ["shop_id", "id"]
    assert update.options == ()
    post = commands["conversations post-message"]
    assert [p.flag for p in post.options] == ["--shop"]  # MessageChanges has no ShopId
    assert [p.field for p in post.from_lines] == ["message_conversation_id"]
    assert [p.flag for p in commands["conversations export-messages"].options] == [
        "--shop",
        "--message-conversation",
    ]


def test_a_derived_option_may_not_shadow_a_common_one() -> None:
    clash = _resource(
        name="clash",
        cli="clash",
        endpoints=(
            Endpoint(
                name="list",
                role=Role.LIST,
                method="GET",
                path="v1/Shops/{shopId}/X",
                params=(_SHOP,),
                query=(QueryParam(wire="format", name="format", kind=QueryKind.STR),),
                answer=MessageConversationBasicInfo,
                collection="x",
                summary="s",
            ),
        ),
    )
    with pytest.raises(ValueError, match="--format"):
        derive([clash])


def test_an_extra_resource_gets_its_commands_with_no_cli_change() -> None:
    parser = build_parser((*RESOURCES, THREADS))
    args = parser.parse_args(
        ["threads", "export", "--shop", "7", "--from-date-changed", "2026-01-02T03:04:05Z"]
    )
    assert args.command_spec.resource is THREADS
    assert args.shop_id == 7
    assert args.from_date_changed.isoformat() == "2026-01-02T03:04:05+00:00"
    args = parser.parse_args(["threads", "fetch", "--shop", "7", "--message-conversation", "3"])
    assert (args.command_spec.endpoint.name, args.message_conversation_id) == ("fetch", 3)
    args = parser.parse_args(["threads", "update", "--dry-run", "in.jsonl"])
    assert args.command_spec.writes
    assert args.dry_run
    with pytest.raises(SystemExit):
        build_parser(RESOURCES).parse_args(["threads", "export", "--shop", "7"])


@pytest.fixture
async def threads_client(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeShopServer]:
    """The client reaches ``threads`` by the resource's name: the command line finds
    the resource and its methods by name, whatever they are."""
    monkeypatch.setattr(ShopApiClient, "threads", property(_Threads), raising=False)
    async with FakeShopServer(username=USER, password=PASSWORD) as server:
        server.seed(12, shop_id=7)
        yield server


async def test_an_extra_resource_is_dispatched_through_the_client_by_name(
    threads_client: FakeShopServer, tmp_path: Path
) -> None:
    server = threads_client
    parser = build_parser((*RESOURCES, THREADS))
    env = {**ENV, "SHOPAPI_BASE_URL": server.base_url}

    list_calls.clear()
    args = parser.parse_args(["threads", "export", "--shop", "7"])
    out, err = io.BytesIO(), io.StringIO()
    assert await export(args.command_spec, args, stdout=out, stderr=err, env=env) == 0
    lines = out.getvalue().splitlines()
    assert [orjson.loads(line)["Id"] for line in lines] == list(range(1, 13))
    assert "exported 12 threads" in err.getvalue()
    argv = ["threads", "export", "--shop", "7", "--from-date-changed", "2026-01-02T03:04:05Z"]
    args = parser.parse_args(argv)
    assert await export(args.command_spec, args, stdout=io.BytesIO(), stderr=err, env=env) == 0
    since = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    # A filter not given is not passed; one given goes as the keyword the spec names.
    assert list_calls == [{"shop_id": 7}, {"shop_id": 7, "from_date_changed": since}]

    args = parser.parse_args(["threads", "fetch", "--shop", "7", "--message-conversation", "4"])
    out = io.BytesIO()
    assert await get(args.command_spec, args, stdout=out, stderr=io.StringIO(), env=env) == 0
    assert orjson.loads(out.getvalue())["Id"] == 4

    conversation = server.get(7, 5)
    assert conversation is not None
    path = tmp_path / "in.jsonl"
    path.write_bytes(JsonCodec().encode(conversation.to_changes(note="via threads")) + b"\n")
    args = parser.parse_args(["threads", "update", str(path)])
    err = io.StringIO()
    code = await write(args, stdin=io.BytesIO(), stderr=err, env=env)
    assert code == 0, err.getvalue()
    assert server.get(7, 5).note == "via threads"  # type: ignore[union-attr]


def _all_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every leaf command's parser, by its words."""
    out: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                inner = _all_parsers(sub)
                if inner:
                    out.update({f"{name} {k}": v for k, v in inner.items()})
                else:
                    out[name] = sub
    return out


def test_every_command_has_help_with_defaults_and_an_example() -> None:
    leaves = _all_parsers(build_parser())
    assert set(leaves) == {c.name for c in derive(RESOURCES)} | {"bulk-update", "serve", "demo"}
    assert {
        "conversations export",
        "conversations get",
        "conversations update",
        "conversations export-messages",
        "conversations post-message",
    } <= set(leaves)
    for name, parser in leaves.items():
        text = parser.format_help()
        assert "\nexample:\n  shopapi " in text, name
        assert "(default: " in text, name
    update = " ".join(leaves["conversations update"].format_help().split())
    assert "--concurrency CONCURRENCY" in update
    assert "(default: auto)" in update
    assert "(default: $SHOPAPI_BASE_URL)" in update
    assert "jq -c" in update  # the pipeline, export to update
    serve = " ".join(leaves["serve"].format_help().split())
    assert "(ids 1..N) (default: 100)" in serve
    assert "per request (default: 0.0)" in serve
    assert "0 picks a free one (default: 0)" in serve


def test_the_top_level_help_states_the_naming_rule(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "shopId: --shop" in out
    assert "fromDateChanged: --from-date-changed" in out
    assert "SHOPAPI_BASE_URL" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from shopapi import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"shopapi {__version__}"


def test_options_win_over_the_environment() -> None:
    args = build_parser().parse_args(
        ["conversations", "export", "--shop", "1", "--base-url", "http://a", "--username", "o"]
    )
    env = {"SHOPAPI_BASE_URL": "http://env", "SHOPAPI_USERNAME": "e", "SHOPAPI_PASSWORD": "pe"}
    assert base_url(args, env) == "http://a"
    assert credentials(args, env) == ("o", "pe")
    args = build_parser().parse_args(["conversations", "export", "--shop", "1", "--password", "po"])
    assert base_url(args, env) == "http://env"
    assert credentials(args, env) == ("e", "po")
    assert credentials(args, {"SHOPAPI_USERNAME": "e"}) == ("e", "po")


def test_a_missing_base_url_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SHOPAPI_BASE_URL", raising=False)
    with pytest.raises(SystemExit) as info:
        main(["conversations", "export", "--shop", "1"])
    assert info.value.code == 2
    assert "SHOPAPI_BASE_URL" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["conversations", "export"],  # --shop is required
        ["conversations", "export", "--shop", "x"],
        ["conversations", "get", "--shop", "1"],
        ["conversations", "post-message", "in.jsonl"],
        ["serve", "--fault-rate", "2"],
        ["serve", "--port", "70000"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


async def test_an_update_refuses_a_line_that_would_clear_the_members_it_lacks(
    tmp_path: Path,
) -> None:
    async with FakeShopServer(username=USER, password=PASSWORD) as server:
        (conversation,) = server.seed(1, shop_id=1)
        names = attrs.fields_dict(MessageConversationBasicInfo)
        basic = {f: getattr(conversation, f) for f in names}
        line = orjson.loads(JsonCodec().encode(MessageConversationBasicInfo(**basic)))
        path = tmp_path / "basic.jsonl"
        path.write_bytes(orjson.dumps({**line, "Rating": 1}) + b"\n")
        failures = tmp_path / "failed.jsonl"
        args = build_parser().parse_args(
            ["conversations", "update", "--failures", str(failures), str(path)]
        )
        env = {**ENV, "SHOPAPI_BASE_URL": server.base_url}
        err = io.StringIO()
        assert await write(args, stdin=io.BytesIO(), stderr=err, env=env) == 1
        (record,) = [orjson.loads(raw) for raw in failures.read_bytes().splitlines()]
        assert record["$failure"]["error"] == "DecodeError"
        assert record["$failure"]["field"] == "ExternalKey"
        assert "export with --full" in record["$failure"]["message"]
        assert server.requests == []
        assert server.get(1, 1) == conversation  # the ten detail fields are intact
        # Given as null on purpose, they are sent.
        details = {f.wire: None for f in wire_fields(MessageConversationChanges)}
        details = {k: v for k, v in details.items() if k not in line}
        assert len(details) == 10
        path.write_bytes(orjson.dumps({**line, **details}) + b"\n")
        assert await write(args, stdin=io.BytesIO(), stderr=io.StringIO(), env=env) == 0
        assert server.get(1, 1).note is None  # type: ignore[union-attr]


def _message(conversation_id: int, body: str, message_id: int = 0) -> bytes:
    return orjson.dumps(
        {
            "Id": message_id,
            "MessageConversationId": conversation_id,
            "Body": body,
            "MessageSenderEnumValue": 0,
            "TypeEnumValue": 0,
        }
    )


async def test_post_message_sends_each_line_once_in_order_and_journals_each(
    tmp_path: Path,
) -> None:
    async with FakeShopServer(username=USER, password=PASSWORD) as server:
        server.seed(3, shop_id=4)
        path = tmp_path / "new.jsonl"
        lines = [_message(1, "a"), _message(2, "b"), _message(1, "c"), _message(3, "x", 9)]
        path.write_bytes(b"\n".join(lines) + b"\n")
        journal = tmp_path / "job.journal"
        argv = ["conversations", "post-message", "--shop", "4", "--journal", str(journal)]
        args = build_parser().parse_args([*argv, str(path)])
        env = {**ENV, "SHOPAPI_BASE_URL": server.base_url}
        err = io.StringIO()
        assert await write(args, stdin=io.BytesIO(), stderr=err, env=env) == 1
        assert "failed: line 4 (shop 4, conversation 3): ValidationError" in err.getvalue()
        assert "saved 3, failed 1" in err.getvalue()
        assert [m.body for m in server.messages(4, 1)] == ["a", "c"]  # input order
        assert [m.body for m in server.messages(4, 2)] == ["b"]
        records = [orjson.loads(raw) for raw in journal.read_bytes().splitlines()]
        assert records[0]["job"]["command"] == "conversations post-message"
        assert sorted(r["key"] for r in records[1:]) == [[4, 1, 1], [4, 1, 3], [4, 2, 2]]

        # A re-run posts nothing twice: each saved line is skipped on its own.
        err = io.StringIO()
        assert await write(args, stdin=io.BytesIO(), stderr=err, env=env) == 1
        assert "saved 0, failed 1, skipped 3" in err.getvalue()
        assert [m.body for m in server.messages(4, 1)] == ["a", "c"]

        # The journal of one command is not another's.
        update = build_parser().parse_args(
            ["conversations", "update", "--journal", str(journal), str(path)]
        )
        err = io.StringIO()
        assert await write(update, stdin=io.BytesIO(), stderr=err, env=env) == 3
        assert "command 'conversations post-message'" in err.getvalue()


def test_a_dry_run_of_an_insert_checks_the_id(tmp_path: Path) -> None:
    path = tmp_path / "new.jsonl"
    path.write_bytes(_message(1, "ok") + b"\n" + _message(1, "bad", 5) + b"\n")
    args = build_parser().parse_args(
        ["conversations", "post-message", "--shop", "4", "--dry-run", str(path)]
    )
    out, err = io.BytesIO(), io.StringIO()
    code = asyncio.run(write(args, stdin=io.BytesIO(), stderr=err, env={}, stdout=out))
    assert code == 1
    assert "invalid: line 2: ValidationError" in err.getvalue()
    assert "Id: must be 0" in err.getvalue()
    (shown,) = out.getvalue().splitlines()
    assert orjson.loads(shown)["Body"] == "ok"


async def test_a_full_export_reads_ahead_in_list_order_and_stops_at_a_failed_read() -> None:
    async with FakeShopServer(
        username=USER, password=PASSWORD, capacity=64, service_time=0.01
    ) as server:
        server.seed(30, shop_id=2)
        env = {**ENV, "SHOPAPI_BASE_URL": server.base_url}
        argv = ["conversations", "export", "--shop", "2", "--full", "--concurrency", "6"]
        args = build_parser().parse_args(argv)
        out, err = io.BytesIO(), io.StringIO()
        assert await export(args.command_spec, args, stdout=out, stderr=err, env=env) == 0
        items = [orjson.loads(line) for line in out.getvalue().splitlines()]
        assert [item["Id"] for item in items] == list(range(1, 31))
        assert "ExternalKey" in items[0]  # in full: the detail members are there
        assert server.load().peak_in_service >= 2  # the reads overlapped

        server.inject(Fault.status(404), conversation_id=9)
        out, err = io.BytesIO(), io.StringIO()
        assert await export(args.command_spec, args, stdout=out, stderr=err, env=env) == 5
        assert [orjson.loads(line)["Id"] for line in out.getvalue().splitlines()] == list(
            range(1, 9)
        )
        assert "NotFoundError" in err.getvalue()
        assert "exported 8 conversations before it" in err.getvalue()


def test_the_docs_quick_start_is_the_command_line_guides() -> None:
    """The two terminals of the command-line guide's first section, verbatim on the docs'
    front page."""
    root = Path(__file__).resolve().parents[1]
    guide = (root / "docs" / "guides" / "command-line.md").read_text("utf-8")
    section = guide[guide.index("## Try it on the fake server") :].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n.+?\n```", section, re.DOTALL)
    assert len(blocks) == 2
    assert "shopapi serve" in blocks[0]
    assert "conversations export --shop 1 --full" in blocks[1]
    front = (root / "docs" / "index.md").read_text("utf-8")
    assert all(block in front for block in blocks)


async def test_serve_seeds_every_resource_so_each_export_has_items() -> None:
    """``shopapi serve --seed N`` stores N items in every list, not only conversations
    (an ``orders export`` against it would show nothing otherwise), and one item for
    each single read, at the shop given and ids 1."""
    out, err, stop = io.StringIO(), io.StringIO(), asyncio.Event()
    task = asyncio.create_task(
        serve(
            port=0,
            seed=4,
            shop=3,
            fault_rate=0.0,
            latency=0.0,
            username=USER,
            password=PASSWORD,
            stdout=out,
            stderr=err,
            stop=stop,
        )
    )
    try:
        for _ in range(1000):  # serve() writes the variables once it listens
            if "SHOPAPI_PASSWORD" in out.getvalue():
                break
            await asyncio.sleep(0.01)
        base_url = out.getvalue().split("=", 1)[1].split("\n", 1)[0]
        async with ShopApiClient(base_url, auth=(USER, PASSWORD)) as client:
            assert len([o async for o in client.orders.list(3)]) == 4
            assert len([p async for p in client.orders.parcels(3)]) == 4
            assert len(await client.orders.order_parcels(1)) == 4
            assert len(await client.shops.payment_terms(3)) == 4
            assert (await client.orders.by_code(3, "1")).shop_id == 3
            assert len([c async for c in client.message_conversations.list(3)]) == 4
    finally:
        stop.set()
        assert await task == 0
    assert "4 items in every other list" in err.getvalue()
