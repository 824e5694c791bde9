"""Sessions: tests, lint, typecheck, fuzz (long Hypothesis campaigns) and bench."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"


@nox.session
def tests(session: nox.Session) -> None:
    """The default test run (what CI and the README run)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-q", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "shopapi", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "shopapi", "tests", "benchmarks", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package."""
    session.install("-e", ".", "mypy>=1.10", "lxml-stubs>=0.5")
    session.run("mypy", "--strict")


@nox.session
def fuzz(session: nox.Session) -> None:
    """Long Hypothesis campaigns (100,000+ examples per decoder); not in the default run."""
    session.install("-e", ".[test]")
    session.run(
        "pytest",
        "-q",
        "-m",
        "fuzz",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env={"SHOPAPI_FUZZ": "1"},
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against their floors; each figure is a median ratio."""
    session.install("-e", ".")
    for script in ("bench_codecs.py", "bench_session.py", "bench_bulk.py"):
        session.run("python", f"benchmarks/{script}")
