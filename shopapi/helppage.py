"""Read ASP.NET Web API Help Page pages into data: endpoints, their parameters, and types.

ShopCtrl publishes no OpenAPI document; its reference is the help site that Microsoft's
``Microsoft.AspNet.WebApi.HelpPage`` package renders (``https://<tenant>:52222/Help``).
Every such site uses the same templates, so one parser reads them all:

- ``<h1>`` holds ``METHOD path``, with the query string as ``?name={name}&...``;
- "URI Parameters", "Body Parameters" and "Resource Description" each hold a type name
  and a table of ``Name | Description | Type | Additional information``, where the last
  cell lists the DataAnnotations (``Required``, ``Max length: 50``, ``Is Optional.``,
  ``Default value is 100.``, ``Must be 0 (for insert operations)``);
- "Request Formats" and "Response Formats" hold one ``Sample:`` per media type.

The table lists a type's properties in reflection order, which is Json.NET's order
(derived class first); the XML sample shows XmlSerializer's (base class first), which is
how :func:`parse_page` keeps both.

Three inputs are accepted, all reduced to one stream of blocks before parsing:

- the page's HTML, as the site serves it (:func:`html_to_text`);
- its text with one paragraph per block element (what a browser's "save as text" gives);
- its text with the tables as Markdown rows (``| Name |`` ...), as some scrapers save it.

A page cut short (``[excerpt truncated here]``, or an HTML page that stops) yields what
it shows, marked ``partial``: a half-visible row is dropped, never guessed.

Run ``python -m shopapi.helppage PAGE... -o spec/api.json`` to turn pages into the JSON
description the client's resources are generated from (see ``spec/README.md``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal

import attrs

__all__ = [
    "Annotations",
    "HelpPage",
    "Property",
    "Sample",
    "TypeRef",
    "html_to_text",
    "parse_annotations",
    "parse_page",
    "parse_type",
]

TRUNCATED = "[excerpt truncated here"
#: The scalar type names the Help Page's ModelDescriptionGenerator prints.
SCALARS = frozenset(
    {
        "integer",
        "string",
        "date",
        "boolean",
        "decimal number",
        "byte",
        "character",
        "globally unique identifier",
        "time interval",
        "URI",
        "Object",
    }
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MEDIA_LINE = re.compile(r"[a-z]+/[\w.+-]+(, [a-z]+/[\w.+-]+)*\Z")
_REQUEST_LINE = re.compile(r"(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) (v\d+/\S*)\Z")
_HEADINGS = frozenset(
    {
        "Request Information",
        "URI Parameters",
        "Body Parameters",
        "Request Formats",
        "Response Information",
        "Resource Description",
        "Response Formats",
        "Requires Authorization!",
    }
)
_TABLE_HEADER_PLAIN = "NameDescriptionTypeAdditional information"
_TABLE_HEADER_MD = re.compile(
    r"(?P<title>.*?)\|?\s*Name\s*\|\s*Description\s*\|\s*Type\s*\|\s*Additional information\s*\|\Z"
)
_MD_RULE = re.compile(r"\|?(\s*-+\s*\|)+\Z")
_ANNOTATION = re.compile(
    r"None\."
    r"|Required\.?"
    r"|Is Optional\."
    r"|Default value is (?P<default>.*?)\.(?= |\Z)"
    r"|Max length: (?P<max>\d+)\.?"
    r"|Min length: (?P<min>\d+)\.?"
    r"|Must be 0 \(for insert operations\)|Must be 0\.?"
    r"|Range: inclusive between (?P<lo>\S+) and (?P<hi>\S+?)\.?(?= |\Z)"
    r"|Data type: (?P<datatype>\w+)\.?"
    r"|Matching regular expression pattern: (?P<pattern>.*?)"
    r"(?= (?:Required|Max length|Min length|Range)|\Z)"
)


@attrs.frozen
class TypeRef:
    """A type as a table's Type cell names it.

    Attributes:
        name: A scalar (``integer``, ``decimal number`` ...) or a model or enum name.
        collection: ``Collection of <name>`` (an array in JSON, ``ArrayOf<name>`` in XML).
    """

    name: str
    collection: bool = False

    @property
    def scalar(self) -> bool:
        """Whether ``name`` is one of the Help Page's scalar names, not a .NET type."""
        return self.name in SCALARS

    def __str__(self) -> str:
        return f"Collection of {self.name}" if self.collection else self.name


def parse_type(text: str) -> TypeRef | None:
    """The :class:`TypeRef` a Type cell names, or ``None`` when it names no type."""
    text = " ".join(text.split())
    collection = text.startswith("Collection of ")
    name = text.removeprefix("Collection of ")
    if name in SCALARS or _IDENT.match(name):
        return TypeRef(name, collection)
    return None


