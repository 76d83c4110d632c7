"""`python -m propensity.jobs [OPTIONS]`: the worker without the rest of the CLI."""

import typer

from propensity.jobs.cli import worker

if __name__ == "__main__":
    typer.run(worker)
