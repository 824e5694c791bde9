"""The command line: ``python -m shopapi <noun> <verb> ...``, ``bulk-update``, ``serve``
and ``demo``.

The nouns and verbs derive from the resource descriptions (:mod:`shopapi._cli.commands`
says the rule); ``bulk-update`` is ``conversations update`` by its first name. Parsing is
the standard library's argparse: the commands are made from data at run time, which
argparse does directly, and a dependency (click, typer, rich) would add nothing the
tool needs but its weight. The exit statuses are in :mod:`shopapi._cli.common` and the
bulk jobs guide. A first Ctrl-C of a writing command stops reading input and lets the items in
flight finish (so the journal has them all); a second abandons them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .._resources import RESOURCES
from .._resources.spec import QueryKind, Resource, Role
from .commands import Command, derive
from .common import (
    BROKEN_PIPE,
    FATAL,
    INTERRUPTED,
    JOURNAL_LOCKED,
    JOURNAL_MISMATCH,
    SOME_FAILED,
    USAGE_ERROR,
    WRITE_FAILED,
    Progress,
    UsageError,
    base_url,
    logging_to,
)
from .input import ALLOW_UNKNOWN_OPTION, FAILURE_KEY
from .reading import export, full_reader, get
from .terminal import printable
from .writing import describe_error, is_fatal, write

__all__ = [
    "BROKEN_PIPE",
    "FATAL",
    "INTERRUPTED",
    "JOURNAL_LOCKED",
    "JOURNAL_MISMATCH",
    "SOME_FAILED",
    "USAGE_ERROR",
    "WRITE_FAILED",
    "Progress",
    "UsageError",
    "build_parser",
    "bulk_update",
    "describe_error",
    "is_fatal",
    "main",
]

#: ``bulk-update``: the first name of ``conversations update``, kept as an alias.
bulk_update = write

_NAMING_RULE = """\
Commands and options derive from the API's resource descriptions, by one rule:
  - a resource is a noun (conversations); a list is exported with 'export' (the list
    named 'list') or 'export-<name>' (export-messages); every other endpoint's verb is
    its name in kebab case (get, update, post-message);
  - a path parameter is the kebab case of its wire name without a trailing 'Id'
    (shopId: --shop, messageConversationId: --message-conversation); a filter is the
    kebab case of its wire name (fromDateChanged: --from-date-changed); a writing
    command reads the path parameters its bodies carry (Id, ShopId ...) from each line.
The base URL and the credentials come from --base-url, --username and --password, or
else from SHOPAPI_BASE_URL, SHOPAPI_USERNAME and SHOPAPI_PASSWORD (the options win).
stdout holds data only; progress and messages go to stderr. Exit statuses: 0 success,
1 some items failed (or were invalid, in a dry run), 2 usage error, 3 journal of
another job, 4 journal in use, 5 fatal (no item can succeed, or a read failed),
6 journal or failures file not written, 130 interrupted, 141 output pipe closed.
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written; every option's default in its help, unless
    it has none worth showing (``None``, ``False``) or the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" not in text
            and "default:" not in text
            and default is not None
            and default is not False
            and default is not argparse.SUPPRESS
            and action.option_strings
        ):
            text += " (default: %(default)s)"
        return text