@attrs.frozen
class Annotations:
    """What the "Additional information" cell says of a parameter or property.

    Attributes:
        required: ``Required``.
        optional: ``Is Optional.`` (a query parameter with a default).
        default: The text of ``Default value is X.``, ``(null)`` included.
        max_length: ``Max length: N`` (2147483647 means unbounded ``nvarchar(max)``).
        min_length: ``Min length: N``.
        must_be_zero: ``Must be 0 (for insert operations)``: the body inserts.
        range: ``Range: inclusive between A and B``, as the two texts.
        other: Any annotation text this parser does not know, kept verbatim.
    """

    required: bool = False
    optional: bool = False
    default: str | None = None
    max_length: int | None = None
    min_length: int | None = None
    must_be_zero: bool = False
    range: tuple[str, str] | None = None
    other: tuple[str, ...] = ()


def parse_annotations(text: str) -> Annotations:
    """Read an "Additional information" cell: one or several annotations, in any layout."""
    text = " ".join(text.split())
    values: dict[str, object] = {}
    other: list[str] = []
    position = 0
    for match in _ANNOTATION.finditer(text):
        gap = text[position : match.start()].strip()
        if gap:
            other.append(gap)
        position = match.end()
        token = match.group(0)
        if token.startswith("Required"):
            values["required"] = True
        elif token == "Is Optional.":
            values["optional"] = True
        elif match.group("default") is not None:
            values["default"] = match.group("default")
        elif match.group("max") is not None:
            values["max_length"] = int(match.group("max"))
        elif match.group("min") is not None:
            values["min_length"] = int(match.group("min"))
        elif token.startswith("Must be 0"):
            values["must_be_zero"] = True
        elif match.group("lo") is not None:
            values["range"] = (match.group("lo"), match.group("hi"))
        elif token != "None.":
            other.append(token)
    tail = text[position:].strip()
    if tail:
        other.append(tail)
    return Annotations(**values, other=tuple(other))  # type: ignore[arg-type]


def _is_annotation(text: str) -> bool:
    text = " ".join(text.split())
    return bool(text) and not parse_annotations(text).other


@attrs.frozen
class Property:
    """One row of a parameter or property table."""

    name: str
    type: TypeRef
    description: str = ""
    annotations: Annotations = Annotations()


@attrs.frozen
class Sample:
    """A ``Sample:`` block: the media types it is for, and its text as shown."""

    media_types: tuple[str, ...]
    text: str
    complete: bool


@attrs.frozen
class Table:
    """A type's property table, as far as it is visible."""

    title: str
    rows: tuple[Property, ...]
    complete: bool


@attrs.frozen
class HelpPage:
    """One Help Page API page, as far as it is visible.

    Attributes:
        method: ``GET``, ``PUT`` ...
        path: The route template without its query (``v1/Shops/{shopId}/Parcels``).
        query: The query parameters the route template names, in order.
        description: The endpoint's documentation line.
        uri_parameters: The "URI Parameters" rows (path and query parameters).
        body: The request body's type, or ``None`` ("None.", or not visible).
        body_table: The body type's property table, when shown.
        response: The answer's type, or ``None``.
        response_table: The answer type's property table, when shown.
        request_samples: The request samples, in page order.
        response_samples: The response samples, in page order.
        requires_authorization: The page says "Requires Authorization!".
        partial: The page is cut short: what is not shown is unknown, not absent.
        source: Where the page was read (a URL or a file name).
    """

    method: str
    path: str
    query: tuple[str, ...]
    description: str
    uri_parameters: tuple[Property, ...]
    body: TypeRef | None
    body_table: Table | None
    response: TypeRef | None
    response_table: Table | None
    request_samples: tuple[Sample, ...]
    response_samples: tuple[Sample, ...]
    requires_authorization: bool
    partial: bool
    source: str = ""


# --- Blocks ---------------------------------------------------------------------------

BlockKind = Literal["text", "table", "sample", "truncated"]


@attrs.frozen
class _Block:
    kind: BlockKind
    text: str = ""
    table: Table | None = None
    sample: Sample | None = None


def _paragraphs(text: str) -> list[str]:
    """The non-blank lines, right-stripped: every block of the template is one line in
    both text renderings (a sample's lines keep their indentation)."""
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def _plain_rows(paras: list[str], start: int) -> tuple[list[Property], int, bool]:
    """Rows of a paragraph-per-cell table; an empty description cell leaves no paragraph,
    so a row is 3 or 4 paragraphs and more when the last cell holds several annotations."""
    rows: list[Property] = []
    index = start

    def at(i: int) -> str | None:
        return paras[i] if i < len(paras) else None

    while index < len(paras):
        name = paras[index]
        if name.startswith(TRUNCATED):
            return rows, index, False
        if name in _HEADINGS or not _IDENT.match(name):
            break
        one, two = at(index + 1), at(index + 2)
        if one is not None and parse_type(one) and two is not None and _is_annotation(two):
            description, type_at = "", index + 1
        elif two is not None and parse_type(two):
            description, type_at = one or "", index + 2
        else:
            # Neither layout fits: the row is cut off, or this is not a row at all.
            return rows, index, False
        notes: list[str] = []
        index = type_at + 1
        while (nxt := at(index)) is not None and _is_annotation(nxt):
            notes.append(nxt)
            index += 1
        following = at(index)
        if following is not None and following.startswith(TRUNCATED):
            # The last cell may hold more annotations than are visible: drop the row.
            return rows, index, False
        if not notes and following is None:
            return rows, index, False
        type_ref = parse_type(paras[type_at])
        assert type_ref is not None
        rows.append(Property(name, type_ref, description, parse_annotations(" ".join(notes))))
    return rows, index, True


