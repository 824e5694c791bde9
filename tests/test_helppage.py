"""The Help Page parser: every rendering of a page reads the same, cut pages say so, and
the checked-in description is what the pages give."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from aiohttp import web

from shopapi import MessageConversationChanges, TransportError
from shopapi._wire.fields import json_order
from shopapi.helppage import (
    Annotations,
    HelpPage,
    TypeRef,
    describe_sources,
    fetch_site,
    infer_nullable,
    main,
    parse_annotations,
    parse_page,
    parse_type,
    render,
    split_levels,
)

ROOT = Path(__file__).resolve().parents[1]
HELP = ROOT / "spec" / "help"
SEED = ROOT / "tests" / "data" / "seed"

# One page, as the three renderings show it. Rows: name, description, type, annotations.
URI_ROWS = [("shopId", "Id of shop", "integer", ["Required."])]
BODY_ROWS = [
    ("IconFileId", "Gets or sets the icon file identifier.", "integer", ["None."]),
    ("Id", "", "integer", ["Must be 0 (for insert operations)"]),
    ("Name", "Gets or sets the name. Eg: 'Black | XL'", "string", ["Required", "Max length: 50"]),
    ("Tags", "Some tags.", "Collection of string", ["None."]),
    ("ShopOwnerId", "Gets or sets the shop owner identifier.", "integer", ["Required"]),
]
JSON_SAMPLE = (
    '{\n  "IconFileId": 1,\n  "Id": 1,\n  "Name": "sample string 2",\n  "ShopOwnerId": 3\n}'
)


def plain_page(rows: Sequence[tuple[str, str, str, list[str]]] = BODY_ROWS) -> str:
    """The one-paragraph-per-block rendering (an empty description leaves no paragraph)."""
    out = ["POST v1/Shops/{shopId}/Groups", "", "Add a group.", "", "Request Information", ""]
    out += ["URI Parameters", "", "NameDescriptionTypeAdditional information"]
    for name, desc, kind, notes in URI_ROWS:
        out += [name, "", *([desc, ""] if desc else []), kind, ""] + [f"{n}\n" for n in notes]
    out += ["Body Parameters", "", "The group", "", "ShopGroupChanges"]
    out += ["NameDescriptionTypeAdditional information"]
    for name, desc, kind, notes in rows:
        out += [name, "", *([desc, ""] if desc else []), kind, ""] + [f"{n}\n" for n in notes]
    out += ["Request Formats", "", "application/json, text/json", "", "Sample:", JSON_SAMPLE, ""]
    return "\n".join(out)


def markdown_page() -> str:
    """The Markdown rendering: every cell ends with ``|``, annotations share their cell."""

    def table(title: str, rows: Sequence[tuple[str, str, str, list[str]]]) -> list[str]:
        out = [
            f"{title}| Name | Description | Type | Additional information |",
            "|---|---|---|---|",
        ]
        for name, desc, kind, notes in rows:
            out += [f"| {name} |", f"{desc} |", f"{kind} |", " ".join(notes) + " |"]
        return out

    out = ["POST v1/Shops/{shopId}/Groups", "Add a group.", "Request Information"]
    out += ["URI Parameters", *table("", URI_ROWS), "Body Parameters", "The group"]
    out += [*table("ShopGroupChanges", BODY_ROWS), "Request Formats"]
    out += ["application/json, text/json", "Sample:", JSON_SAMPLE]
    return "\n".join(out)


def html_page() -> str:
    """The HTML the Help Page package's templates render (HelpPageApiModel.cshtml,
    Parameters.cshtml, Samples.cshtml), reduced to the markup the parser reads."""

    def table(rows: Sequence[tuple[str, str, str, list[str]]]) -> str:
        head = "".join(
            f"<th>{h}</th>" for h in ("Name", "Description", "Type", "Additional information")
        )
        body = "".join(
            f'<tr><td class="parameter-name">{html.escape(n)}</td>'
            f'<td class="parameter-documentation"><p>{html.escape(d)}</p></td>'
            f'<td class="parameter-type">{html.escape(k)}</td>'
            f'<td class="parameter-annotations">{"".join(f"<p>{x}</p>" for x in notes)}</td></tr>'
            for n, d, k, notes in rows
        )
        return (
            f'<table class="help-page-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )

    return (
        "<html><head><title>x</title><style>p{}</style></head><body>"
        '<div id="body" class="help-page"><section class="content-wrapper main-content">'
        "<h1>POST v1/Shops/{shopId}/Groups</h1><div><p>Add a group.</p>"
        "<h2>Request Information</h2><h3>URI Parameters</h3>"
        f"{table(URI_ROWS)}<h3>Body Parameters</h3><p>The group</p>"
        '<h2><a href="/Help/ResourceModel?modelName=ShopGroupChanges">ShopGroupChanges</a></h2>'
        f"{table(BODY_ROWS)}<h3>Request Formats</h3>"
        '<div><h4 class="sample-header">application/json, text/json</h4>'
        '<div class="sample-content"><span><b>Sample:</b></span>'
        f'<pre class="wrapped">{html.escape(JSON_SAMPLE)}</pre></div></div>'
        "</div></section></div></body></html>"
    )


def _same(page: HelpPage) -> HelpPage:
    """The page with its samples' indentation folded (the renderings differ there)."""
    import attrs

    fold = [attrs.evolve(s, text="\n".join(s.text.split())) for s in page.request_samples]
    return attrs.evolve(page, request_samples=tuple(fold), source="")


