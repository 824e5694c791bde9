"""The fault matrix (``tests/fault_matrix.py``): every injectable fault against
``update()`` and ``update_many()``, in JSON and XML, checked cell by cell.

Each cell asserts the outcome (saved, or the exact error type), the attempts the server
and the client saw, the saves, exactly one result per item (nothing lost, nothing
duplicated), the stored value, and no "Unclosed" warning.
"""

from __future__ import annotations

import pytest

from tests.fault_matrix import APIS, CELLS, FORMATS, ITEMS, Api, Cell, Format, run_cell


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("cell", CELLS, ids=[c.fault for c in CELLS])
async def test_fault_matrix_cell(cell: Cell, fmt: Format, api: Api) -> None:
    measured = await run_cell(cell, fmt, api)
    items = 1 if api == "update" else ITEMS
    assert measured.outcomes == (cell.outcome,) * items
    assert measured.results == items
    assert measured.indices == tuple(range(items))
    if cell.puts is None:
        assert measured.puts is None
    else:
        assert measured.puts == (cell.puts,) * items
    assert measured.attempts == (cell.attempts,) * items
    assert measured.saves == (cell.saves,) * items
    assert measured.stored_ok
    assert measured.unclosed == 0
    if cell.fault.startswith("429, Retry-After: 1 "):
        assert measured.seconds >= 0.99  # the Retry-After was honoured, not skipped


def test_the_matrix_covers_every_fault_kind() -> None:
    """A new fault kind in shopapi.testing must get a row here."""
    from shopapi.testing import _FAULT_KINDS

    kinds = {f.kind for cell in CELLS for fmt in FORMATS for f in cell.faults(fmt)}
    assert kinds >= set(_FAULT_KINDS)
    statuses = {f.code for cell in CELLS for f in cell.faults("json") if f.kind == "status"}
    assert statuses >= {408, 429, 500, 502, 503, 504}
