"""Shared fixtures: the help page's four golden samples, and the fuzz-campaign gate."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

#: The help page the project started from, kept in the repository (its samples are the golden
#: vectors; a test pins that no source file reads a path above the repository root).
SEED_DIR = Path(__file__).resolve().parent / "data" / "seed"
SEED_SAMPLE_KEYS = ("request_json", "request_xml", "response_json", "response_xml")


@cache
def load_seed_samples() -> dict[str, str]:
    """The four ``Sample:`` blocks of the help page, in page order.

    They are the golden vectors: what Json.NET and XmlSerializer really write.
    """
    (page,) = SEED_DIR.glob("*.txt")
    text = page.read_text(encoding="utf-8")
    blocks = [chunk.split("\n\n", 1)[0] for chunk in text.split("Sample:\n")[1:]]
    if len(blocks) != len(SEED_SAMPLE_KEYS):
        raise RuntimeError(f"expected 4 samples in {page}, found {len(blocks)}")
    return dict(zip(SEED_SAMPLE_KEYS, blocks, strict=True))


@pytest.fixture(scope="session")
def seed_samples() -> dict[str, str]:
    """Session-scoped so Hypothesis tests may use it too."""
    return load_seed_samples()


#: Long campaigns, each run only when ``-m`` names it (``nox -s fuzz``, ``soak``, ``crash``),
#: and the conformance suite against the real .NET stack (``nox -s conformance``).
CAMPAIGN_MARKERS = ("fuzz", "soak", "crash", "conformance")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave the long campaigns (``fuzz``, ``soak``, ``crash``) and the conformance suite
    out unless ``-m`` names them (``nox -s fuzz`` etc.).

    Deselected, not skipped: the default run reports no skips to wave through.
    """
    selection = config.getoption("-m") or ""
    left_out = [m for m in CAMPAIGN_MARKERS if m not in selection]
    if not left_out:
        return
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        out = any(item.get_closest_marker(m) for m in left_out)
        (deselected if out else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