def _blocks(text: str) -> Iterator[_Block]:
    """The page as blocks: text paragraphs, tables, samples and a truncation mark."""
    lines = text.splitlines()
    paras = _paragraphs(text)
    markdown = any(_TABLE_HEADER_MD.match(line.strip()) for line in lines)
    if markdown:
        yield from _markdown_blocks(lines)
    else:
        yield from _plain_blocks(paras)


def _sample(paras: list[str], index: int, media: str) -> tuple[Sample, int]:
    """A sample's lines from ``index``: up to the next media line, heading or the end."""
    body: list[str] = []
    complete = True
    while index < len(paras):
        line = paras[index].strip()
        if line.startswith(TRUNCATED):
            complete = False
            break
        if _MEDIA_LINE.match(line) or line in _HEADINGS:
            break
        body.append(paras[index])
        index += 1
    return Sample(tuple(m.strip() for m in media.split(",")), "\n".join(body), complete), index


def _markdown_cells(lines: list[str], start: int) -> tuple[list[str], int]:
    """The non-empty cells of a Markdown table from ``lines[start]``, and the index after
    it. An empty cell (a missing description) leaves no cell, as in the plain rendering,
    so one row reader serves both. A cut-off table ends with the truncation mark."""
    cells: list[str] = []
    current: list[str] = []
    index = start
    while index < len(lines):
        line = lines[index]
        if line.startswith(TRUNCATED):
            cells.append(" ".join(current).strip().removeprefix("|"))
            cells.append(TRUNCATED)
            current = []
            break
        if (
            not current
            and "|" not in line
            and (
                not line
                or line in _HEADINGS
                or _MEDIA_LINE.match(line)
                or _next_is_header(lines, index)
            )
        ):
            if line:
                break
            index += 1
            continue
        if line.endswith("|"):
            current.append(line[:-1])
            cells.extend(_split_cells(" ".join(current)))
            current = []
        else:
            current.append(line)
        index += 1
    if current:
        cells.append(" ".join(current))
    return [" ".join(c.split()) for c in cells if c.strip()], index


def _split_cells(text: str) -> list[str]:
    """One line's cells: ``name | type`` splits, but a description holding a ``|``
    (``'Black | XL'``) stays whole, since its pieces are not names, types or notes."""
    text = text.strip().removeprefix("|")
    pieces = [p.strip() for p in text.split("|")]
    if len(pieces) > 1 and all(
        _IDENT.match(p) or parse_type(p) or _is_annotation(p) or not p for p in pieces
    ):
        return pieces
    return [text]


def _next_is_header(lines: list[str], index: int) -> bool:
    return index + 1 < len(lines) and bool(_TABLE_HEADER_MD.match(lines[index + 1]))


def _markdown_blocks(lines: list[str]) -> Iterator[_Block]:
    stripped = [line.strip() for line in lines]
    index = 0
    while index < len(stripped):
        line = stripped[index]
        header = _TABLE_HEADER_MD.match(line)
        if not line:
            index += 1
        elif line.startswith(TRUNCATED):
            yield _Block("truncated", line)
            return
        elif header:
            title = header.group("title").strip().rstrip("|").strip()
            index += 1
            if index < len(stripped) and _MD_RULE.match(stripped[index]):
                index += 1
            cells, index = _markdown_cells(stripped, index)
            rows, _, clean = _plain_rows(cells, 0)
            yield _Block("table", table=Table(title, tuple(rows), clean))
            if not clean:
                yield _Block("truncated", TRUNCATED)
                return
        elif (
            _MEDIA_LINE.match(line)
            and index + 1 < len(stripped)
            and stripped[index + 1] == ("Sample:")
        ):
            rest = [raw.rstrip() for raw in lines[index + 2 :] if raw.strip()]
            sample, used = _sample(rest, 0, line)
            yield _Block("sample", sample=sample)
            if not sample.complete:
                yield _Block("truncated", TRUNCATED)
                return
            index = _advance(stripped, index + 2, used)
        else:
            yield _Block("text", line)
            index += 1


def _advance(lines: list[str], start: int, nonblank: int) -> int:
    """The index in ``lines`` after ``nonblank`` non-blank lines from ``start``."""
    index = start
    while nonblank and index < len(lines):
        if lines[index]:
            nonblank -= 1
        index += 1
    return index


