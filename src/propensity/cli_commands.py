"""Wires each domain's CLI commands into the `propensity` command."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Each domain adds its commands here with one line."""
    __import__("propensity.jobs.cli", fromlist=["register"]).register(app)
    __import__("propensity.crm.cli", fromlist=["register"]).register(app)
    del app
