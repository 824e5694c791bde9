"""Resource modules generated from the help pages' description (``spec/api.json``).

:mod:`shopapi.helppage` reads the pages into one JSON description; this module turns it,
plus the small hand-kept ``spec/resources.json`` (what no page can say: the grouping
into resources, method names, command-line nouns, roles where the verb lies, key
fields, and overrides with a reason each), into one Python module per resource under
``shopapi/_resources/``: the models, the :class:`~shopapi._resources.spec.Endpoint`
descriptions and the thin typed class. The output is checked in, and a test
regenerates it and fails when it differs, so the pages stay the one source.

Run ``python -m shopapi.helpgen`` (see :func:`main`); ``--site`` reads a tenant's live
help site first, so that the modules follow that tenant's API version.

Rules, in short (the reasons are in the functions):

* A model's fields are the page's, in page order; Json.NET writes a derived class's
  members first and XmlSerializer a base class's first, so each inheritance level the
  samples show becomes a private base class (base level first).
* A field whose type no page shows (``ContactInfo``, ``OrderRow`` ...) is left out and
  named in the model's docstring: the wire keeps it (unknown members are kept), but
  nothing is invented about it. So is a framework type (``HttpResponseMessage``).
* ``Max length: 2147483647`` is .NET's ``nvarchar(max)``: no limit.
* An integer whose values a description names (``ShipmentStatusId``: ``Delivered = 4``)
  is a coded integer when ``coded_values`` in the hand-kept file says so: an open
  ``IntEnum`` (module ``coded_values.py``) held by its fields and taken by its filters.
  Each member must be written in each field's description; nothing is guessed.
* Pure: it reads and writes text; only :func:`main` touches files.
"""

from __future__ import annotations

import ast
import json
import keyword
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

__all__ = [
    "CODED_MODULE",
    "GenerateError",
    "generate",
    "generate_coded",
    "main",
    "model_specs",
    "snake",
]

#: .NET's ``int.MaxValue``: the help pages' "Max length" of an unbounded string.
UNBOUNDED: Final = 2147483647

_SCALARS: Final = {"string", "integer", "boolean", "date", "decimal number"}
_LIST_ITEMS: Final = {
    "string": "string",
    "integer": "integer",
    "boolean": "boolean",
    "date": "date",
    "decimal number": "decimal",
}
_QUERY_KINDS: Final = {
    "integer": "INT",
    "string": "STR",
    "boolean": "BOOL",
    "date": "DATE",
    "ids": "IDS",
}
_QUERY_TYPES: Final = {
    "INT": "int | None",
    "STR": "str | None",
    "BOOL": "bool | None",
    "DATE": "datetime | None",
    "IDS": "Sequence[int] | None",
}
_PAGING: Final = ("pageSize", "pageNumber")
#: A search parameter's description names the fields it covers ("Following fields will
#: be searched: Name, Code, HSCode, EAN.").
_SEARCHED: Final = re.compile(r"fields will be searched:\s*([^.]+)", re.IGNORECASE)


class GenerateError(Exception):
    """The description and the hand-kept file do not fit together (named in the text)."""


def snake(name: str) -> str:
    """``ShopGroupId`` -> ``shop_group_id``; ``EAN`` -> ``ean``; ``EMail`` -> ``e_mail``."""
    out = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
    return out + "_" if keyword.iskeyword(out) else out


def _pick(endpoints: Sequence[Mapping[str, Any]], method: str, path: str, host: str | None) -> Any:
    """The description of one endpoint: the demo host's page where there is one (the
    target), else the named host's, else the first page that reaches furthest."""
    found = [e for e in endpoints if e["method"] == method and e["path"] == path]
    if host is not None:
        found = [e for e in found if host in e["source"]]
    if not found:
        raise GenerateError(f"{method} {path}: no page describes it (host {host})")
    demo = [e for e in found if "api.demo.shopctrl.com" in e["source"]]
    whole = [e for e in found if not e["partial"]]
    return (demo or whole or found)[0]


#: Where the generated coded integers live (one module, which every resource imports).
CODED_MODULE: Final = "coded_values"


