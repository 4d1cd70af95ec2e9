"""Optional synonym groups for the lexical ranker: a YAML list of lists of words or phrases."""

from __future__ import annotations

from pathlib import Path

import yaml

from kb.errors import ConfigError
from kb.index.lexical import tokenize


class Synonyms:
    """Maps each stemmed word to the stems of its group, so "bill" also matches "invoice"."""

    def __init__(self, groups: list[list[str]]) -> None:
        self.related: dict[str, set[str]] = {}
        for group in groups:
            stems = {stem for phrase in group for stem in tokenize(phrase)}
            for stem in stems:
                self.related.setdefault(stem, set()).update(stems)

    @classmethod
    def load(cls, path: str) -> Synonyms:
        """Read the synonyms file; an empty path means no synonyms.

        Raises:
            ConfigError: the file is missing or is not a list of lists of text.
        """
        if not path:
            return cls([])
        file = Path(path).expanduser()
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"KB_SYNONYMS {file}: cannot be read ({error.strerror})") from None
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"KB_SYNONYMS {file}{line}: invalid YAML") from None
        if not isinstance(data, list) or not all(
            isinstance(group, list) and all(isinstance(word, str) for word in group) for group in data
        ):
            raise ConfigError(f"KB_SYNONYMS {file}: expected a list of groups, each a list of words")
        return cls(data)

    def expand(self, stems: list[str]) -> list[str]:
        """The query's stems followed by the stems of their synonyms."""
        expanded = list(stems)
        for stem in stems:
            for other in sorted(self.related.get(stem, ())):
                if other not in expanded:
                    expanded.append(other)
        return expanded
