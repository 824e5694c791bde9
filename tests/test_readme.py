"""The README's two commands are what CI runs, so they stay true."""

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
