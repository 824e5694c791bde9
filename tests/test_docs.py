"""Every Python example in ``docs/`` is tested: run against the fake server, type-checked, or both.

A page says what each ```` ```python ```` block needs in an HTML comment right above it
(invisible on the site)::

    <!-- example: run
    [conversation] = server.seed(1)
    ...
    assert saved.note == "called back"
    -->

The first line is ``example: run`` (run it against a fresh fake server, and type-check
it), ``example: script`` (a whole program, run as it stands in a thread of its own so
that its ``asyncio.run`` works, and type-checked) or ``example: typecheck: <why it cannot
run>`` (it needs a real tenant, say; it is only type-checked). The lines after it are
Python: a preamble, then a ``...`` line where the block goes (indented as the ``...``
is), then what follows the block, usually assertions that the example did what the page
says. Without a ``...`` line the block comes after the whole preamble.

Each ``run`` and ``typecheck`` example becomes the body of::

    async def example(server: FakeShopServer, client: ShopApiClient) -> None:

``server`` is a fresh ``FakeShopServer()`` on 127.0.0.1 (user ``user``, password
``secret``, nothing stored) and ``client`` a ``ShopApiClient`` logged in to it with short
retry waits. All examples are type-checked by one ``mypy --strict`` run; line numbers in
its errors and in tracebacks are the Markdown file's own.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import CodeType, ModuleType

import attrs
import pytest

import shopapi
import shopapi.codecs
import shopapi.helppage
import shopapi.testing
from shopapi import (
    MessageBasicInfo,
    MessageChanges,
    MessageConversationBasicInfo,
    MessageConversationChanges,
    RetryPolicy,
    ShopApiClient,
)
from shopapi._cli import common as cli_common
from shopapi._cli.app import build_parser
from shopapi._wire.fields import Kind, WireField, wire_fields
from shopapi.testing import FakeShopServer
from tools.griffe_attrs import default_text, public_bases
from tools.griffe_rst_roles import rewrite_roles

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: The fence languages a page may use. A Python example labelled anything else (``py``,
#: ``pycon``, no label) would escape these tests, so other labels are refused.
LANGUAGES = frozenset({"python", "sh", "json", "xml", "text"})
RUN_TIMEOUT = 30.0

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,}) *(?P<lang>[\w+-]*)[^`]*$")
_DIRECTIVE = re.compile(r"example:\s*(?P<mode>run|script|typecheck)\s*(?::\s*(?P<reason>.*?))?\s*$")
_MYPY_LINE = re.compile(r"^(?P<path>[^:\n]+\.py):(?P<line>\d+): (?P<what>.*)$")

_HEADER = (
    "from shopapi import ShopApiClient as _ShopApiClient\n"
    "from shopapi.testing import FakeShopServer as _FakeShopServer\n"
    "\n"
    "\n"
    "async def example(server: _FakeShopServer, client: _ShopApiClient) -> None:\n"
)


class DocsError(Exception):
    """A page breaks the rules above (an unmarked block, an unknown fence label ...)."""


@attrs.frozen
class Example:
    """One ```` ```python ```` block and what its comment says about it.

    Attributes:
        path: The Markdown file, relative to the repository root.
        line: The line of the opening fence (from 1).
        mode: ``run``, ``script`` or ``typecheck``.
        source: The generated module: the block inside ``example()``.
        lines: For each line of ``source``, the Markdown line it came from.
    """

    path: str
    line: int
    mode: str
    source: str
    lines: tuple[int, ...]

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"

    def doc_line(self, generated_line: int) -> int:
        """The Markdown line of a line of :attr:`source` (from 1)."""
        return self.lines[min(max(generated_line, 1), len(self.lines)) - 1]


def _comment_above(lines: list[str], fence: int) -> tuple[int, list[str]] | None:
    """The HTML comment ending on the last non-blank line above ``fence``: its first line
    and its lines (``<!--`` and ``-->`` stripped), or ``None``."""
    end = fence - 1
    while end >= 0 and not lines[end].strip():
        end -= 1
    if end < 0 or not lines[end].rstrip().endswith("-->"):
        return None
    start = end
    while start >= 0 and "<!--" not in lines[start]:
        start -= 1
    if start < 0:
        return None
    body = lines[start : end + 1]
    body[0] = body[0].split("<!--", 1)[1]
    body[-1] = body[-1].rsplit("-->", 1)[0]
    return start, body


def _build(
    path: str, fence_line: int, mode: str, code: list[str], context: list[str], context_line: int
) -> Example:
    """The module for one block: ``context`` (the comment's Python, first line at Markdown
    line ``context_line``) around ``code`` (first line at ``fence_line + 1``)."""
    before: list[tuple[str, int]] = []
    after: list[tuple[str, int]] = []
    indent = ""
    target = before
    dedented = textwrap.dedent("\n".join(context)).split("\n") if context else []
    for offset, text in enumerate(dedented):
        if text.strip() == "..." and target is before:
            indent = text[: len(text) - len(text.lstrip())]
            target = after
            continue
        target.append((text, context_line + offset))
    body = [
        *before,
        *((indent + t if t.strip() else "", fence_line + 1 + i) for i, t in enumerate(code)),
        *after,
    ]
    if mode == "script":
        header, pad = [], ""
    else:
        header, pad = _HEADER.splitlines(), "    "
    source_lines = header + [(pad + t if t.strip() else "") for t, _ in body]
    if not any(t.strip() for t, _ in body):
        source_lines.append(pad + "pass")
        body.append(("pass", fence_line))
    mapping = [fence_line] * len(header) + [n for _, n in body]
    return Example(path, fence_line, mode, "\n".join(source_lines) + "\n", tuple(mapping))


def extract(path: str, text: str) -> list[Example]:
    """Every ```` ```python ```` block of one page, with its comment's instructions.

    Raises:
        DocsError: A block without an ``example:`` comment, a fence label outside
            :data:`LANGUAGES`, an unclosed fence, or an ``example:`` comment that no
            block follows.
    """
    lines = text.split("\n")
    examples: list[Example] = []
    claimed: set[int] = set()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, fence, lang = match["indent"], match["fence"], match["lang"]
        close = next(
            (j for j in range(i + 1, len(lines)) if lines[j].rstrip() == indent + fence),
            None,
        )
        if close is None:
            raise DocsError(f"{path}:{i + 1}: the {fence} fence is never closed")
        if lang not in LANGUAGES:
            raise DocsError(
                f"{path}:{i + 1}: fence label {lang!r} is not one of {sorted(LANGUAGES)}"
            )
        if lang == "python":
            comment = _comment_above(lines, i)
            directive = None
            if comment is not None:
                directive = _DIRECTIVE.match(comment[1][0].strip())
            if comment is None or directive is None:
                raise DocsError(
                    f"{path}:{i + 1}: a python block needs an <!-- example: run --> or "
                    "<!-- example: typecheck: <why> --> comment right above it"
                )
            if directive["mode"] == "typecheck" and not directive["reason"]:
                raise DocsError(f"{path}:{i + 1}: say why the example cannot run")
            start, body = comment
            claimed.add(start)
            code = [
                t[len(indent) :] if t.startswith(indent) else t.lstrip()
                for t in lines[i + 1 : close]
            ]
            examples.append(_build(path, i + 1, directive["mode"], code, body[1:], start + 2))
        i = close + 1
    for number, line in enumerate(lines):
        if re.search(r"<!--\s*example:", line) and number not in claimed:
            raise DocsError(f"{path}:{number + 1}: no python block follows this example comment")
    return examples


def doc_examples() -> list[Example]:
    """The examples of every page under ``docs/``, in file and line order."""
    pages = sorted(DOCS.rglob("*.md"))
    assert pages, "docs/ holds no page"
    return [
        example
        for page in pages
        for example in extract(page.relative_to(ROOT).as_posix(), page.read_text("utf-8"))
    ]


EXAMPLES = doc_examples()


def compile_example(example: Example) -> CodeType:
    """The example's code object, with the Markdown file's line numbers (so a traceback
    points into the page)."""
    tree = ast.parse(example.source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.expr, ast.stmt, ast.excepthandler, ast.arg, ast.keyword)):
            start = example.doc_line(node.lineno)
            end = example.doc_line(node.end_lineno or node.lineno)
            node.lineno = start
            if end < start:
                end, node.end_col_offset = start, max(node.col_offset, node.end_col_offset or 0)
            node.end_lineno = end
    return compile(tree, str(ROOT / example.path), "exec")


async def run_example(example: Example) -> None:
    """Run one example against a fresh fake server (a ``script`` as it stands), bounded
    by :data:`RUN_TIMEOUT`."""
    namespace: dict[str, object] = {"__name__": f"docs_example_{example.line}"}
    code = compile_example(example)
    if example.mode == "script":
        await asyncio.wait_for(asyncio.to_thread(exec, code, namespace), RUN_TIMEOUT)
        return
    exec(code, namespace)
    body = namespace["example"]
    assert callable(body)
    fast = RetryPolicy(initial_backoff=0.01, max_backoff=0.05)
    async with (
        FakeShopServer(username="user", password="secret") as server,
        ShopApiClient(server.base_url, auth=("user", "secret"), retry=fast) as client,
    ):
        await asyncio.wait_for(body(server, client), RUN_TIMEOUT)


def mypy_errors(examples: list[Example], workdir: Path) -> list[str]:
    """``mypy --strict`` over every example at once; its complaints as ``page:line: ...``."""
    workdir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Example] = {}
    for number, example in enumerate(examples):
        name = f"example_{number:04d}.py"
        (workdir / name).write_text(example.source, "utf-8")
        files[name] = example
    config = workdir / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\npython_version = 3.11\n", "utf-8")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--cache-dir",
            str(workdir / ".mypy_cache"),
            "--no-error-summary",
            "--no-pretty",
            *sorted(files),
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode not in (0, 1) or completed.stderr.strip():
        raise RuntimeError(f"mypy failed to run: {completed.stderr or completed.stdout}")
    errors = []
    for raw in completed.stdout.splitlines():
        match = _MYPY_LINE.match(raw)
        found = files.get(Path(match["path"]).name) if match else None
        if match is None or found is None:
            errors.append(raw)
            continue
        errors.append(f"{found.path}:{found.doc_line(int(match['line']))}: {match['what']}")
    return errors


def _runnable() -> Iterator[object]:
    for example in EXAMPLES:
        if example.mode != "typecheck":
            yield pytest.param(example, id=example.id)


# -- the pages' examples --------------------------------------------------------------------


def test_the_pages_have_examples_and_most_run() -> None:
    runnable = [e for e in EXAMPLES if e.mode != "typecheck"]
    assert len(EXAMPLES) >= 10
    assert len(runnable) * 3 >= len(EXAMPLES) * 2, "at least two in three examples run"


@pytest.mark.parametrize("example", list(_runnable()))
async def test_example_runs_against_the_fake_server(example: Example) -> None:
    await run_example(example)


def test_every_example_passes_mypy_strict(tmp_path: Path) -> None:
    """One mypy run over every example, plus a sentinel that must fail: it proves the
    examples are really being checked."""
    [sentinel] = extract(
        "<sentinel>.md",
        '<!-- example: typecheck: broken on purpose -->\n```python\nn: int = "1"\n```\n',
    )
    errors = mypy_errors([*EXAMPLES, sentinel], tmp_path)
    assert any(e.startswith("<sentinel>.md:3: error: Incompatible types") for e in errors), errors
    assert [e for e in errors if not e.startswith("<sentinel>.md:")] == []


def test_code_lines_fit_the_page() -> None:
    """79 columns is what the content column shows at 1280 px without scrolling."""
    long = []
    for page in sorted(DOCS.rglob("*.md")):
        lang = None
        for number, line in enumerate(page.read_text("utf-8").split("\n"), 1):
            fence = _FENCE.match(line)
            if fence is not None:
                lang = fence["lang"] if lang is None else None
            elif lang in ("python", "sh") and len(line) > 79:
                long.append(f"{page.relative_to(ROOT)}:{number}: {len(line)} columns")
    assert long == []


# -- the harness itself ---------------------------------------------------------------------


def test_a_failing_example_fails_and_points_into_its_page() -> None:
    page = (
        "Intro.\n"
        "\n"
        "<!-- example: run\n"
        "[conversation] = server.seed(1)\n"
        "...\n"
        "assert saved.note == 'something else'\n"
        "-->\n"
        "```python\n"
        "changes = conversation.to_changes(note='called back')\n"
        "saved = await client.message_conversations.update(1, conversation.id, changes)\n"
        "```\n"
    )
    [example] = extract("docs/broken.md", page)
    with pytest.raises(AssertionError) as caught:
        asyncio.run(run_example(example))
    assert caught.traceback[-1].lineno + 1 == 6  # pytest counts lines from 0


def test_the_block_goes_where_the_ellipsis_is_indented() -> None:
    page = (
        "<!-- example: run\n"
        "for n in range(2):\n"
        "    ...\n"
        "total = 0\n"
        "-->\n"
        "    ```python\n"
        "    print(n)\n"
        "    ```\n"
    )
    [example] = extract("docs/x.md", page)
    assert "    for n in range(2):\n        print(n)\n    total = 0\n" in example.source
    assert [example.doc_line(n) for n in range(6, 9)] == [2, 7, 4]


@pytest.mark.parametrize(
    ("page", "complaint"),
    [
        ("```python\nx = 1\n```\n", "needs an <!-- example: run -->"),
        ("<!-- a plain comment -->\n```python\nx = 1\n```\n", "needs an <!-- example: run -->"),
        ("<!-- example: typecheck -->\n```python\nx = 1\n```\n", "say why"),
        ("```py\nx = 1\n```\n", "fence label 'py'"),
        ("```\nx = 1\n```\n", "fence label ''"),
        ("```python\nx = 1\n", "never closed"),
        ("<!-- example: run -->\n\nSome text.\n", "no python block follows"),
    ],
)
def test_pages_that_break_the_rules_are_refused(page: str, complaint: str) -> None:
    with pytest.raises(DocsError, match=re.escape(complaint)):
        extract("docs/x.md", page)


# -- the reference pages --------------------------------------------------------------------


def _rendered() -> list[object]:
    """The objects the pages render with ``::: path`` (mkdocstrings)."""
    objects: list[object] = []
    for page in DOCS.rglob("*.md"):
        for path in re.findall(r"^::: ([\w.]+)", page.read_text("utf-8"), re.M):
            module_name, _, name = path.rpartition(".")
            try:
                objects.append(importlib.import_module(path))
            except ImportError:
                objects.append(getattr(importlib.import_module(module_name), name))
    return objects


@pytest.mark.parametrize(
    "module", [shopapi, shopapi.codecs, shopapi.testing, shopapi.helppage], ids=lambda m: m.__name__
)
def test_the_reference_documents_every_public_name(module: ModuleType) -> None:
    rendered = _rendered()
    missing = {
        name
        for name in module.__all__
        if not any(getattr(module, name) is obj for obj in rendered)
        and f"{module.__name__}.{name}" not in _rendered_paths()
    }
    assert missing == set()


def _rendered_paths() -> set[str]:
    """The ``::: path`` directives themselves (constants are values, not identities)."""
    return {
        path
        for page in DOCS.rglob("*.md")
        for path in re.findall(r"^::: ([\w.]+)", page.read_text("utf-8"), re.M)
    }


def _tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table of ``text``: its body rows, cells without their backticks."""
    tables: list[list[list[str]]] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|---") and i > 0 and lines[i - 1].startswith("|"):
            rows = []
            for row in lines[i + 1 :]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip().strip("`") for c in row.strip().strip("|").split("|")])
            tables.append(rows)
    return tables