def test_the_three_renderings_read_the_same() -> None:
    plain, markdown, from_html = (
        parse_page(t) for t in (plain_page(), markdown_page(), html_page())
    )
    assert _same(plain) == _same(markdown) == _same(from_html)
    assert plain.method == "POST"
    assert plain.path == "v1/Shops/{shopId}/Groups"
    assert plain.body == TypeRef("ShopGroupChanges")
    assert plain.body_table is not None
    assert plain.body_table.complete
    rows = {r.name: r for r in plain.body_table.rows}
    assert [r.name for r in plain.body_table.rows] == [r[0] for r in BODY_ROWS]
    assert rows["Name"].description == "Gets or sets the name. Eg: 'Black | XL'"
    assert rows["Name"].annotations == Annotations(required=True, max_length=50)
    assert rows["Id"].description == ""
    assert rows["Id"].annotations.must_be_zero
    assert rows["Tags"].type == TypeRef("string", collection=True)
    assert not plain.partial


@pytest.mark.parametrize("render_page", [plain_page, markdown_page])
def test_a_cut_page_keeps_whole_rows_and_says_it_is_partial(render_page: object) -> None:
    text = render_page()  # type: ignore[operator]
    cut = text[: text.index("Tags") + 6] + "\n[excerpt truncated here]"
    page = parse_page(cut)
    assert page.partial
    assert page.body_table is not None
    assert not page.body_table.complete
    assert [r.name for r in page.body_table.rows] == ["IconFileId", "Id", "Name"]
    assert page.request_samples == ()


def test_a_row_whose_last_cell_runs_into_the_cut_is_dropped() -> None:
    """``Required`` then the cut: a ``Max length`` may have followed, so it is not kept."""
    text = plain_page()
    cut = text[: text.index("Required", text.index("\nName\n")) + 8] + "\n[excerpt truncated here]"
    page = parse_page(cut)
    assert page.body_table is not None
    assert [r.name for r in page.body_table.rows] == ["IconFileId", "Id"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("None.", Annotations()),
        ("Required.", Annotations(required=True)),
        ("Required Max length: 255", Annotations(required=True, max_length=255)),
        ("Is Optional. Default value is 100.", Annotations(optional=True, default="100")),
        ("Is Optional. Default value is (null).", Annotations(optional=True, default="(null)")),
        ("Must be 0 (for insert operations)", Annotations(must_be_zero=True)),
        ("Range: inclusive between 1 and 10", Annotations(range=("1", "10"))),
        ("Sparkles", Annotations(other=("Sparkles",))),
    ],
)
def test_annotations(text: str, expected: Annotations) -> None:
    assert parse_annotations(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("integer", TypeRef("integer")),
        ("decimal number", TypeRef("decimal number")),
        ("Collection of ContactInfo", TypeRef("ContactInfo", collection=True)),
        ("ParcelStatusEnum", TypeRef("ParcelStatusEnum")),
        ("Gets or sets the name.", None),
    ],
)
def test_types(text: str, expected: TypeRef | None) -> None:
    assert parse_type(text) == expected


def test_inheritance_levels_come_from_the_two_member_orders() -> None:
    json_order = ["IconFileId", "Id", "Name", "ShopOwnerId"]
    xml_order = ["Id", "Name", "ShopOwnerId", "IconFileId"]
    assert split_levels(json_order, xml_order) == [["Id", "Name", "ShopOwnerId"], ["IconFileId"]]
    assert split_levels(["A", "B"], ["A", "B"]) == [["A", "B"]]  # one class: nothing splits
    assert split_levels(["C", "B", "A"], ["A", "B", "C"]) == [["A"], ["B"], ["C"]]
    assert split_levels(["A", "B"], ["A", "C"]) is None


def test_nullability_is_read_off_the_sample_counters() -> None:
    """The seed's answer: ``CustomerId`` shows 1 where the shared index stood at 13."""
    page = parse_page(next(SEED.glob("*.txt")).read_text("utf-8"))
    assert page.response_table is not None
    members = list(json.loads(page.response_samples[0].text).items())
    found = infer_nullable(page.response_table.rows, members)
    assert found["Id"] is False
    assert found["ShopId"] is False
    for name in ("CustomerId", "Rating", "OrderId", "TicketId", "TicketCode", "EmployeeId"):
        assert found[name] is True, name
    # Three dates took one index between Id 11 and "sample string 13": which one is unknown.
    assert {"CreationDate", "LastActivityDate", "FinishedDate"}.isdisjoint(found)
    assert "CustomerName" not in found  # a string takes null whatever the sample says