def _plain_blocks(raw: list[str]) -> Iterator[_Block]:
    paras = [line.strip() for line in raw]
    index = 0
    while index < len(paras):
        line = paras[index]
        if line.startswith(TRUNCATED):
            yield _Block("truncated", line)
            return
        if line == _TABLE_HEADER_PLAIN:
            rows, index, clean = _plain_rows(paras, index + 1)
            yield _Block("table", table=Table("", tuple(rows), clean))
            if not clean:
                yield _Block("truncated", TRUNCATED)
                return
        elif _MEDIA_LINE.match(line) and index + 1 < len(paras) and paras[index + 1] == "Sample:":
            sample, index = _sample(raw, index + 2, line)
            yield _Block("sample", sample=sample)
            if not sample.complete:
                yield _Block("truncated", TRUNCATED)
                return
        else:
            yield _Block("text", line)
            index += 1


# --- The page -------------------------------------------------------------------------


def _split_route(route: str) -> tuple[str, tuple[str, ...]]:
    path, _, query = route.partition("?")
    names = tuple(
        part.split("=", 1)[0] for part in query.split("&") if part and "=" in part
    ) or tuple(part for part in query.split("&") if part)
    return path, names


def parse_page(text: str, *, source: str = "") -> HelpPage:
    """Parse one API page (text in either rendering, or HTML).

    Raises:
        ValueError: The text holds no ``METHOD v1/...`` line, so it is not an API page.
    """
    if "<h1" in text or "<table" in text:
        text = html_to_text(text)
    blocks = list(_blocks(text))
    start = next(
        (i for i, b in enumerate(blocks) if b.kind == "text" and _REQUEST_LINE.match(b.text)),
        None,
    )
    if start is None:
        raise ValueError(f"{source or 'the text'} has no 'METHOD v1/...' line")
    request = _REQUEST_LINE.match(blocks[start].text)
    assert request is not None
    method, route = request.groups()
    path, query = _split_route(route)

    section = "intro"
    description: list[str] = []
    uri: Table | None = None
    body: TypeRef | None = None
    body_table: Table | None = None
    response: TypeRef | None = None
    response_table: Table | None = None
    samples: dict[str, list[Sample]] = {"request": [], "response": []}
    pending_type: TypeRef | None = None
    auth = False
    partial = False
    for block in blocks[start + 1 :]:
        if block.kind == "truncated":
            partial = True
            break
        if block.kind == "text":
            t = block.text
            if t == "Requires Authorization!":
                auth = True
            elif t == "URI Parameters":
                section = "uri"
            elif t == "Body Parameters":
                section = "body"
            elif t in ("Response Information", "Resource Description"):
                section = "response"
            elif t == "Request Formats":
                section = "request-samples"
            elif t == "Response Formats":
                section = "response-samples"
            elif t == "Request Information":
                pass
            elif section == "intro":
                description.append(t)
            elif section in ("body", "response") and (ref := parse_type(t)) is not None:
                pending_type = ref
                if section == "body":
                    body = ref
                else:
                    response = ref
        elif block.kind == "table":
            assert block.table is not None
            table = block.table
            if table.title and (ref := parse_type(table.title)) is not None:
                pending_type = ref
                if section == "body":
                    body = ref
                elif section == "response":
                    response = ref
            if section == "uri":
                uri = table
            elif section == "body":
                body_table = attrs.evolve(table, title=str(pending_type or ""))
            elif section == "response":
                response_table = attrs.evolve(table, title=str(pending_type or ""))
            pending_type = None
            if not table.complete:
                partial = True
                break
        elif block.kind == "sample":
            assert block.sample is not None
            kind = "request" if section == "request-samples" else "response"
            samples[kind].append(block.sample)
            if not block.sample.complete:
                partial = True
                break
    if uri is None and section == "intro":
        partial = True  # cut before even the parameters
    return HelpPage(
        method=method,
        path=path,
        query=query,
        description=" ".join(description),
        uri_parameters=uri.rows if uri else (),
        body=body,
        body_table=body_table,
        response=response,
        response_table=response_table,
        request_samples=tuple(samples["request"]),
        response_samples=tuple(samples["response"]),
        requires_authorization=auth,
        partial=partial,
        source=source,
    )


def parse_model_page(text: str, name: str, *, source: str = "") -> Table:
    """Parse a ``Help/ResourceModel?modelName=X`` page: its property table alone."""
    if "<table" in text:
        text = html_to_text(text)
    for block in _blocks(text):
        if block.kind == "table" and block.table is not None:
            return attrs.evolve(block.table, title=name)
    raise ValueError(f"{source or 'the text'} holds no property table")


# --- HTML -----------------------------------------------------------------------------

_BLOCK_TAGS = frozenset({"h1", "h2", "h3", "h4", "p", "pre", "td", "th", "li", "div", "dt"})