def _field_row(f: WireField) -> list[str]:
    kinds = {Kind.STR: "string", Kind.INT: "int", Kind.BOOL: "bool", Kind.TIMESTAMP: "date"}
    rules = ["required"] if f.required else []
    if not f.nullable:
        rules.append("not nullable")
    if f.max_length:
        rules.append(f"at most {f.max_length} characters")
    kind = f.enum.__name__ if f.enum is not None else kinds[f.kind]
    return [f.wire, f.name, kind, ", ".join(rules)]


@pytest.mark.parametrize(
    ("section", "full", "basic"),
    [
        ("## Conversation fields", MessageConversationChanges, MessageConversationBasicInfo),
        ("## Message fields", MessageChanges, MessageBasicInfo),
    ],
    ids=["conversations", "messages"],
)
def test_the_field_tables_match_the_models(section: str, full: type, basic: type) -> None:
    """The resource page's two tables per section are the basic type's fields and the
    ones the full type adds, row for row from the models' wire metadata."""
    text = (DOCS / "resources" / "message-conversations.md").read_text("utf-8")
    body = text.split(section, 1)[1].split("\n## ", 1)[0]
    in_basic = {f.name for f in wire_fields(basic)}
    expected = [
        [_field_row(f) for f in wire_fields(basic)],
        [_field_row(f) for f in wire_fields(full) if f.name not in in_basic],
    ]
    assert _tables(body) == expected