def _int_within(low: int, high: int | None, bound: str) -> Callable[[str], int]:
    """An argparse ``type=``: an integer from ``low`` to ``high``, else ``must be <bound>``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{bound}: {text!r}")
        return value

    return parse


_positive_int = _int_within(1, None, "must be >= 1")
_count = _int_within(0, None, "must be >= 0")
_port = _int_within(0, 65535, "not a port (0-65535)")


def _concurrency(text: str) -> int | str:
    """``auto`` (adaptive) or an int >= 1."""
    if text.strip().lower() == "auto":
        return "auto"
    return _positive_int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1]: {text!r}")
    return value


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"true or false, not {text!r}")
    return lowered == "true"


def _date(text: str) -> datetime.datetime:
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"give an offset ({text}Z or {text}+01:00): the server would read a date "
            "without one in its own time zone"
        )
    return value


def _ids(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"comma-separated integers, not {text!r}") from None


_QUERY_TYPES: dict[QueryKind, Callable[[str], Any]] = {
    QueryKind.INT: int,
    QueryKind.STR: str,
    QueryKind.BOOL: _boolean,
    QueryKind.DATE: _date,
    QueryKind.IDS: _ids,
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("shopapi")
    except PackageNotFoundError:  # run from a source tree that is not installed
        from .. import __version__

        return __version__


def _verbose(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default,
        help="log the shopapi logger on stderr: -v for INFO (retries), -vv for DEBUG "
        "(every request's method, path and outcome); credentials are never logged",
    )


def _connection_options() -> argparse.ArgumentParser:
    """The options of every command that talks to the API."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection")
    group.add_argument(
        "--base-url",
        default=None,
        help="tenant root, e.g. https://x.shopctrl.com:52222 (default: $SHOPAPI_BASE_URL)",
    )
    group.add_argument("--username", default=None, help="(default: $SHOPAPI_USERNAME)")
    group.add_argument(
        "--password",
        default=None,
        help="visible to other users of this machine in the process list: prefer the "
        "variable (default: $SHOPAPI_PASSWORD)",
    )
    group.add_argument("--format", choices=("json", "xml"), default="json", help="wire format")
    group.add_argument("--timeout", type=_positive_float, default=30.0, help="seconds per attempt")
    group.add_argument("--max-attempts", type=_positive_int, default=4, help="attempts per request")
    group.add_argument("--rate", type=_positive_float, default=None, help="requests per second")
    _verbose(common, argparse.SUPPRESS)
    return common


def _invocation(command: Command) -> str:
    """``shopapi <noun> <verb>`` with its required options (ids are placeholders)."""
    options = " ".join(f"{p.flag} {index + 1}" for index, p in enumerate(command.options))
    return f"shopapi {command.noun} {command.verb}" + (f" {options}" if options else "")


def _example(command: Command, commands: Sequence[Command]) -> str:
    """One example of ``command``, made from its description; for an update, the whole
    pipeline from its resource's export."""
    prefix = _invocation(command)
    noun = command.endpoint.collection
    if command.endpoint.role is Role.GET:
        return prefix
    if command.endpoint.role is Role.LIST:
        return f"{prefix} > {noun}.jsonl"
    if command.endpoint.role is Role.UPDATE:
        lister = next(
            (
                c
                for c in commands
                if c.resource is command.resource
                and c.endpoint.role is Role.LIST
                and c.endpoint.collection == command.endpoint.collection
            ),
            None,
        )
        if lister is not None:
            full = " --full" if full_reader(lister) is not None else ""
            return (
                f"{_invocation(lister)}{full} > {noun}.jsonl\n"
                f"  jq -c '.Note = \"checked\"' {noun}.jsonl > changes.jsonl\n"
                f"  {prefix} --dry-run --against {noun}.jsonl changes.jsonl\n"
                f"  {prefix} --journal job.journal changes.jsonl"
            )
        return f"{prefix} --journal job.journal {noun}.jsonl"
    return f"{prefix} --dry-run new-{noun}.jsonl\n  {prefix} --journal job.journal new-{noun}.jsonl"


def _add_write_options(parser: argparse.ArgumentParser, command: Command) -> None:
    body = command.endpoint.body
    name = body.__name__ if body is not None else "body"
    parser.add_argument(
        "file",
        metavar="FILE",
        help=f"one {name} per line in the API's JSON shape (PascalCase, as on the help "
        "page), or one XML document per line (as export --format xml writes); - reads stdin",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="read and check every line, print what would be sent (the first --show "
        "bodies, or the differences from --against), and send nothing",
    )
    if command.endpoint.role is Role.UPDATE:
        parser.add_argument(
            "--against",
            metavar="EXPORT",
            default=None,
            help="with --dry-run: print each line's differences from the item in EXPORT "
            "(an export's output)",
        )
    else:
        parser.set_defaults(against=None)
    parser.add_argument("--show", type=int, default=3, help="with --dry-run: the bodies printed")
    parser.add_argument(
        "--concurrency",
        type=_concurrency,
        default="auto",
        help="requests in flight, or 'auto' to adapt to the server's capacity",
    )
    parser.add_argument(
        "--journal",
        default=None,
        help="record saved items here; a re-run of the same job skips them (FILE only)",
    )
    parser.add_argument(
        "--failures",
        default=None,
        help=(
            "write the items not saved here, as input lines for the next run, each with "
            f"its error under {FAILURE_KEY!r}; truncated at start (default: stderr)"
        ),
    )
    parser.add_argument(
        ALLOW_UNKNOWN_OPTION,
        action="store_true",
        help=(
            "accept input members this version does not know (exports from a newer "
            "server) and send them back as the line writes them, in the line's format"
        ),
    )


