"""The repository carries everything its code, tests and benchmarks read.

A clone on a machine that holds nothing but the repository must run its own tests, so no
source file may name a path above the repository's root (``../shared``,
``Path(__file__).parents[2]`` from ``tests/``, ``.parent.parent.parent`` ...).
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tracked_files() -> list[Path]:
    """The files git tracks, or every file below the root when git is not there."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts]
    return [ROOT / name for name in out.decode().split("\0") if name]


def _depth(path: Path) -> int:
    """How many folders ``path`` sits below the root (0 for a file at the top)."""
    return len(path.relative_to(ROOT).parts) - 1


def _climbs_above(expr: ast.expr, depth: int) -> bool:
    """Whether ``expr`` is ``Path(__file__)...`` walked above the root.

    ``Path(__file__).parents[k]`` is folder ``depth - k``; each ``.parent`` climbs one.
    """
    climbed = 0
    node = expr
    while True:
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            climbed += 1
            node = node.value
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "parents"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int)
        ):
            climbed += node.slice.value + 1
            node = node.value.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value  # .resolve(), .absolute() ...
        else:
            break
    mentions_file = any(isinstance(n, ast.Name) and n.id == "__file__" for n in ast.walk(node))
    # The file itself is one step below its folder: climbing depth + 1 reaches the root.
    return mentions_file and climbed > depth + 1


def offending_lines(path: Path, text: str) -> list[str]:
    """The lines of one source file that name a path above the repository's root."""
    found: list[str] = []
    if path.suffix == ".py":
        tree = ast.parse(text, filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                parts = node.value.replace("\\", "/").split("/")
                # A URL's dot segments are the URL's business, not a file path.
                if ".." in parts and len(parts) > 1 and "://" not in node.value:
                    found.append(f"{path.name}:{node.lineno}: {node.value!r}")
            elif isinstance(node, ast.Attribute | ast.Subscript) and _climbs_above(
                node, _depth(path)
            ):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    else:
        climb = ".." + "/"  # spelled so that this file does not name it
        for lineno, line in enumerate(text.splitlines(), 1):
            if climb in line and not line.lstrip().startswith("#"):
                found.append(f"{path.name}:{lineno}: {line.strip()}")
    return sorted(set(found))


def _source_files() -> list[Path]:
    names = {"run", "noxfile.py", "pyproject.toml"}
    suffixes = {".py", ".sh", ".toml", ".cfg", ".ini", ".cs"}
    return [p for p in _tracked_files() if p.suffix in suffixes or p.name in names]


def test_no_source_file_names_a_path_above_the_repository_root() -> None:
    files = _source_files()
    assert any(p.name == "conftest.py" for p in files), "the scan found no sources"
    offences = [line for p in files for line in offending_lines(p, p.read_text("utf-8"))]
    assert offences == []


@pytest.mark.parametrize(
    ("relpath", "source"),
    [
        ("tests/conftest.py", 'D = Path(__file__).resolve().parents[2] / "shared" / "seed"\n'),
        ("benchmarks/b.py", 'D = Path(__file__).resolve().parent.parent.parent / "shared"\n'),
        ("shopapi/x.py", 'open("../shared/seed/page.txt")\n'),
        (".ci/run", "cp ../shared/seed/*.txt tests/\n"),
    ],
)
def test_the_scan_catches_each_way_of_climbing_out(relpath: str, source: str) -> None:
    assert offending_lines(ROOT / relpath, source) != []


@pytest.mark.parametrize(
    ("relpath", "source"),
    [
        ("tests/conftest.py", 'D = Path(__file__).resolve().parents[1] / "tests" / "data"\n'),
        ("tests/conftest.py", 'D = Path(__file__).resolve().parent / "data" / "seed"\n'),
        ("benchmarks/b.py", "ROOT = Path(__file__).resolve().parents[1]\n"),
        ("shopapi/x.py", 'URL = "https://tenant.shopctrl.com:52222/v1/Shops"\n'),
    ],
)
def test_paths_inside_the_repository_pass(relpath: str, source: str) -> None:
    assert offending_lines(ROOT / relpath, source) == []


def test_the_golden_vectors_are_in_the_repository() -> None:
    pages = list((ROOT / "tests" / "data" / "seed").glob("*.txt"))
    assert len(pages) == 1
    assert pages[0].read_text("utf-8").count("Sample:\n") == 4