def _exit_status_table(text: str) -> list[list[str]]:
    """The body rows of the table whose header is ``| exit status | meaning |``."""
    header = "| exit status | meaning |"
    return _tables(header + text.split(header, 1)[1])[0]


def test_the_exit_statuses_have_one_table_and_it_is_the_command_lines() -> None:
    """One table for every command, in the bulk jobs guide (the README used to hold it;
    the command-line guide links to it): its rows are the exit statuses the command line
    defines, each of which its ``--help`` names too."""
    header = "| exit status | meaning |"
    holders = {
        page.relative_to(ROOT).as_posix(): page.read_text("utf-8").count(header)
        for page in [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
    }
    assert {page: n for page, n in holders.items() if n} == {"docs/guides/bulk-jobs.md": 1}
    statuses = _exit_status_table((DOCS / "guides" / "bulk-jobs.md").read_text("utf-8"))
    assert [row[0] for row in statuses] == ["0", "1", "2", "3", "4", "5", "6", "130", "141"]
    defined = {0} | {
        getattr(cli_common, name)
        for name in cli_common.__all__
        if isinstance(getattr(cli_common, name), int)
    }
    assert [int(row[0]) for row in statuses] == sorted(defined)
    epilog = " ".join((build_parser().epilog or "").split())
    named = re.findall(r"(?:^|, )(\d+) ", epilog.split("Exit statuses:", 1)[1].strip())
    assert named == [row[0] for row in statuses]


def test_the_development_page_lists_every_nox_session() -> None:
    """A session added to noxfile.py is not one that nobody knows of."""
    sessions = re.findall(r"^@nox\.session\ndef (\w+)\(", (ROOT / "noxfile.py").read_text(), re.M)
    page = (DOCS / "development.md").read_text("utf-8")
    assert len(sessions) >= 10
    assert [s for s in sessions if f"`nox -s {s}`" not in page] == []


def test_the_changelog_is_included() -> None:
    assert '--8<-- "CHANGELOG.md"' in (DOCS / "changelog.md").read_text()
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert changelog.startswith("# Changelog")
    assert "\n## [Unreleased]\n" in changelog


# -- reading the docstrings' reST roles (tools/griffe_rst_roles.py) -------------------------


def _known(target: str) -> str | None:
    return {
        "close": "shopapi._session.client.ShopApiClient.close",
        "ValidationError": "shopapi._exceptions.ValidationError",
        "shopapi.ApiError": "shopapi.ApiError",
        "ApiError.model_state": "shopapi._exceptions.ApiError.model_state",
    }.get(target)


@pytest.mark.parametrize(
    ("docstring", "rendered"),
    [
        (
            "call :meth:`close` first",
            'call <autoref identifier="shopapi._session.client.ShopApiClient.close" optional>'
            "<code>close</code></autoref> first",
        ),
        (
            "a :class:`~shopapi.ApiError`",
            'a <autoref identifier="shopapi.ApiError" optional><code>ApiError</code></autoref>',
        ),
        (
            "in :attr:`ApiError.model_state`",
            'in <autoref identifier="shopapi._exceptions.ApiError.model_state" optional>'
            "<code>ApiError.model_state</code></autoref>",
        ),
        (
            "raises :class:`the error <ValidationError>`",
            'raises <autoref identifier="shopapi._exceptions.ValidationError" optional>'
            "<code>the error</code></autoref>",
        ),
        ("see :data:`MESSAGE_NAMES`", "see <code>MESSAGE_NAMES</code>"),
        ("The tree::\n\n    Root\n", "The tree:\n\n    Root\n"),
        ("Like this:\n\n::\n\n    code\n", "Like this:\n\n\n    code\n"),
        ("a ``literal`` and std::vector in text", "a ``literal`` and std::vector in text"),
        (
            "Use it like this::\n\n    x = f(1)\n    await x.close()\n\nThen more.\n",
            "Use it like this:\n\n```python\nx = f(1)\nawait x.close()\n```\n\nThen more.\n",
        ),
        (
            "Args:\n    a: Like this::\n\n            f(a)\n",
            "Args:\n    a: Like this:\n\n    ```python\n    f(a)\n    ```\n",
        ),
        ("A formula::\n\n    C ~ L * base / rtt\n", "A formula:\n\n    C ~ L * base / rtt\n"),
    ],
)
def test_rest_roles_become_links(docstring: str, rendered: str) -> None:
    assert rewrite_roles(docstring, _known) == rendered


# -- the attrs constructors in the reference (tools/griffe_attrs.py) ------------------------


def test_attrs_defaults_read_as_in_the_source() -> None:
    import shopapi._protocol.retry as retry_module

    policy = attrs.fields_dict(RetryPolicy)
    assert default_text(policy["retry_statuses"].default, retry_module) == "RETRYABLE_STATUSES"
    assert default_text(policy["max_attempts"].default, retry_module) == "4"
    assert default_text(policy["deadline"].default, retry_module) == "None"
    assert default_text(attrs.Factory(list), retry_module) == "list()"


def test_private_bases_are_left_out_of_the_reference() -> None:
    bases = ["ShopApiError", "ValueError", "_ShopGroupBase", "shopapi._x._Base", "Generic[I, A]"]
    assert public_bases(bases) == ["ShopApiError", "ValueError", "Generic[I, A]"]
