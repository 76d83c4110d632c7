"""Wires each domain's CLI commands into the `propensity` command.

Imported lazily by `cli.main` so that `propensity --help` does not pay for every domain's
imports up front, and domains never import the CLI root.
"""

from __future__ import annotations

import typer

_registered: set[int] = set()


def register(app: typer.Typer) -> None:
    if id(app) in _registered:
        return
    _registered.add(id(app))
    from propensity.crm import cli as crm_cli
    from propensity.features import cli as features_cli
    from propensity.jobs import cli as jobs_cli
    from propensity.training import cli as training_cli

    jobs_cli.register(app)
    crm_cli.register(app)
    features_cli.register(app)
    training_cli.register(app)
