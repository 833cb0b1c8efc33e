"""Query expansion with a table of payment-operations jargon (``corpora/lexicon/synonyms.json``).

Analysts type "bene acct", "ssi", "dupe", "rfro", "who paid"; the procedures say "beneficiary
account", "standing settlement instruction", "duplicate", "recall", "payer". The table lists groups
of phrases that mean the same thing; it is data, so operations staff can extend it without a code
change or an index rebuild (only queries are expanded, never the indexed text).

Contract:

- :func:`load_lexicon` reads ``{"groups": [[phrase, ...], ...]}`` (each group at least two non-empty
  phrases, a phrase at most 60 characters); anything else raises
  :class:`tools.errors.ValidationError` naming the file. A missing default file gives an empty
  lexicon (expansion off), a missing explicit path is an error. Results are cached per path.
- :meth:`Lexicon.expand` finds every phrase of the table in the query, comparing words after the
  BM25 stemmer (so "emailed" meets "email", "bene's" meets "bene") and treating hyphens as spaces;
  it returns the BM25 tokens of the *other* phrases of each matched group that the query does not
  already hold, each with weight ``weight`` (a synonym is weaker evidence than a typed word), and
  the text the dense model should read: the query followed by the first (spelled-out) phrase of
  each group the query matched through another phrase ("bene acct" -> "bene acct (beneficiary;
  account)"), because MiniLM knows few abbreviations.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools import config
from tools.errors import ValidationError
from tools.retrieval.tokenize import stem, tokenize

DEFAULT_WEIGHT = 0.2
MAX_PHRASE_CHARS = 60
_WORDS = re.compile(r"[a-z0-9]+(?:[./][a-z0-9]+)*")


def default_lexicon_path() -> Path:
    return config.corpora_dir() / "lexicon" / "synonyms.json"


def _words(text: str) -> tuple[str, ...]:
    # "'s" and hyphens are noise here: "bene's" is "bene", "cut-off" is "cut off".
    cleaned = text.lower().replace("'s", "").replace("-", " ")
    return tuple(stem(w) for w in _WORDS.findall(cleaned))


@dataclass(frozen=True)
class Expansion:
    """What a query gains: weighted BM25 tokens and the text for the dense model."""

    tokens: dict[str, float] = field(default_factory=dict)
    dense_text: str = ""
    groups: list[str] = field(default_factory=list, metadata={"doc": "first phrase of each matched group"})


class Lexicon:
    """Groups of equivalent phrases; see the module docstring."""

    def __init__(self, groups: Sequence[Sequence[str]], *, weight: float = DEFAULT_WEIGHT) -> None:
        self.groups = [list(g) for g in groups]
        self.weight = weight
        self._phrases: list[tuple[tuple[str, ...], int, int]] = []  # (words, group, position)
        for index, group in enumerate(self.groups):
            for position, phrase in enumerate(group):
                words = _words(phrase)
                if words:
                    self._phrases.append((words, index, position))
        self._group_tokens = [[tokenize(p) for p in g] for g in self.groups]

    def expand(self, query: str) -> Expansion:
        words = _words(query)
        matched: dict[int, set[int]] = {}  # group -> phrases of it found in the query
        for phrase_words, group, position in self._phrases:
            if _contains(words, phrase_words):
                matched.setdefault(group, set()).add(position)
        if not matched:
            return Expansion(dense_text=query)
        present = set(tokenize(query))
        tokens: dict[str, float] = {}
        spelled: list[str] = []
        for group, found in sorted(matched.items()):
            for position, phrase_tokens in enumerate(self._group_tokens[group]):
                if position in found:
                    continue
                for token in phrase_tokens:
                    if token not in present:
                        tokens[token] = self.weight
            if 0 not in found:
                spelled.append(self.groups[group][0])
        dense_text = f"{query} ({'; '.join(spelled)})" if spelled else query
        return Expansion(tokens, dense_text, [self.groups[g][0] for g in sorted(matched)])


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(words[i : i + size] == phrase for i in range(len(words) - size + 1))


_lock = threading.Lock()
_cache: dict[Path, Lexicon] = {}


def load_lexicon(path: Path | None = None) -> Lexicon:
    """The lexicon in ``path`` (default: ``corpora/lexicon/synonyms.json``); see the module docstring."""
    explicit = path is not None
    path = (path or default_lexicon_path()).resolve()
    with _lock:
        if path not in _cache:
            if not path.is_file() and not explicit:
                return Lexicon([])
            _cache[path] = Lexicon(_read_groups(path))
        return _cache[path]


def _read_groups(path: Path) -> list[list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(f"synonym table unreadable: {exc}", source=str(path)) from exc
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        raise ValidationError('expected {"groups": [[phrase, ...], ...]}', source=str(path))
    out: list[list[str]] = []
    for number, group in enumerate(groups, 1):
        if (
            not isinstance(group, list)
            or len(group) < 2
            or not all(isinstance(p, str) and p.strip() and len(p) <= MAX_PHRASE_CHARS for p in group)
        ):
            raise ValidationError(
                f"group {number} must list at least two phrases of 1 to {MAX_PHRASE_CHARS} characters",
                source=str(path),
            )
        out.append([p.strip() for p in group])
    return out