def _add_command(
    verbs: Any,
    command: Command,
    commands: Sequence[Command],
    common: argparse.ArgumentParser,
    *,
    name: str | None = None,
) -> argparse.ArgumentParser:
    endpoint = command.endpoint
    what = {
        Role.LIST: "write every item, one per line (pages fetched as the lines go out)",
        Role.GET: "write the one item as a line",
        Role.UPDATE: "send every line of FILE (journal, failures file, dry run)",
        Role.INSERT: "send every line of FILE as a new item (journal, failures file, dry run)",
    }[endpoint.role]
    parser: argparse.ArgumentParser = verbs.add_parser(
        name or command.verb,
        parents=[common],
        help=f"{endpoint.method} {endpoint.path}: {endpoint.summary}",
        description=f"{endpoint.method} {endpoint.path}: {endpoint.summary}\n{what}.",
        epilog=f"example:\n  {_example(command, commands)}",
        formatter_class=_Formatter,
    )
    group = parser.add_argument_group("path and filters")
    for p in command.options:
        group.add_argument(
            p.flag,
            dest=p.dest,
            type=p.param.type,
            required=True,
            metavar=p.param.wire.upper(),
            help=f"the path's {{{p.param.wire}}}",
        )
    for f in command.filters:
        documented = f.query.default
        note = f" (server default: {documented})" if documented is not None else ""
        group.add_argument(
            f.flag,
            dest=f.dest,
            type=_QUERY_TYPES[f.query.kind],
            default=None,
            metavar=f.query.kind.value.upper(),
            help=f"filter {f.query.wire}{note}",
        )
    if command.writes:
        _add_write_options(parser, command)
    elif endpoint.role is Role.LIST:
        if full_reader(command) is not None:
            parser.add_argument(
                "--full",
                action="store_true",
                help="read each item in full (one GET per item): what an update needs, "
                "since a PUT sends every member",
            )
            parser.add_argument(
                "--concurrency",
                type=_positive_int,
                default=8,
                help="with --full: reads in flight (the lines keep the list's order)",
            )
        else:
            parser.set_defaults(full=False, concurrency=1)
    parser.set_defaults(command_spec=command)
    return parser


def build_parser(resources: Sequence[Resource] = RESOURCES) -> argparse.ArgumentParser:
    """The argument parser, derived from ``resources`` (exposed for the docs and the
    tests)."""
    commands = derive(resources)
    parser = argparse.ArgumentParser(
        prog="shopapi",
        description="ShopCtrl API client: export, get, update and insert from the command "
        "line; a fake server to try it on; a demo.",
        epilog=_NAMING_RULE,
        formatter_class=_Formatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="show the version"
    )
    _verbose(parser, 0)
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _connection_options()
    nouns: dict[str, list[Command]] = {}
    for command in commands:
        nouns.setdefault(command.noun, []).append(command)
    for noun, members in nouns.items():
        resource = members[0].resource
        noun_parser = subcommands.add_parser(
            noun,
            help=f"{resource.name}: " + ", ".join(c.verb for c in members),
            description=f"The {resource.name} endpoints.",
            epilog="examples:\n" + "\n".join(f"  {_example(c, commands)}" for c in members),
            formatter_class=_Formatter,
        )
        verbs = noun_parser.add_subparsers(dest="verb", required=True, metavar="VERB")
        for command in members:
            _add_command(verbs, command, commands, common)
    update = next(
        (c for c in commands if c.name == "conversations update"),
        None,
    )
    if update is not None:
        bulk = _add_command(subcommands, update, commands, common, name="bulk-update")
        bulk.description = "The first name of 'conversations update'. " + (bulk.description or "")

    serve = subcommands.add_parser(
        "serve",
        help="run the fake server, to try the command line on",
        description="Run shopapi's fake ShopCtrl server on 127.0.0.1 until Ctrl-C. It "
        "prints SHOPAPI_BASE_URL, SHOPAPI_USERNAME and SHOPAPI_PASSWORD on stdout.",
        epilog="example:\n  shopapi serve --port 8080 --seed 300 --fault-rate 0.05",
        formatter_class=_Formatter,
    )
    serve.add_argument("--port", type=_port, default=0, help="port; 0 picks a free one")
    serve.add_argument(
        "--seed",
        type=_count,
        default=100,
        help="sample items per list: N conversations, and N of every other list (ids 1..N)",
    )
    serve.add_argument("--shop", type=int, default=1, help="their shop id")
    serve.add_argument(
        "--fault-rate",
        type=_probability,
        default=0.0,
        help="probability of a transient 503 per request (seeded: reproducible)",
    )
    serve.add_argument("--latency", type=_seconds, default=0.0, help="seconds per request")
    serve.add_argument("--username", default="user", help="the user name it accepts")
    serve.add_argument("--password", default="secret", help="the password it accepts")
    _verbose(serve, argparse.SUPPRESS)

    demo = subcommands.add_parser(
        "demo",
        help="bulk-update a few hundred conversations on the built-in fake server",
        epilog="example:\n  shopapi demo --items 300",
        formatter_class=_Formatter,
    )
    demo.add_argument("--items", type=_positive_int, default=300, help="conversations to update")
    demo.add_argument("--concurrency", type=_positive_int, default=16, help="requests in flight")
    demo.add_argument("--format", choices=("json", "xml"), default="json", help="wire format")
    demo.add_argument(
        "--adaptive",
        action="store_true",
        help="only the second part: concurrency='auto' following a fake server whose "
        "capacity changes (the plain demo runs both parts)",
    )
    _verbose(demo, argparse.SUPPRESS)
    return parser


