"""The one type every check reports: a problem located by file path and line."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.StrEnum):
    """How bad a problem is: an error keeps the article out (or fails `kb check`), a warning does not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an article file, located by path and line."""

    path: str
    line: int | None
    severity: Severity
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))  # read back from JSON as a plain string

    def __str__(self) -> str:
        location = f"{self.path}:{self.line}" if self.line else self.path
        return f"{location}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR
