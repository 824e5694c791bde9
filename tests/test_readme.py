"""The README's two commands are what CI runs, so they stay true; the README stays one
screen that points into the docs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_readme_opens_with_the_demo_then_the_tests() -> None:
    demo, tests = readme_commands()
    assert demo.endswith("python -m shopapi demo")
    assert tests.endswith("python -m pytest -q")
    assert '".[test]"' in tests


def test_ci_runs_the_readme_commands_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    demo, tests = readme_commands()
    assert tests in ci
    assert demo in ci


def test_ci_runs_them_in_a_clone_that_has_nothing_beside_it() -> None:
    """A fresh clone in an empty temporary folder: no ``../shared`` to lean on."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    _, tests = readme_commands()
    clone = next(i for i, line in enumerate(ci) if line.startswith('git clone -q . "$work/'))
    enter = ci.index('cd "$work/shopapi"')
    assert any(line.startswith("work=$(mktemp -d)") for line in ci[:clone])
    assert clone < enter < ci.index(tests)


def test_the_readme_fits_one_screen() -> None:
    """What a newcomer needs, on one screen: the rest lives in docs/."""
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 65
    headings = [line for line in lines if line.startswith("#")]
    assert headings == ["# shopapi", "## An example", "## What you can do", "## Documentation"]


#: The resource groups of the API (issue 15), each with its page under docs/resources/.
GROUPS = {
    "Messaging": "docs/resources/message-conversations.md",
    "Orders and fulfilment": "docs/resources/orders-and-fulfilment.md",
    "Products, catalogue and files": "docs/resources/products.md",
    "Shops, owners and groups": "docs/resources/shops.md",
    "Customers": "docs/resources/customers.md",
}


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_what_you_can_do_has_a_line_per_resource_group_with_its_page() -> None:
    items = re.findall(
        r"^- \*\*(.+?)\*\*: (.+?)(?=^- |^$|\Z)", readme_section("What you can do"), re.M | re.S
    )
    assert [group for group, _ in items] == list(GROUPS)
    for group, text in items:
        assert re.findall(r"\]\(([^)]+)\)", text) == [GROUPS[group]]


def test_the_readmes_links_resolve_to_pages_of_the_site() -> None:
    text = (ROOT / "README.md").read_text()
    nav = (ROOT / "mkdocs.yml").read_text()
    links = [link for link in re.findall(r"\]\(([^)#]+)\)", text) if "://" not in link]
    assert "docs/index.md" in links
    assert "CHANGELOG.md" in links
    for link in links:
        assert (ROOT / link).is_file(), link
        if link.startswith("docs/"):
            assert f": {link.removeprefix('docs/')}\n" in nav, f"{link} is not in mkdocs.yml's nav"