def _discard_output() -> None:
    """Point stdout and stderr at the null device, so that the interpreter's final
    flush of what is still buffered cannot raise ``BrokenPipeError`` again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            try:
                fd = stream.fileno()
            except (AttributeError, OSError, ValueError):
                continue  # not a real file (a test's capture): nothing to flush at exit
            os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def main(argv: Sequence[str] | None = None, *, resources: Sequence[Resource] = RESOURCES) -> int:
    """The ``shopapi`` console script and ``python -m shopapi``.

    A reader that closes the pipe early (``shopapi demo | head -3``) ends the command
    with status 141 and no traceback, as a program killed by SIGPIPE would end. SIGPIPE
    itself stays ignored (Python's default): it would also kill the process on a write
    to a socket the server closed.
    """
    try:
        try:
            code = _main(argv, resources)
        except SystemExit:  # argparse's --help, --version and usage errors
            sys.stdout.flush()
            raise
        sys.stdout.flush()  # a closed pipe is reported here, not at interpreter exit
        return code
    except BrokenPipeError:
        _discard_output()
        return BROKEN_PIPE


def _main(argv: Sequence[str] | None, resources: Sequence[Resource]) -> int:
    parser = build_parser(resources)
    args = parser.parse_args(argv)
    env = dict(os.environ)
    command: Command | None = getattr(args, "command_spec", None)
    if command is not None and not getattr(args, "dry_run", False):  # a dry run connects nowhere
        try:
            base_url(args, env)
        except UsageError as exc:
            parser.error(str(exc))
    try:
        with logging_to(sys.stderr, args.verbose):
            return _dispatch(args, command, env)
    except UsageError as exc:
        parser.exit(USAGE_ERROR, f"shopapi: error: {printable(str(exc))}\n")
    except (KeyboardInterrupt, asyncio.CancelledError):
        if command is not None and command.writes:
            sys.stderr.write("\nshopapi: interrupted; the journal keeps every item saved so far\n")
        else:
            sys.stderr.write("\nshopapi: interrupted\n")
        return INTERRUPTED


def _dispatch(args: argparse.Namespace, command: Command | None, env: dict[str, str]) -> int:
    if command is not None:
        stdout, stderr = sys.stdout.buffer, sys.stderr
        if command.writes:
            return asyncio.run(
                write(args, stdin=sys.stdin.buffer, stdout=stdout, stderr=stderr, env=env)
            )
        run = export if command.endpoint.role is Role.LIST else get
        return asyncio.run(run(command, args, stdout=stdout, stderr=stderr, env=env))
    if args.command == "serve":
        from .serve import serve

        return asyncio.run(
            serve(
                port=args.port,
                seed=args.seed,
                shop=args.shop,
                fault_rate=args.fault_rate,
                latency=args.latency,
                username=args.username,
                password=args.password,
                stdout=sys.stdout,
                stderr=sys.stderr,
            )
        )
    from .demo import run_adaptive_demo, run_demo

    if args.adaptive:
        return asyncio.run(run_adaptive_demo())
    status = asyncio.run(run_demo(items=args.items, concurrency=args.concurrency, fmt=args.format))
    sys.stdout.write("\n")
    return status or asyncio.run(run_adaptive_demo())
