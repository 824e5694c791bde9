"""Sessions: tests, lint, typecheck, docs, bench, the long reliability campaigns (fuzz,
soak, crash, fault_matrix; see RELIABILITY.md), and the conformance suite against the real
.NET stack (conformance; see docs/guides/conformance.md)."""

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
    paths = ("shopapi", "tests", "benchmarks", "noxfile.py", "tools")
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, tests, benchmarks and this file ([tool.mypy] files)."""
    session.install("-e", ".[test]", "mypy>=1.10", "lxml-stubs>=0.5", "nox>=2024.4")
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
def soak(session: nox.Session) -> None:
    """The 10,000-item bulk soak (20% transient, 1% permanent faults); not in the default run."""
    session.install("-e", ".[test]")
    session.run("pytest", "-q", "-s", "-m", "soak", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def crash(session: nox.Session) -> None:
    """Repeated SIGKILL/SIGINT of the bulk CLI, then resume; not in the default run."""
    session.install("-e", ".[test]")
    session.run("pytest", "-q", "-s", "-m", "crash", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def conformance(session: nox.Session) -> None:
    """The differential suite against Json.NET, XmlSerializer and a real Web API server
    (needs Mono and the Debian packages docs/guides/conformance.md lists; fails, never
    skips, without)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-q", "-m", "conformance", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def fault_matrix(session: nox.Session) -> None:
    """Measure the fault matrix and print the table RELIABILITY.md carries."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "tests.fault_matrix")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against their floors; each figure is a median ratio."""
    session.install("-e", ".")
    for script in ("bench_codecs.py", "bench_calls.py", "bench_session.py", "bench_bulk.py"):
        session.run("python", f"benchmarks/{script}")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site; ``--strict`` turns a broken reference or link into a
    failure. ``nox -s docs -- serve`` serves it on 127.0.0.1:8000 instead."""
    session.install("-e", ".[docs]")
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve", "--strict", "--dev-addr", "127.0.0.1:8000")
    else:
        session.run("mkdocs", "build", "--strict", "--site-dir", "site", *session.posargs)


@nox.session
def bench_adaptive(session: nox.Session) -> None:
    """concurrency="auto" against the best fixed concurrency per capacity (long: pass
    e.g. ``-- --items 5000`` for a shorter run)."""
    session.install("-e", ".")
    session.run("python", "benchmarks/bench_adaptive.py", *session.posargs)
