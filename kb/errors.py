"""One hierarchy of errors that the CLI and the API turn into clean messages.

Every class states three things about itself, so that no table elsewhere has to: `code`, the
stable string an API client or script matches on; `http_status`, what the server answers when the
error reaches it; `exit_code`, what `kb` exits with. Exit status 2 means the user asked for
something unusable (a bad setting, query or argument), 1 that kb could not do the work asked of it.
tests/test_error_contract.py holds every class to this.
"""

from __future__ import annotations


class KbError(Exception):
    """Base class of every error kb reports to a user instead of a traceback."""

    code = "kb_error"
    http_status = 500
    exit_code = 1


class ConfigError(KbError):
    """One or more settings have values kb cannot use; names every one of them."""

    code = "invalid_setting"
    http_status = 500  # the server's own configuration, not the client's request
    exit_code = 2

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        if len(problems) == 1:
            super().__init__(problems[0])
        else:
            super().__init__(f"{len(problems)} problems with the settings: " + "; ".join(problems))


class ArticleError(KbError):
    """An article file cannot be read or is invalid; carries the path and line."""

    code = "invalid_article"
    http_status = 500  # the server's articles folder, not the client's request
    exit_code = 1

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        location = f"{path}:{line}" if line else path
        super().__init__(f"{location}: {message}")


class IndexNotFoundError(KbError):
    """No published index exists where one was expected."""

    code = "index_not_found"
    http_status = 503
    exit_code = 1


class IndexFormatError(KbError):
    """The index directory is damaged or written by an incompatible version."""

    code = "index_invalid"
    http_status = 503
    exit_code = 1


class ModelMismatchError(KbError):
    """The index was built with another embedding model than the one configured."""

    code = "model_mismatch"
    http_status = 503
    exit_code = 1


class ModelLoadError(KbError):
    """The embedding model could not be loaded from its local directory."""

    code = "model_unavailable"
    http_status = 503
    exit_code = 1


class QueryError(KbError):
    """A search query is empty, too long or otherwise unusable."""

    code = "invalid_query"
    http_status = 400
    exit_code = 2


class StorageError(KbError):
    """A record cannot be written or found (a duplicate name, an unknown agent)."""

    code = "invalid_request"
    http_status = 400
    exit_code = 2


class NewArticleError(KbError):
    """`kb new` cannot make an article from what it was given (an empty title, say)."""

    code = "invalid_new_article"
    http_status = 500  # only the CLI raises it: a server that meets one has a bug
    exit_code = 2


class ExportError(KbError):
    """`kb import` cannot read the export it was given (not JSON, or without the lists it needs)."""

    code = "invalid_export"
    http_status = 500  # only the CLI raises it: a server that meets one has a bug
    exit_code = 2


class DatasetError(KbError):
    """A BEIR-layout folder is missing a file or has a malformed line, or a golden-queries file an invalid entry."""

    code = "invalid_dataset"
    http_status = 500  # only `kb eval` raises it: a server that meets one has a bug
    exit_code = 2


class DatabaseUnavailableError(KbError):
    """The agents' database cannot be reached in time (down, hung, busy, or its driver is missing).

    Only agent features need the database: they answer 503 while the public site goes on.
    """

    code = "database_unavailable"
    http_status = 503
    exit_code = 1


class SchemaOutdatedError(KbError):
    """The database's schema revision is not the one this code was written for: `kb db upgrade` is due."""

    code = "database_outdated"
    http_status = 503
    exit_code = 1


class DeliveryError(KbError):
    """A contact request could not be handed to its webhook or mail server this time; it is retried later.

    Only the delivery worker meets it (and logs it, and stores it on the outbox row): customers never do.
    """

    code = "delivery_failed"
    http_status = 502
    exit_code = 1


class PeriodError(KbError):
    """A date range for insights is unusable: not a YYYY-MM-DD date, ending before it starts, or too long."""

    code = "invalid_period"
    http_status = 400
    exit_code = 2


def error_classes() -> list[type[KbError]]:
    """KbError and every class below it, parents first."""
    found: list[type[KbError]] = [KbError]
    for kind in found:
        found.extend(child for child in kind.__subclasses__() if child not in found)
    return found