def html_to_text(html: str) -> str:
    """A Help Page's HTML as the one-paragraph-per-block text :func:`parse_page` reads.

    A table header row becomes one line with its cells run together, as a browser's "save
    as text" writes it (``NameDescriptionTypeAdditional information``); each cell's
    paragraphs become paragraphs, and a ``<pre>`` sample keeps its lines. Parsing is
    lxml's HTML parser without network access or entity expansion beyond HTML's own.
    """
    import lxml.html

    root = lxml.html.document_fromstring(html)
    for bad in list(root.iter("script", "style", "head")):
        parent = bad.getparent()
        if parent is not None:
            parent.remove(bad)
    out: list[str] = []

    def emit(text: str) -> None:
        for line in text.splitlines():
            if line.strip():
                out.append(line.rstrip())

    def walk(element: lxml.html.HtmlElement) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        heads = [c for c in element if c.tag == "th"] if tag == "tr" else []
        if heads:
            emit("".join(" ".join(th.text_content().split()) for th in heads))
            return
        if tag == "pre":
            emit(element.text_content())
            return
        if tag in _BLOCK_TAGS and not any(
            isinstance(c.tag, str) and c.tag in _BLOCK_TAGS | {"table", "tr"}
            for c in element.iterdescendants()
        ):
            if tag in ("td", "h1", "h2", "h3", "h4"):
                emit(" ".join(element.text_content().split()))
            else:
                emit(element.text_content())
            return
        if element.text and element.text.strip() and tag not in ("table", "tr", "tbody"):
            emit(element.text)
        for child in element:
            walk(child)
            if child.tail and child.tail.strip():
                emit(child.tail)

    walk(root)
    return "\n".join(out)


# --- From pages to one description ----------------------------------------------------

#: Simple types the sample generator draws from its shared counter when not nullable.
_COUNTED = frozenset({"integer", "string", "date", "boolean", "decimal number", "byte"})
_SAMPLE_STRING = re.compile(r"sample string (\d+)\Z")


def _json_members(sample: Sample) -> list[tuple[str, object]] | None:
    """The top-level members of a JSON sample's (first) object, in order, as far as the
    sample is visible; ``None`` when it holds no object."""
    import json

    text = sample.text.strip()
    if not text.startswith(("{", "[")):
        return None
    try:
        value = json.loads(text, object_pairs_hook=_Members)
    except ValueError:
        return _visible_members(text)
    if isinstance(value, list) and not isinstance(value, _Members):
        value = value[0] if value else None
    return list(value) if isinstance(value, _Members) else None


class _Members(list[tuple[str, object]]):
    """A JSON object's members in order (``json.loads``'s ``object_pairs_hook``)."""


def _visible_members(text: str) -> list[tuple[str, object]]:
    """The complete ``"Name": scalar`` lines of a cut-off sample's first object."""
    import json

    members: list[tuple[str, object]] = []
    depth = 0
    for line in text.splitlines():
        stripped = line.strip()
        match = re.fullmatch(r'"(\w+)": (.*?),?', stripped)
        if depth <= 1 and match:
            raw = match.group(2)
            if raw in ("{", "["):
                members.append((match.group(1), _Members()))
            else:
                try:
                    members.append((match.group(1), json.loads(raw)))
                except ValueError:
                    break  # the cut line
        depth += stripped.count("{") + stripped.count("[")
        depth -= stripped.count("}") + stripped.count("]")
        if stripped.startswith("}") and depth <= 0 and members:
            break
    return members


def infer_nullable(
    rows: Sequence[Property], members: Sequence[tuple[str, object]]
) -> dict[str, bool]:
    """Which simple properties are ``Nullable<T>``, read off a JSON sample.

    The Help Page's ObjectGenerator fills every simple value from one shared index
    (``++index``: ints show it, strings as ``"sample string N"``, dates and booleans hide
    it), but a ``Nullable<T>`` from a fresh generator, so it shows 1 and takes no index.
    Every assignment of nullable / not nullable that replays the sample is explored
    (dynamic programming over the index), and only a property that is the same in all
    of them is reported. Enums and nested types take no index and are not reported.
    """
    types = {row.name: row.type for row in rows}
    steps: list[tuple[str, str, object]] = []
    for name, value in members:
        ref = types.get(name)
        if ref is None or ref.collection or ref.name not in _COUNTED:
            if ref is not None and (ref.collection or isinstance(value, list)):
                break  # a nested object or a collection draws an unknown number of indexes
            continue  # an enum takes no index
        steps.append((name, ref.name, value))

    def choices(kind: str, value: object, index: int) -> list[tuple[bool, int]]:
        """(nullable, next index) pairs consistent with one value at ``index``."""
        if kind == "string":
            match = _SAMPLE_STRING.match(value) if isinstance(value, str) else None
            return [(False, index + 1)] if match and int(match.group(1)) == index else []
        if kind in ("integer", "decimal number", "byte"):
            out = []
            if value == index:
                out.append((False, index + 1))
            if value == 1:
                out.append((True, index))
            return out
        return [(False, index + 1), (True, index)]  # a date or boolean shows no index

    # Forward: the indexes reachable before each step.
    reach: list[set[int]] = [{1}]
    for _, kind, value in steps:
        reach.append({n for i in reach[-1] for _, n in choices(kind, value, i)})
    # Backward: keep the indexes from which the rest of the sample can be replayed.
    alive: set[int] = reach[-1]
    seen: list[set[bool]] = [set() for _ in steps]
    for position in range(len(steps) - 1, -1, -1):
        _, kind, value = steps[position]
        before: set[int] = set()
        for index in reach[position]:
            for nullable, nxt in choices(kind, value, index):
                if nxt in alive:
                    seen[position].add(nullable)
                    before.add(index)
        alive = before
    # A string is a reference type: it takes null whatever the sample says.
    return {
        name: next(iter(s))
        for (name, kind, _), s in zip(steps, seen, strict=True)
        if len(s) == 1 and kind != "string"
    }


