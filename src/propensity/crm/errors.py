"""What an import reports when it refuses input: each bad row, its column and the problem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from propensity.errors import InvalidInput, PropensityError

# How many row errors a rejection carries; the total is always reported.
MAX_REPORTED_ERRORS = 1000


@dataclass(frozen=True, order=True)
class RowError:
    """`row` is the 1-based data row (or line, for JSON Lines); None for the whole file."""

    row: int | None
    column: str | None
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "problem": self.problem}

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.problem}"


class ErrorList:
    """Collects row errors, keeping the first MAX_REPORTED_ERRORS by row and a total."""

    def __init__(self) -> None:
        self._kept: list[RowError] = []
        self.total = 0

    def add(self, error: RowError) -> None:
        self.total += 1
        self._kept.append(error)
        if len(self._kept) > 2 * MAX_REPORTED_ERRORS:
            self._trim()

    def extend(self, errors: list[RowError], *, total: int | None = None) -> None:
        """Adds errors of which `errors` may be only the first few out of `total`."""
        self.total += len(errors) if total is None else total
        self._kept.extend(errors)
        self._trim()

    def _trim(self) -> None:
        self._kept.sort(key=_order)
        del self._kept[MAX_REPORTED_ERRORS:]

    @property
    def errors(self) -> list[RowError]:
        self._trim()
        return list(self._kept)

    def __bool__(self) -> bool:
        return self.total > 0


def _order(error: RowError) -> tuple[int, str, str]:
    return (-1 if error.row is None else error.row, error.column or "", error.problem)


class ImportRejected(InvalidInput):
    """Some rows are bad, so nothing was imported."""

    code = "INVALID_ROWS"

    def __init__(self, errors: ErrorList) -> None:
        self.errors = errors.errors
        self.total_errors = errors.total
        bad_rows = len({e.row for e in self.errors})
        noun = "problem" if errors.total == 1 else "problems"
        message = f"{errors.total} {noun} found; nothing was imported"
        if self.errors and self.errors[0].row is None:
            message = f"{self.errors[0]}; nothing was imported"
        elif errors.total == len(self.errors):
            message = f"{errors.total} {noun} in {bad_rows} row(s); nothing was imported"
        super().__init__(
            message,
            details={
                "errors": [e.as_dict() for e in self.errors],
                "errorCount": errors.total,
            },
        )


class TooManyRows(PropensityError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
