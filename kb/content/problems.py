"""The one type every check reports: a problem located by file path and line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an article file, located by path and line."""

    path: str
    line: int | None
    severity: str  # "error" or "warning"
    message: str

    def __str__(self) -> str:
        location = f"{self.path}:{self.line}" if self.line else self.path
        return f"{location}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"