def _xml_members(sample: Sample) -> list[str] | None:
    """The child element names of an XML sample's (first) object, as far as visible."""
    text = " ".join(sample.text.split())
    root = re.match(r"<(\w+)[^>]*>", text)
    if root is None:
        return None
    body = text[root.end() :]
    if root.group(1).startswith("ArrayOf"):
        item = re.match(r"\s*<(\w+)>", body)
        if item is None:
            return None
        end = body.find(f"</{item.group(1)}>")
        body = body[item.end() : end if end >= 0 else len(body)]
    names: list[str] = []
    depth = 0
    for tag in re.finditer(r"<(/?)(\w+)([^>]*?)(/?)>", body):
        closing, name, _, empty = tag.groups()
        if closing:
            depth -= 1
            if depth < 0:
                break
        else:
            if depth == 0:
                names.append(name)
            if not empty:
                depth += 1
    if not sample.complete and names:
        names.pop()  # the last element may be cut inside
    return names


def split_levels(json_order: Sequence[str], xml_order: Sequence[str]) -> list[list[str]] | None:
    """The inheritance levels (base class first) that explain both member orders.

    Json.NET writes the most derived class's own members first and XmlSerializer the
    base class's first, so ``json = own_n + ... + own_0`` and ``xml = own_0 + ... +
    own_n``. Peeling the shortest common suffix-of-json / prefix-of-xml gives the finest
    split; ``None`` when the orders are not two views of one class chain.
    """
    j, x = list(json_order), list(xml_order)
    if sorted(j) != sorted(x):
        return None
    levels: list[list[str]] = []
    while j:
        for k in range(1, len(j) + 1):
            if j[-k:] == x[:k]:
                levels.append(x[:k])
                j, x = j[:-k], x[k:]
                break
        else:
            return None
    return levels


def _host(source: str) -> str:
    match = re.match(r"https?://([^/]+)/", source)
    return match.group(1) if match else ""


@attrs.frozen
class _Seen:
    table: Table
    host: str
    source: str
    json: Sample | None
    xml: Sample | None


def describe(
    pages: Sequence[HelpPage], models: Sequence[tuple[str, Table]] = ()
) -> dict[str, object]:
    """One JSON-ready description of the API the pages show.

    Endpoints are listed as their pages show them. Each type seen is described once: the
    table from the preferred host (the one most pages come from), and where that table is
    cut off, the further rows an older copy shows, each marked with where it came from.
    Inheritance is read from the samples (JSON against XML order) or, lacking them, from
    another type's rows ending this one's; nullability from the samples' counters.

    Args:
        pages: Parsed API pages.
        models: ``(source, table)`` pairs from ResourceModel pages.
    """
    hosts = [_host(p.source) for p in pages if _host(p.source)]
    preferred = max(set(hosts), key=hosts.count) if hosts else ""
    seen: dict[str, list[_Seen]] = {}

    def note(
        ref: TypeRef | None, table: Table | None, samples: Sequence[Sample], source: str
    ) -> None:
        if ref is None or table is None or ref.scalar:
            return
        json_sample = next((s for s in samples if "application/json" in s.media_types), None)
        xml_sample = next((s for s in samples if "application/xml" in s.media_types), None)
        seen.setdefault(ref.name, []).append(
            _Seen(table, _host(source), source, json_sample, xml_sample)
        )

    for page in pages:
        note(page.body, page.body_table, page.request_samples, page.source)
        note(page.response, page.response_table, page.response_samples, page.source)
    for source, table in models:
        note(TypeRef(table.title), table, (), source)

    described: dict[str, dict[str, object]] = {}
    for name in sorted(seen):
        copies = sorted(
            seen[name],
            key=lambda c: (c.host == preferred, c.table.complete, len(c.table.rows)),
            reverse=True,
        )
        best = copies[0]
        rows = [(row, best.source) for row in best.table.rows]
        complete = best.table.complete
        for other in copies[1:]:
            if complete:
                break
            names = [r.name for r, _ in rows]
            theirs = [r.name for r in other.table.rows]
            if names and names[-1] in theirs:
                tail = other.table.rows[theirs.index(names[-1]) + 1 :]
                rows += [(r, other.source) for r in tail if r.name not in names]
                complete = other.table.complete
        json_order = xml_order = None
        nullable: dict[str, bool] = {}
        for copy in copies:
            if copy.json is not None and json_order is None:
                members = _json_members(copy.json)
                if members:
                    json_order = [m for m, _ in members]
                    nullable = infer_nullable([r for r, _ in rows], members)
            if copy.xml is not None and xml_order is None:
                xml_order = _xml_members(copy.xml)
        described[name] = {
            "complete": complete,
            "sources": sorted({source for _, source in rows}),
            "properties": [
                _property_json(row, source, best.source, nullable.get(row.name))
                for row, source in rows
            ],
            "json_sample_order": json_order,
            "xml_sample_order": xml_order,
        }
    _describe_bases(described)
    return {
        "preferred_host": preferred,
        "endpoints": [_endpoint_json(page) for page in pages],
        "types": described,
        "referenced": sorted(_referenced(pages, described) - set(described)),
    }