def test_an_ambiguous_counter_reports_nothing() -> None:
    """``IconFileId: 1, Id: 1``: either may be the nullable one, so neither is reported."""
    page = parse_page(plain_page())
    assert page.body_table is not None
    found = infer_nullable(page.body_table.rows, list(json.loads(JSON_SAMPLE).items()))
    assert "IconFileId" not in found
    assert "Id" not in found
    assert found["ShopOwnerId"] is False


def _checked_in() -> dict[str, object]:
    return dict(json.loads((ROOT / "spec" / "api.json").read_text("utf-8")))


def test_the_checked_in_description_is_what_the_pages_give(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["spec/help", "tests/data/seed", "-o", "spec/api.json", "--check"]) == 0


def test_check_fails_when_the_description_is_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    stale = tmp_path / "api.json"
    stale.write_text(render({"endpoints": []}), "utf-8")
    assert main(["spec/help", "tests/data/seed", "-o", str(stale), "--check"]) == 1


def _index_endpoints() -> set[tuple[str, str]]:
    """``(method, path)`` of every endpoint INDEX.md lists, query and notes removed."""
    found = set()
    for line in (HELP / "INDEX.md").read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 4 and cells[1].isdigit() and cells[2] in ("GET", "POST", "PUT"):
            path = re.split(r"[ ?]", cells[3], maxsplit=1)[0]
            found.add((cells[2], path))
    return found


def test_every_endpoint_of_the_index_is_described() -> None:
    listed = _index_endpoints()
    assert len(listed) == 32  # 33 pages; two are variants of v1/ShopGroup/{id}/Products
    described = {(e["method"], e["path"]) for e in _checked_in()["endpoints"]}  # type: ignore[attr-defined]
    assert listed <= described


def test_the_description_follows_the_demo_host_and_marks_borrowed_rows() -> None:
    types = _checked_in()["types"]
    assert isinstance(types, dict)
    changes = types["MessageConversationChanges"]
    names = [p["name"] for p in changes["properties"]]
    # The help page's table is Json.NET's order, which the model declares once.
    assert names == [f.wire for f in json_order(MessageConversationChanges)]
    assert len(names) == 26
    assert names[-1] == "ChannelId"
    # The demo copy is cut before ChannelId: that row comes from the whole seed page.
    assert changes["properties"][-1]["from"].startswith("tests/data/seed/")
    assert changes["levels"] == [names[10:], names[:10]]
    assert types["MessageChanges"]["base"] == "MessageBasicInfo"
    order = types["OrderChanges"]
    assert not order["complete"]
    borrowed = [p["name"] for p in order["properties"] if "from" in p]
    assert borrowed == ["ExchangeRate", "ShopId", "ViewModusIncVAT"]


def test_a_text_that_is_not_a_page_is_listed_not_dropped() -> None:
    out = describe_sources([("notes.txt", "just some notes\n"), ("p.txt", plain_page())])
    assert out["skipped"] == [
        {"source": "notes.txt", "reason": "notes.txt has no 'METHOD v1/...' line"}
    ]
    assert len(out["endpoints"]) == 1  # type: ignore[arg-type]


async def test_a_live_site_is_read_page_by_page() -> None:
    """An index linking API pages, and a page linking a ResourceModel page (loopback)."""
    model = (
        "<html><body><h1>ShopGroupChanges</h1><table><thead><tr><th>Name</th><th>Description"
        "</th><th>Type</th><th>Additional information</th></tr></thead><tbody><tr><td>Id</td>"
        "<td><p>The id.</p></td><td>integer</td><td><p>Required</p></td></tr></tbody></table>"
        "</body></html>"
    )
    routes = {
        "/Help": '<html><body><a href="/Help/Api/POST-v1-Shops-shopId-Groups">x</a></body></html>',
        "/Help/Api/POST-v1-Shops-shopId-Groups": html_page(),
        "/Help/ResourceModel": model,
    }

    async def serve(request: web.Request) -> web.Response:
        return web.Response(text=routes[request.path], content_type="text/html")

    app = web.Application()
    for path in routes:
        app.router.add_get(path, serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        pages = await fetch_site(f"http://127.0.0.1:{port}/Help")
        out = describe_sources(pages)
        assert [e["path"] for e in out["endpoints"]] == ["v1/Shops/{shopId}/Groups"]  # type: ignore[attr-defined]
        assert "ShopGroupChanges" in out["types"]  # type: ignore[operator]
        with pytest.raises(TransportError, match="answered 404"):
            await fetch_site(f"http://127.0.0.1:{port}/Nope")
    finally:
        await runner.cleanup()
