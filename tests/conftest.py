"""Shared fixtures: the help page's four golden samples, and the fuzz-campaign gate."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seed"
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave the long ``fuzz`` campaigns out unless ``-m`` names them (``nox -s fuzz``).

    Deselected, not skipped: the default run reports no skips to wave through.
    """
    if "fuzz" in (config.getoption("-m") or ""):
        return
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        (deselected if item.get_closest_marker("fuzz") else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