def _property_json(
    row: Property, source: str, main: str, nullable: bool | None
) -> dict[str, object]:
    a = row.annotations
    out: dict[str, object] = {
        "name": row.name,
        "type": row.type.name,
        "collection": row.type.collection,
        "required": a.required,
        "max_length": a.max_length,
        "must_be_zero": a.must_be_zero,
        "nullable": nullable,
        "description": row.description,
    }
    if a.min_length is not None:
        out["min_length"] = a.min_length
    if a.range is not None:
        out["range"] = list(a.range)
    if a.other:
        out["other_annotations"] = list(a.other)
    if source != main:
        out["from"] = source
    return out


def _endpoint_json(page: HelpPage) -> dict[str, object]:
    in_path = set(re.findall(r"\{\*?(\w+)\}", page.path))
    params = []
    for p in page.uri_parameters:
        a = p.annotations
        params.append(
            {
                "name": p.name,
                "in": "path" if p.name in in_path else "query",
                "type": p.type.name,
                "collection": p.type.collection,
                "required": a.required,
                "default": None if a.default in (None, "(null)") else a.default,
                "catch_all": "{*" + p.name + "}" in page.path,
                "description": p.description,
            }
        )
    return {
        "method": page.method,
        "path": page.path,
        "description": page.description,
        "parameters": params,
        "body": None
        if page.body is None
        else {"type": page.body.name, "collection": page.body.collection},
        "response": None
        if page.response is None
        else {"type": page.response.name, "collection": page.response.collection},
        "requires_authorization": page.requires_authorization,
        "partial": page.partial,
        "source": page.source,
    }


def _referenced(pages: Sequence[HelpPage], types: dict[str, dict[str, object]]) -> set[str]:
    out: set[str] = set()
    for page in pages:
        for ref in (page.body, page.response):
            if ref is not None and not ref.scalar:
                out.add(ref.name)
    for info in types.values():
        for prop in info["properties"]:  # type: ignore[attr-defined]
            if prop["type"] not in SCALARS:
                out.add(prop["type"])
    return out


def _describe_bases(types: dict[str, dict[str, object]]) -> None:
    """Add ``levels`` to each type: its members split by class, base class first.

    From the samples when both orders are visible and cover every property; otherwise
    from the longest other type whose properties end this one's (``MessageChanges``
    ends with ``MessageBasicInfo``'s). Unknown stays one level.
    """
    names = {n: [p["name"] for p in t["properties"]] for n, t in types.items()}  # type: ignore[attr-defined]
    for name, info in types.items():
        props = names[name]
        json_order, xml_order = info["json_sample_order"], info["xml_sample_order"]
        levels = None
        if json_order == props and xml_order is not None and len(xml_order) == len(props):  # type: ignore[arg-type]
            levels = split_levels(props, xml_order)  # type: ignore[arg-type]
            info["levels_from"] = "samples"
        if levels is None:
            base = max(
                (
                    other
                    for other, theirs in names.items()
                    if other != name
                    and 0 < len(theirs) < len(props)
                    and props[-len(theirs) :] == theirs
                ),
                key=lambda other: len(names[other]),
                default=None,
            )
            if base is not None:
                levels = [names[base], props[: -len(names[base])]]
                info["base"] = base
                info["levels_from"] = "suffix"
        info["levels"] = levels or [props]


# --- Reading inputs, and the command line ---------------------------------------------

#: The largest help page read from a site (the biggest real one is about 60 KiB).
MAX_PAGE_SIZE = 4 * 1024 * 1024
_MODEL_URL = re.compile(r"ResourceModel\?modelName=(\w+)")


def read_source(source: str, text: str) -> HelpPage | tuple[str, Table] | str:
    """One input as a page, a ResourceModel table, or the reason it is neither.

    A saved text names its URL on its first line when it can; ``source`` is used
    otherwise. A ResourceModel page is known by its URL (``?modelName=X``).
    """
    first = text.lstrip().split("\n", 1)[0].strip()
    url = first if re.match(r"https?://\S+\Z", first) else source
    model = _MODEL_URL.search(url)
    try:
        if model:
            return url, parse_model_page(text, model.group(1), source=url)
        return parse_page(text, source=url)
    except ValueError as exc:
        return str(exc)


