"""One hierarchy of errors that the CLI and the API turn into clean messages."""

from __future__ import annotations


class KbError(Exception):
    """Base class of every error kb reports to a user instead of a traceback."""

    code = "kb_error"
    exit_code = 1


class ConfigError(KbError):
    """A setting has a value kb cannot use."""

    code = "invalid_setting"
    exit_code = 2


class ArticleError(KbError):
    """An article file cannot be read or is invalid; carries the path and line."""

    code = "invalid_article"

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        location = f"{path}:{line}" if line else path
        super().__init__(f"{location}: {message}")


class IndexNotFoundError(KbError):
    """No published index exists where one was expected."""

    code = "index_not_found"


class IndexFormatError(KbError):
    """The index directory is damaged or written by an incompatible version."""

    code = "index_invalid"


class ModelMismatchError(KbError):
    """The index was built with another embedding model than the one configured."""

    code = "model_mismatch"


class ModelLoadError(KbError):
    """The embedding model could not be loaded from its local directory."""

    code = "model_unavailable"


class QueryError(KbError):
    """A search query is empty, too long or otherwise unusable."""

    code = "invalid_query"
    exit_code = 2


class NewArticleError(KbError):
    """`kb new` cannot make an article from what it was given (an empty title, say)."""

    code = "invalid_new_article"
    exit_code = 2