def plain_text(description: str) -> str:
    """A page's description without the XML documentation markup some let through (the
    shop product page's ``<list type="bullet"><item>...</item></list>``), which would
    show as tags in docstrings and ``--help``: items become a ``;``-separated run."""
    text = re.sub(r"\s*</item>\s*(?=<item>)", "; ", description)
    text = re.sub(r"<[^<>]+>", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _member_shown(description: str, name: str, value: int) -> bool:
    """Whether a description names ``value`` ``name``: ``Delivered = 4`` or ``0=File``."""
    n, v = re.escape(name), str(value)
    return bool(
        re.search(rf"(?<![A-Za-z0-9]){n}\s*=\s*{v}(?![0-9])", description)
        or re.search(rf"(?<![0-9]){v}\s*=\s*{n}(?![A-Za-z0-9])", description)
    )


def _coded_values(
    types: Mapping[str, Any], api: Mapping[str, Any], config: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """The coded integers' fields (``"ShippingLabel.DeliveryStatusId"``) and filters
    (``"shipmentStatusId"``), each to its IntEnum's name, checked against the pages.

    Raises:
        GenerateError: An entry names no integer property or filter the pages show, a
            member its field's description does not name, or a field twice.
    """
    fields: dict[str, str] = {}
    filters: dict[str, str] = {}
    query = {
        p["name"]: p["type"]
        for e in api["endpoints"]
        for p in e["parameters"]
        if p["in"] == "query"
    }
    for name, entry in config.get("coded_values", {}).items():
        where = f"coded value {name}"
        if not name.isidentifier() or keyword.iskeyword(name) or name in types:
            raise GenerateError(f"{where}: not a class name of its own")
        if not str(entry.get("source", "")).strip():
            raise GenerateError(f"{where}: every coded value names its source")
        members = entry.get("members", {})
        if not members or not all(m.isidentifier() and type(v) is int for m, v in members.items()):
            raise GenerateError(f"{where}: members are identifiers with integer values")
        for key in entry.get("fields", ()):
            owner, _, prop = key.partition(".")
            shown = {p["name"]: p for p in types.get(owner, {}).get("properties", ())}
            if prop not in shown or shown[prop]["type"] != "integer" or shown[prop]["collection"]:
                raise GenerateError(f"{where}: {key} is no integer property the pages show")
            if key in fields:
                raise GenerateError(f"{where}: {key} is {fields[key]} already")
            description = shown[prop]["description"] or ""
            for member, value in members.items():
                if not _member_shown(description, member, value):
                    raise GenerateError(
                        f"{where}: the description of {key} does not name {member} = {value}"
                    )
            fields[key] = name
        for wire in entry.get("filters", ()):
            if query.get(wire) != "integer":
                raise GenerateError(f"{where}: {wire} is no integer filter the pages show")
            filters[wire] = name
    return fields, filters


class _Types:
    """Which model types the modules declare: the ones the pages show (with a table)."""

    def __init__(self, api: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        self.api = api
        self.types: Mapping[str, Any] = api["types"]
        self.overrides: Mapping[str, Mapping[str, Any]] = config.get("overrides", {})
        self.omit: frozenset[str] = frozenset(config.get("framework_types", ()))
        self.coded, self.coded_filters = _coded_values(self.types, api, config)
        for key, change in self.overrides.items():
            owner, _, prop = key.partition(".")
            names = [p["name"] for p in self.types.get(owner, {}).get("properties", ())]
            if prop not in names:
                raise GenerateError(f"override {key}: {owner} has no property {prop!r}")
            if not str(change.get("reason", "")).strip():
                raise GenerateError(f"override {key}: every override says why (reason)")

    def shown(self, name: str) -> bool:
        return name in self.types and name not in self.omit

    def props(self, name: str) -> list[dict[str, Any]]:
        """The properties of ``name``, with the hand-kept overrides applied."""
        out = []
        for prop in self.types[name]["properties"]:
            prop = dict(prop)
            change = self.overrides.get(f"{name}.{prop['name']}")
            if change is not None:
                prop.update(change["set"])
            out.append(prop)
        return out


def _spec(prop: Mapping[str, Any], types: _Types) -> tuple[str, str] | None:
    """The annotation and the field constructor of one property, or ``None`` when its
    type is never shown (the field is then left out)."""
    wire, kind, required = prop["name"], prop["type"], bool(prop["required"])
    nullable = prop["nullable"]
    maximum = prop["max_length"]
    if maximum == UNBOUNDED:
        maximum = None
    if prop["collection"]:
        item = _LIST_ITEMS.get(kind)
        if item is not None:
            py = {"string": "str | None", "decimal": "Decimal", "date": "datetime"}.get(item)
            return f"tuple[{py or item_py(item)}, ...] | None", f'list_field("{wire}", "{item}")'
        if types.shown(kind):
            return f"tuple[{kind}, ...] | None", f'list_field("{wire}", {kind})'
        return None
    if kind == "string":
        if required:
            return (
                "str",
                f'_field(WireSpec("{wire}", Kind.STR, required=True, max_length={maximum}))',
            )
        return "str | None", f'string("{wire}"{f", {maximum}" if maximum else ""})'
    if kind == "integer":
        args = _flags(nullable is not False and not (required and nullable is None), required)
        coded = types.coded.get(f"{prop['owner']}.{wire}")
        if coded is not None:
            annotation = f"{coded} | int" if required else f"{coded} | int | None"
            return annotation, f'coded_field("{wire}", {coded}{args})'
        return ("int" if required else "int | None"), f'integer("{wire}"{args})'
    if kind == "boolean":
        args = _flags(nullable is True, required, default_nullable=False)
        return ("bool" if required else "bool | None"), f'boolean("{wire}"{args})'
    if kind == "date":
        return (
            "datetime | None",
            f'timestamp("{wire}"{"" if nullable is not False else ", nullable=False"})',
        )
    if kind == "decimal number":
        args = _flags(nullable is not False and not required, required)
        return ("Decimal" if required else "Decimal | None"), f'decimal_field("{wire}"{args})'
    if kind in _KNOWN_ENUMS:
        req = ", required=True" if required else ""
        return f"{kind} | int | str", f'enum_field("{wire}", {kind}{req})'
    if types.shown(kind):
        return f"{kind} | None", f'model_field("{wire}", {kind})'
    return None


#: The .NET enums :mod:`shopapi._wire.enums` declares (members as far as documented).
_KNOWN_ENUMS: Final = frozenset({"PlatformKindEnum", "MessageSenderTypeEnum", "MessageTypeEnum"})


def item_py(item: str) -> str:
    """The Python type of a scalar list member."""
    return {"integer": "int", "boolean": "bool"}[item]


def _flags(nullable: bool, required: bool, *, default_nullable: bool = True) -> str:
    out = ""
    if nullable != default_nullable:
        out += f", nullable={nullable}"
    if required:
        out += ", required=True"
    return out


def model_specs(api: Mapping[str, Any], config: Mapping[str, Any], name: str) -> list[Any]:
    """The fields the generator gives type ``name``, as ``[level, ...]`` (base level
    first), each level ``[(python name, wire name, annotation, constructor), ...]``:
    what a test holds the hand-written models to, field for field."""
    return _levels(_Types(api, config), name)[0]


def _levels(types: _Types, name: str) -> tuple[list[list[tuple[str, str, str, str]]], list[str]]:
    described = types.types[name]
    props = {p["name"]: p for p in types.props(name)}
    for p in props.values():
        p["owner"] = name
    levels = described.get("levels") or [[p for p in props]]
    out: list[list[tuple[str, str, str, str]]] = []
    left_out: list[str] = []
    for level in levels:
        fields = []
        for wire in level:
            made = _spec(props[wire], types)
            if made is None:
                left_out.append(f"{wire} ({props[wire]['type']})")
                continue
            fields.append((snake(wire), wire, *made))
        out.append(fields)
    return out, left_out


def _deps(types: _Types, name: str) -> list[str]:
    """The shown model types ``name``'s fields nest."""
    return [p["type"] for p in types.props(name) if types.shown(p["type"]) and p["type"] != name]


def _wrap(text: str, indent: str, width: int = 92) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width - len(indent):
            lines.append(indent + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(indent + line)
    return lines


def _docstring(text: str, indent: str) -> list[str]:
    body = _wrap(text.replace('"""', "'''"), indent)
    if len(body) == 1 and len(body[0]) + 6 <= 96:
        return [f'{indent}"""{body[0].strip()}"""']
    return [f'{indent}"""{body[0].strip()}', *body[1:], f'{indent}"""']


def _model_source(types: _Types, name: str, why: str) -> list[str]:
    described = types.types[name]
    levels, left_out = _levels(types, name)
    lines: list[str] = []
    parent = ""
    # The base-most class keeps what the pages do not show (subclasses inherit it), so a
    # read-modify-write of a cut-off page's type drops nothing.
    keep = [_KEEP_UNKNOWN]
    for index, level in enumerate(levels[:-1]):
        base = f"_{name}Base{index or ''}"
        lines += ["@attrs.frozen(kw_only=True)", f"class {base}{parent}:"]
        lines += _fields(level) + keep
        keep = []
        lines += ["", ""]
        parent = f"({base})"
    sources = ", ".join(described["sources"])
    doc = f"{why} From {sources}."
    if not described["complete"]:
        doc += f" Partial: the page is cut after {described['properties'][-1]['name']}."
    if left_out:
        doc += (
            " Left out, as no page shows their type (the wire keeps them): "
            + ", ".join(left_out)
            + "."
        )
    lines += ["@attrs.frozen(kw_only=True)", f"class {name}{parent}:"]
    lines += _docstring(doc, "    ")
    fields = _fields(levels[-1]) + keep
    if fields:
        lines += ["", *fields]
    lines += ["", ""]
    return lines


_KEEP_UNKNOWN = "    unknown: Unknown = keep_unknown()"


def _fields(level: list[tuple[str, str, str, str]]) -> list[str]:
    out = []
    for py, _wire, annotation, make in level:
        line = f"    {py}: {annotation} = {make}"
        if len(line) > 100:
            head, _, rest = make.partition("(")
            line = f"    {py}: {annotation} = {head}(\n        {rest[:-1]}\n    )"
        out.append(line)
    return out


def _endpoint(
    api: Mapping[str, Any], types: _Types, resource: Mapping[str, Any], spec: Mapping[str, Any]
) -> dict[str, Any]:
    method, path = spec["http"].split(" ", 1)
    page = _pick(api["endpoints"], method, path, spec.get("host"))
    role = spec.get("role") or {"GET": "LIST", "PUT": "UPDATE", "POST": "INSERT"}[method]
    if role == "LIST" and not page["response"]["collection"] and method == "GET":
        role = "GET"
    params = [p for p in page["parameters"] if p["in"] == "path"]
    query = [p for p in page["parameters"] if p["in"] == "query" and p["name"] not in _PAGING]
    sizes = [p["default"] for p in page["parameters"] if p["name"] == "pageSize"]
    body = page["body"]["type"] if page["body"] else None
    answer = page["response"]["type"] if page["response"] else None
    if answer is not None and not types.shown(answer):
        answer = None
    insert_id = None
    if role == "INSERT" and body is not None:
        zero = [p["name"] for p in types.props(body) if p["must_be_zero"]]
        insert_id = snake(zero[0]) if zero else None
    return {
        "name": spec["name"],
        "role": role,
        "method": method,
        "path": path,
        "params": params,
        "query": query,
        "kinds": spec.get("query_kinds", {}),
        "codes": {
            q["name"]: types.coded_filters[q["name"]]
            for q in query
            if q["name"] in types.coded_filters
        },
        "paging": int(sizes[0]) if sizes else None,
        "body": body,
        "answer": answer,
        "keys": spec.get("keys", {}),
        "insert_id": insert_id,
        "collection": spec["collection"],
        "summary": plain_text(page["description"] or spec.get("summary", "")),
        "partial": page["partial"],
        "source": page["source"],
        "var": "_" + spec["name"].upper(),
    }


def _param_source(param: Mapping[str, Any]) -> str:
    args = f'wire="{param["name"]}", name="{snake(param["name"])}"'
    if param["type"] == "string":
        args += ", type=str"
    if param["catch_all"]:
        args += ", catch_all=True"
    return f"PathParam({args})"


def _endpoint_source(e: Mapping[str, Any]) -> list[str]:
    lines = [f"{e['var']} = Endpoint(", f'    name="{e["name"]}",', f"    role=Role.{e['role']},"]
    lines += [f'    method="{e["method"]}",', f'    path="{e["path"]}",']
    if e["params"]:
        lines.append(f"    params=({''.join(_param_source(p) + ', ' for p in e['params'])}),")
    if e["query"]:
        items = []
        for q in e["query"]:
            kind = _QUERY_KINDS[e["kinds"].get(q["name"], q["type"])]
            searched = _SEARCHED.search(q.get("description") or "")
            fields = ""
            if searched:
                names = [n.strip() for n in searched.group(1).split(",") if n.strip()]
                fields = ", fields=(" + "".join(f'"{n}", ' for n in names) + ")"
            items.append(
                f'QueryParam(wire="{q["name"]}", name="{snake(q["name"])}", '
                f"kind=QueryKind.{kind}{fields})"
            )
        lines.append("    query=(")
        lines += [f"        {item}," for item in items]
        lines.append("    ),")
    if e["paging"] is not None:
        lines.append(f"    paging=Paging(size={e['paging']}),")
    if e["body"]:
        lines.append(f"    body={e['body']},")
    if e["answer"]:
        lines.append(f"    answer={e['answer']},")
    if e["keys"]:
        keys = "".join(f'Key("{snake(f)}", "{snake(p)}"), ' for f, p in e["keys"].items())
        lines.append(f"    keys=({keys}),")
    if e["insert_id"]:
        lines.append(f'    insert_id="{e["insert_id"]}",')
    lines.append(f'    collection="{e["collection"]}",')
    if e["partial"]:
        lines.append("    partial=True,")
    chunks = _wrap(e["summary"], "", 80)
    if len(chunks) <= 1:
        lines.append(f"    summary={json.dumps(e['summary'])},")
    else:
        parts = [json.dumps(c + " ") for c in chunks[:-1]] + [json.dumps(chunks[-1])]
        lines += ["    summary=(", *(f"        {part}" for part in parts), "    ),"]
    lines += [")", ""]
    return lines


def _path_args(e: Mapping[str, Any]) -> tuple[str, str]:
    names = [snake(p["name"]) for p in e["params"]]
    typed = "".join(
        f", {snake(p['name'])}: {'str' if p['type'] == 'string' else 'int'}" for p in e["params"]
    )
    return typed, "(" + "".join(f"{n}, " for n in names) + ")"


def _filter_type(e: Mapping[str, Any], q: Mapping[str, Any]) -> str:
    """A filter's annotation: a coded integer's filter takes its members too."""
    coded = e["codes"].get(q["name"])
    if coded is not None:
        return f"{coded} | int | None"
    return _QUERY_TYPES[_QUERY_KINDS[e["kinds"].get(q["name"], q["type"])]]


def _method_source(e: Mapping[str, Any], resource: Mapping[str, Any]) -> list[str]:
    typed, values = _path_args(e)
    var, name = e["var"], e["name"]
    where = f"``{e['method']} {e['path']}``"
    note = f"{e['summary']} From {e['source']}."
    if e["partial"]:
        note += " Partial: the page is cut off, so it may document more than shown here."
    answer = e["answer"]
    out: list[str] = []
    if e["role"] in ("GET", "LIST") and e["paging"] is None:
        returns = f"builtins.list[{answer}]" if e["role"] == "LIST" else answer
        out += [f"    async def {name}(self{typed}) -> {returns}:"]
        out += _docstring(f"{where}: {note}", "        ")
        out += [f"        return cast({returns}, await self._caller.start({var}, {values}))", ""]
        return out
    if e["role"] == "LIST":
        filters = "".join(f", {snake(q['name'])}: {_filter_type(e, q)} = None" for q in e["query"])
        query = (
            "{" + ", ".join(f'"{snake(q["name"])}": {snake(q["name"])}' for q in e["query"]) + "}"
        )
        query_arg = f", {query}" if e["query"] else ""
        size = e["paging"]
        out += [
            f"    async def {name}_page(",
            f"        self{typed}, *{filters}, page_number: int = 1, page_size: int = {size}",
            f"    ) -> builtins.list[{answer}]:",
        ]
        out += _docstring(f"{where}: one page (an empty list past the end). {note}", "        ")
        out += [
            "        return await self._caller.page(",
            f"            {var}, {values}{query_arg}, page_number=page_number, page_size=page_size",
            "        )",
            "",
            f"    def {name}(",
            f"        self{typed}, *{filters}, page_size: int = {size}",
            f"    ) -> AsyncGenerator[{answer}, None]:",
        ]
        out += _docstring(
            f"Every item of {where}, pages fetched lazily and in order until the first "
            "empty one; retries and limits apply to every page.",
            "        ",
        )
        out += [
            f"        return self._caller.items({var}, {values}{query_arg}, page_size=page_size)",
            "",
        ]
        return out
    body = e["body"]
    returns = answer or "None"
    insert = e["role"] == "INSERT"
    dup = ", *, allow_duplicates: bool = False" if insert else ""
    out += [f"    async def {name}(self{typed}, body: {body}{dup}) -> {returns}:"]
    text = f"{where}: {note}"
    if insert and e["insert_id"]:
        text += (
            f" An insert: ``{e['insert_id']}`` must be 0 (the client enforces it), and it is "
            "retried only where the request provably never reached the server, unless "
            "``allow_duplicates=True``."
        )
    elif insert:
        # A cut-off page that shows no id field: nothing is checked about one (nothing is
        # invented), but it is an insert all the same.
        text += (
            " An insert: the page is cut off before any id field shows, so no id is "
            "checked; it is retried only where the request provably never reached the "
            "server, unless ``allow_duplicates=True``."
        )
    out += _docstring(text, "        ")
    extra = ", allow_duplicates=allow_duplicates" if insert else ""
    call = f"self._caller.start({var}, {values}, body{extra})"
    if answer:
        out += [f"        return cast({answer}, await {call})", ""]
    else:
        out += [f"        await {call}", ""]
    keyed = {snake(p) for p in e["keys"].values()}
    given = [p for p in e["params"] if snake(p["name"]) not in keyed]
    given_typed = "".join(
        f", {snake(p['name'])}: {'str' if p['type'] == 'string' else 'int'}" for p in given
    )
    given_values = "(" + "".join(f"{snake(p['name'])}, " for p in given) + ")"
    options = "InsertOptions" if insert else "BulkOptions"
    out += [
        f"    def {name}_many(",
        f"        self{given_typed}, items: Items[{body}], **options: Unpack[{options}]",
        f"    ) -> AsyncGenerator[UpdateResult[{body}, {returns}], None]:",
    ]
    out += _docstring(
        f":meth:`{name}` each item, as ``update_many`` does: one result per item, bounded, "
        "lazy, each failure alone; an item's path parameters come from its key fields.",
        "        ",
    )
    out += [f"        return self._caller.many({var}, items, {given_values}, **options)", ""]
    return out


def generate_module(
    api: Mapping[str, Any], config: Mapping[str, Any], resource: Mapping[str, Any]
) -> str:
    """The source of one resource module (not yet formatted by ruff)."""
    types = _Types(api, config)
    endpoints = [_endpoint(api, types, resource, spec) for spec in resource["endpoints"]]
    roots = [t for e in endpoints for t in (e["body"], e["answer"]) if t]
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for dep in _deps(types, name):
            visit(dep)
        order.append(name)

    for name in roots:
        visit(name)
    why: dict[str, str] = {}
    for e in endpoints:
        if e["body"]:
            why.setdefault(e["body"], f"The body of ``{e['method']} {e['path']}``.")
        if e["answer"]:
            what = "Each item of" if e["role"] == "LIST" else "The answer of"
            why.setdefault(e["answer"], f"{what} ``{e['method']} {e['path']}``.")
    models: list[str] = []
    for name in order:
        parents = [o for o in order if name in _deps(types, o)]
        models += _model_source(types, name, why.get(name, f"Nested in {', '.join(parents)}."))
    body = "\n".join(models)
    cls = resource["class"]
    methods: list[str] = []
    for e in endpoints:
        methods += _method_source(e, resource)
    needs = {
        "builtins": "builtins." in "\n".join(methods),
        "datetime": "datetime" in body + "\n".join(methods),
        "Decimal": "Decimal" in body,
        "Sequence": "Sequence[" in "\n".join(methods),
        "AsyncGenerator": "AsyncGenerator" in "\n".join(methods),
        "many": "_many(" in "\n".join(methods),
    }
    used = sorted(
        f
        for f in (
            "Kind",
            "WireSpec",
            "_field",
            "boolean",
            "coded_field",
            "decimal_field",
            "enum_field",
            "integer",
            "keep_unknown",
            "list_field",
            "model_field",
            "string",
            "timestamp",
        )
        if re.search(rf"\b{f}\(|\b{f}\.|\b{f}\b", body)
    )
    enums = sorted(e for e in _KNOWN_ENUMS if re.search(rf"\b{e}\b", body))
    coded = sorted(
        c
        for c in config.get("coded_values", {})
        if re.search(rf"\b{c}\b", body + "\n".join(methods))
    )
    spec_names = sorted(
        {"Endpoint", "Resource", "Role"}
        | ({"PathParam"} if any(e["params"] for e in endpoints) else set())
        | ({"Paging"} if any(e["paging"] for e in endpoints) else set())
        | ({"QueryKind", "QueryParam"} if any(e["query"] for e in endpoints) else set())
        | ({"Key"} if any(e["keys"] for e in endpoints) else set())
    )
    head = _wrap(resource["doc"], "", 96)
    lines = [
        '"""' + head[0],
        *head[1:],
        "",
        "Generated by ``python -m shopapi.helpgen`` from ``spec/api.json`` and",
        '``spec/resources.json``: do not edit; change the pages or the hand-kept file."""',
        "",
        "from __future__ import annotations",
        "",
    ]
    if needs["builtins"]:
        lines.append("import builtins")
    std = []
    if needs["AsyncGenerator"]:
        std.append("AsyncGenerator")
    if needs["Sequence"]:
        std.append("Sequence")
    if std:
        lines.append(f"from collections.abc import {', '.join(std)}")
    if needs["datetime"]:
        lines.append("from datetime import datetime")
    if needs["Decimal"]:
        lines.append("from decimal import Decimal")
    typing = ["TYPE_CHECKING"] if needs["many"] else []
    if needs["many"]:
        typing.append("Unpack")
    if "cast(" in "\n".join(methods):
        typing.append("cast")
    if typing:
        typing.sort(key=lambda t: (t != "TYPE_CHECKING", t))
        lines.append(f"from typing import {', '.join(typing)}")
    lines += ["", "import attrs", ""]
    if enums:
        lines.append(f"from .._wire.enums import {', '.join(enums)}")
    lines.append(f"from .._wire.fields import {', '.join(used)}")
    if "keep_unknown" in used:
        lines.append("from .._wire.unknown import Unknown")
    api_names = []
    if needs["many"]:
        api_names = sorted(
            {
                "Caller",
                "Items",
                *(["BulkOptions"] if "BulkOptions" in "\n".join(methods) else []),
                *(["InsertOptions"] if "InsertOptions" in "\n".join(methods) else []),
            }
        )
    else:
        api_names = ["Caller"]
    lines.append(f"from .api import {', '.join(api_names)}")
    if coded:
        lines.append(f"from .{CODED_MODULE} import {', '.join(coded)}")
    lines.append(f"from .spec import {', '.join(spec_names)}")
    if needs["many"]:
        lines += ["", "if TYPE_CHECKING:", "    from .._bulk import UpdateResult"]
    exported = sorted(["RESOURCE", cls, *order], key=lambda n: (n != "RESOURCE", n))
    lines += ["", "__all__ = [" + ", ".join(f'"{n}"' for n in exported) + "]", "", ""]
    lines.append(body)
    for e in endpoints:
        lines += _endpoint_source(e)
    lines += ["", f"class {cls}:"]
    lines += _docstring(f"{resource['doc']} Reached as ``client.{resource['name']}``.", "    ")
    lines += [
        "",
        "    def __init__(self, caller: Caller) -> None:",
        "        self._caller = caller",
        "",
    ]
    lines += methods
    lines += [
        "",
        "RESOURCE = Resource(",
        f'    name="{resource["name"]}",',
        f'    cli="{resource["cli"]}",',
        f"    endpoints=({''.join(e['var'] + ', ' for e in endpoints)}),",
        f"    methods={cls},",
        ")",
        "",
    ]
    return "\n".join(lines)


def generate_coded(api: Mapping[str, Any], config: Mapping[str, Any]) -> str:
    """The source of the coded integers' module (not yet formatted by ruff): one open
    ``IntEnum`` per ``coded_values`` entry, its docstring naming its fields, filters and
    source."""
    types = _Types(api, config)
    entries: Mapping[str, Mapping[str, Any]] = config.get("coded_values", {})
    lines = [
        '"""The coded integers: ``int`` properties whose values the help pages name.',
        "",
        "Each is an open ``IntEnum``: the wire carries the integer in JSON and XML alike (a",
        ".NET ``int``, not an enum), a value named here is read as its member, and any other",
        "is kept as the plain ``int`` and written back unchanged, as the server may add some.",
        "",
        "Generated by ``python -m shopapi.helpgen`` from ``spec/api.json`` and",
        '``spec/resources.json``: do not edit; change the pages or the hand-kept file."""',
        "",
        "from __future__ import annotations",
        "",
        "import enum",
        "",
        "__all__ = [" + ", ".join(f'"{n}"' for n in sorted(entries)) + "]",
        "",
        "",
    ]
    for name, entry in entries.items():
        fields = [k for k, v in types.coded.items() if v == name]
        filters = [k for k, v in types.coded_filters.items() if v == name]
        doc = f"{entry.get('doc', '').strip()} Held by {', '.join(fields)}"
        if filters:
            doc += f"; taken by the filter{'s' if len(filters) > 1 else ''} "
            doc += ", ".join(f"``{f}``" for f in filters)
        doc += f". Named in {entry['source']}."
        lines += [f"class {name}(enum.IntEnum):", *_docstring(doc.strip(), "    "), ""]
        lines += [f"    {member} = {value}" for member, value in entry["members"].items()]
        lines += ["", ""]
    return "\n".join(lines).rstrip() + "\n"


def generate(api: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, str]:
    """Every generated module's source, by file name (``orders.py``), ruff-formatted
    when ruff is installed (it is a dev dependency: the checked-in output is)."""
    out = {}
    if config.get("coded_values"):
        out[CODED_MODULE + ".py"] = _format(generate_coded(api, config))
    for resource in config["resources"]:
        if resource.get("hand_written"):
            continue  # held to the generator by tests/test_helpgen.py, field for field
        out[resource["module"] + ".py"] = _format(generate_module(api, config, resource))
    return out


def _format(source: str) -> str:
    import subprocess

    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - ruff is a dev dependency
        return source
    done = subprocess.run(
        [find_ruff_bin(), "format", "--stdin-filename", "generated.py", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise GenerateError(f"the generated source does not parse: {done.stderr.strip()}")
    return done.stdout


def same_module(current: str, generated: str) -> bool:
    """Whether a checked-in module is what the generator writes. Equal text, or the same
    syntax tree: without ruff installed (the test extras) the generator's output is not
    formatted, and the layout is ruff's to check (``ruff format --check``), not this."""
    if current == generated:
        return True
    try:
        return ast.dump(ast.parse(current)) == ast.dump(ast.parse(generated))
    except SyntaxError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m shopapi.helpgen``: ``spec/api.json`` + ``spec/resources.json`` to
    ``shopapi/_resources/<module>.py``; ``--site`` reads a live help site instead of
    ``--api``; ``--check`` exits 1 where a module differs from what it would write."""
    import argparse
    import asyncio
    import os
    import sys
    from pathlib import Path

    from . import helppage

    parser = argparse.ArgumentParser(prog="python -m shopapi.helpgen", description=__doc__)
    parser.add_argument("--api", default="spec/api.json", help="the pages' description")
    parser.add_argument("--resources", default="spec/resources.json", help="the hand-kept file")
    parser.add_argument("--site", help="a live Help index URL to read every page from")
    parser.add_argument("-o", "--output", default="shopapi/_resources", help="the folder")
    parser.add_argument("--check", action="store_true", help="exit 1 if a module is stale")
    args = parser.parse_args(argv)
    if args.site:
        user, password = os.environ.get("SHOPAPI_USERNAME"), os.environ.get("SHOPAPI_PASSWORD")
        auth = (user, password) if user and password is not None else None
        api: Mapping[str, Any] = helppage.describe_sources(
            asyncio.run(helppage.fetch_site(args.site, auth=auth))
        )
    else:
        api = json.loads(Path(args.api).read_text(encoding="utf-8"))
    config = json.loads(Path(args.resources).read_text(encoding="utf-8"))
    stale = []
    for name, text in generate(api, config).items():
        target = Path(args.output) / name
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if same_module(current, text):
            continue
        if args.check:
            stale.append(str(target))
        else:
            target.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{path} is out of date: run python -m shopapi.helpgen", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
