"""A griffe extension: the reST roles of shopapi's docstrings, read as Markdown links.

The docstrings are written the Sphinx way (``:class:`ValidationError```, ``:meth:`close```,
``Use it like this::``), while mkdocstrings renders Markdown, where those show as literal
text. This rewrites them while the site is built, leaving the source alone:

- ``:class:`~shopapi.ApiError``` becomes a link titled ``ApiError`` (``~`` keeps the last
  part), ``:meth:`close``` a link to ``close`` resolved in the docstring's own scope;
- a paragraph ending in ``::`` ends in ``:`` (the indented block after it is already code
  in Markdown), and a ``::`` line of its own goes;
- a literal block that is Python (it compiles, and is more than a bare name) becomes a
  fenced ``python`` block, so that the reference highlights it as the guides do; any
  other block (the exception tree, a formula) stays plain.

The links are "optional" for mkdocs-autorefs: a target the site does not document shows
as code instead of failing the strict build. mkdocs.yml loads it by path; it needs nothing
from griffe but the objects it is handed.
"""

from __future__ import annotations

import ast
import html
import re
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["RstRoles", "rewrite_roles"]

_ROLE = re.compile(r":(?:class|meth|attr|func|data|exc|mod|obj|const):`(?P<body>[^`]+)`")
_EXPLICIT = re.compile(r"(?P<title>.+?)\s*<(?P<target>[^<>]+)>")
_BARE_MARKER = re.compile(r"(?m)^[ \t]*::[ \t]*\n")
_TRAILING_MARKER = re.compile(r"(?m)(?<=\S)::[ \t]*$")


def rewrite_roles(text: str, resolve: Callable[[str], str | None]) -> str:
    """``text`` with its reST roles as autorefs links and its ``::`` markers as ``:``.

    Args:
        text: A docstring.
        resolve: The full path of a role's target (``close`` -> ``shopapi._session.client
            .ShopApiClient.close``), or ``None`` when it names nothing known.
    """

    def link(match: re.Match[str]) -> str:
        body = match["body"].strip()
        explicit = _EXPLICIT.fullmatch(body)
        if explicit is not None:
            title, target = explicit["title"], explicit["target"].lstrip("~")
        else:
            target = body.lstrip("~")
            title = target.rsplit(".", 1)[-1] if body.startswith("~") else target
        target = target.removesuffix("()")
        code = f"<code>{html.escape(title)}</code>"
        full = resolve(target)
        if full is None:
            return code
        return f'<autoref identifier="{html.escape(full)}" optional>{code}</autoref>'

    text = _fence_python(_ROLE.sub(link, text))
    text = _BARE_MARKER.sub("", text)
    return _TRAILING_MARKER.sub(":", text)


def _is_python(source: str) -> bool:
    """Whether ``source`` parses as Python (``ast.parse`` allows ``await`` and ``async
    with`` at the top, as a usage sketch has them) and is more than lone names, which any
    one-word block would be."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return not all(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Name) for node in tree.body
    )


def _fence_python(text: str) -> str:
    """Each literal block after a ``::`` that is Python, as a fenced ``python`` block at
    the indentation of the paragraph that introduced it."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        if not line.rstrip().endswith("::"):
            continue
        indent = len(line) - len(line.lstrip())
        start = i
        while start < len(lines) and not lines[start].strip():
            start += 1
        end = start
        while end < len(lines) and (
            not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
        ):
            end += 1
        while end > start and not lines[end - 1].strip():
            end -= 1
        block = textwrap.dedent("\n".join(lines[start:end]))
        if end == start or not _is_python(block):
            continue
        pad = " " * indent
        out.append("")
        out.append(pad + "```python")
        out.extend(pad + code if code.strip() else "" for code in block.split("\n"))
        out.append(pad + "```")
        i = end
    return "\n".join(out)


def _scope_resolver(obj: Any) -> Callable[[str], str | None]:
    """Resolve a target as Python would from inside ``obj``: its members, then its
    parents' names (imports included); a dotted name from its first part."""

    def resolve(target: str) -> str | None:
        head, _, rest = target.partition(".")
        try:
            full = str(obj.resolve(head))
        except Exception:  # noqa: BLE001 - griffe's NameResolutionError: not in scope
            if head == obj.package.name:
                return target
            return None
        return f"{full}.{rest}" if rest else full

    return resolve


def _objects(obj: Any) -> Iterator[Any]:
    """``obj`` and everything defined in it (aliases are their targets' business)."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)


class RstRoles:
    """The extension: rewrites every docstring of a package once it is loaded."""

    def on_package(self, *, pkg: Any, **kwargs: Any) -> None:
        for obj in _objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = rewrite_roles(obj.docstring.value, _scope_resolver(obj))
