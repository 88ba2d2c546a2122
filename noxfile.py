"""Developer sessions: ``nox -s tests lint typecheck bench docs``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"


@nox.session(python=["3.11", "3.12", "3.13"])
def tests(session: nox.Session) -> None:
    """The test suite (asyncio and trio)."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-q", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and format check."""
    session.install("ruff")
    session.run("ruff", "check", "src", "tests", "benchmarks")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy strict on src/."""
    session.install("-e", ".[dev]")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Every benchmark in benchmarks/ (figures land in benchmarks/results/)."""
    session.install("-e", ".[bench]")
    session.run("python", "benchmarks/run_all.py", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Run the docs' code examples and notebooks so they cannot rot."""
    session.install("-e", ".[dev]", "nbclient", "nbformat", "ipykernel")
    session.run("pytest", "-q", "tests/test_docs.py", *session.posargs)