def describe_sources(sources: Iterable[tuple[str, str]]) -> dict[str, object]:
    """:func:`describe` over ``(source, text)`` inputs, listing what was not a page."""
    pages: list[HelpPage] = []
    models: list[tuple[str, Table]] = []
    skipped: list[dict[str, str]] = []
    for source, text in sources:
        read = read_source(source, text)
        if isinstance(read, HelpPage):
            pages.append(read)
        elif isinstance(read, tuple):
            models.append(read)
        else:
            skipped.append({"source": source, "reason": read})
    out = describe(pages, models)
    out["skipped"] = skipped
    return out


def _files(paths: Iterable[str]) -> list[tuple[str, str]]:
    from pathlib import Path

    found: list[tuple[str, str]] = []
    for name in paths:
        path = Path(name)
        files = (
            sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".html", ".htm"))
            if path.is_dir()
            else [path]
        )
        found += [(p.as_posix(), p.read_text(encoding="utf-8")) for p in files]
    return found


async def fetch_site(
    help_url: str, *, auth: tuple[str, str] | None = None, limit: int = 500
) -> list[tuple[str, str]]:
    """Every API and ResourceModel page linked from a Help Page index (``.../Help``).

    Raises:
        shopapi.TransportError: The site could not be reached or answered an error.
    """
    from urllib.parse import urljoin

    import aiohttp
    import lxml.html

    from ._exceptions import TransportError

    basic = aiohttp.BasicAuth(*auth) if auth else None
    timeout = aiohttp.ClientTimeout(total=60)
    try:
        async with aiohttp.ClientSession(auth=basic, timeout=timeout) as session:

            async def get(url: str) -> str:
                async with session.get(url, allow_redirects=False) as response:
                    body = await response.content.read(MAX_PAGE_SIZE + 1)
                    if len(body) > MAX_PAGE_SIZE:
                        raise TransportError(
                            f"{url} is larger than {MAX_PAGE_SIZE} bytes", method="GET", url=url
                        )
                    if response.status != 200:
                        raise TransportError(
                            f"{url} answered {response.status}", method="GET", url=url
                        )
                    return body.decode(response.get_encoding(), errors="replace")

            index = lxml.html.document_fromstring(await get(help_url))
            links = sorted(
                {
                    urljoin(help_url, href)
                    for href in _hrefs(index)
                    if "/Help/Api/" in urljoin(help_url, href)
                    or _MODEL_URL.search(urljoin(help_url, href))
                }
            )[:limit]
            pages = [(url, await get(url)) for url in links]
            model_links = {
                urljoin(url, href)
                for url, html in pages
                for href in _hrefs(lxml.html.document_fromstring(html))
                if _MODEL_URL.search(href)
            } - set(links)
            pages += [(url, await get(url)) for url in sorted(model_links)[:limit]]
            return pages
    except aiohttp.ClientError as exc:
        raise TransportError(
            f"could not read {help_url}: {type(exc).__name__}", method="GET", url=help_url
        ) from exc


def _hrefs(root: object) -> list[str]:
    """Every ``<a href>`` of an lxml HTML tree."""
    import lxml.html

    assert isinstance(root, lxml.html.HtmlElement)
    return [str(a.get("href")) for a in root.iter("a") if a.get("href")]


def render(description: dict[str, object]) -> str:
    """The description as the stable JSON text that is checked in."""
    import json

    return json.dumps(description, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m shopapi.helppage``: pages (files, folders or a live site) to JSON."""
    import argparse
    import asyncio
    import os
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m shopapi.helppage",
        description="Read ASP.NET Web API Help Page pages into one JSON description.",
        epilog="example: python -m shopapi.helppage spec/help tests/data/seed -o spec/api.json"
        "  |  python -m shopapi.helppage --site https://tenant.shopctrl.com:52222/Help -o api.json",
    )
    parser.add_argument("inputs", nargs="*", help="saved pages (.txt or .html) or folders of them")
    parser.add_argument("--site", help="a live Help index URL to read every page from")
    parser.add_argument("-o", "--output", help="write the JSON here (default: stdout)")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if --output differs from what would be written"
    )
    args = parser.parse_args(argv)
    if not args.inputs and not args.site:
        parser.error("give saved pages or --site URL")
    sources = _files(args.inputs)
    if args.site:
        user, password = os.environ.get("SHOPAPI_USERNAME"), os.environ.get("SHOPAPI_PASSWORD")
        auth = (user, password) if user and password is not None else None
        sources += asyncio.run(fetch_site(args.site, auth=auth))
    text = render(describe_sources(sources))
    if args.check:
        if args.output is None:
            parser.error("--check needs --output")
        from pathlib import Path

        try:
            current = Path(args.output).read_text(encoding="utf-8")
        except OSError:
            current = ""
        if current != text:
            print(f"{args.output} is out of date: regenerate it", file=sys.stderr)
            return 1
        return 0
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
