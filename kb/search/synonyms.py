"""Optional synonym groups for the lexical ranker: a YAML list of lists of words or phrases."""

from __future__ import annotations

from pathlib import Path

import yaml

from kb.content.safe_yaml import describe_error, load_yaml
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
            _, data = load_yaml(file.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"KB_SYNONYMS {file}: cannot be read ({error.strerror})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"KB_SYNONYMS {file}: is not UTF-8 text") from None
        except yaml.YAMLError as error:
            line, problem = describe_error(error)
            raise ConfigError(f"KB_SYNONYMS {file}:{line}: invalid YAML: {problem}") from None
        # Dates stay text with kb's loader; a number such as an error code (404) is a word like any other.
        words = (str, int, float)
        if not isinstance(data, list) or not all(
            isinstance(group, list) and all(isinstance(word, words) and not isinstance(word, bool) for word in group)
            for group in data
        ):
            raise ConfigError(f"KB_SYNONYMS {file}: expected a list of groups, each a list of words")
        return cls([[str(word) for word in group] for group in data])

    def expand(self, stems: list[str]) -> list[str]:
        """The query's stems followed by the stems of their synonyms."""
        expanded = list(stems)
        for stem in stems:
            for other in sorted(self.related.get(stem, ())):
                if other not in expanded:
                    expanded.append(other)
        return expanded
