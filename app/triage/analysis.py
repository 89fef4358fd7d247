"""Turning case text, log lines and anomaly text into ranking terms.

The same analysis runs on both sides, so that a case and an anomaly meet on
the same terms: lower-case words, stemmed (Snowball English via PyStemmer),
English stop words dropped, identifiers kept whole and also split
(``hal_acl_install.c`` gives ``hal_acl_install.c``, ``hal``, ``acl``,
``install``; ``snmpMaster`` gives ``snmpmaster``, ``snmp``, ``master``), and
networking synonyms folded onto one term by the vocabulary in
vocabulary.yaml (``reload``, ``restart`` and ``reboot`` all become
``reboot``). Each term keeps the first word it came from, so that matched
terms can be shown to a person in the case's own words.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import Stemmer
import yaml
from bm25s.stopwords import STOPWORDS_EN

VOCABULARY_PATH = Path(__file__).with_name("vocabulary.yaml")
_RAW_TOKEN = re.compile(r"[A-Za-z0-9_]+(?:[.\-/][A-Za-z0-9_]+)*")
_SEPARATORS = re.compile(r"[._\-/]+")
# snmpMaster -> snmp|Master, MTUMismatch -> MTU|Mismatch, but VLANs stays whole.
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]{2,})")
_STOP = frozenset(STOPWORDS_EN) | {
    "about", "after", "again", "all", "also", "any", "back", "been", "before", "can", "come", "comes", "could",
    "did", "do", "does", "each", "every", "from", "get", "got", "had", "has", "have", "how", "its", "just",
    "like", "more", "new", "now", "once", "only", "other", "our", "over", "please", "same", "say", "says", "see",
    "seen", "seem", "seems", "since", "so", "some", "still", "than", "them", "those", "too", "us", "very",
    "was", "we", "were", "what", "when", "where", "which", "while", "who", "why", "would", "you", "your"}
MAX_DIGITS = 4  # longer numbers are counters, addresses and timestamps, not meaning


@lru_cache(maxsize=1)
def _stemmer():
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@dataclass(frozen=True)
class Vocabulary:
    """Synonyms folded onto one term, and phrases read as one term."""

    words: dict[str, str] = field(default_factory=dict)
    phrases: tuple[tuple[tuple[str, ...], str], ...] = ()


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The shipped vocabulary (vocabulary.yaml), stemmed once."""
    data = yaml.safe_load(VOCABULARY_PATH.read_text())
    words: dict[str, str] = {}
    phrases: list[tuple[tuple[str, ...], str]] = []
    for group in data["synonyms"]:
        canonical = _stem(group[0].lower())
        for term in group:
            stems = tuple(_stem(w) for w in term.lower().split())
            if len(stems) == 1:
                words[stems[0]] = canonical
            else:
                phrases.append((stems, canonical))
    phrases.sort(key=lambda item: -len(item[0]))
    return Vocabulary(words, tuple(phrases))


NO_VOCABULARY = Vocabulary()


def _word_stems(text: str) -> list[tuple[str, str]]:
    """(stem, surface word) for each word, identifiers expanded into their parts."""
    out: list[tuple[str, str]] = []
    for match in _RAW_TOKEN.finditer(text):
        raw = match.group()
        lowered = raw.lower()
        parts = [part for piece in _SEPARATORS.split(raw) for part in _CAMEL.split(piece) if part]
        compound = len(parts) > 1
        if compound and any(ch.isalpha() for ch in raw) and len(lowered) <= 64:
            out.append((lowered, raw))
        for part in parts if compound else [raw]:
            word = part.lower()
            if word in _STOP or len(word) < 2:
                continue
            if word.isdigit() and len(word) > MAX_DIGITS:
                continue
            out.append((_stem(word), part))
    return out


def terms(text: str, vocab: Vocabulary | None = None) -> list[tuple[str, str]]:
    """The ranking terms of `text` in order, each with the word it came from."""
    vocab = vocabulary() if vocab is None else vocab
    stems = _word_stems(text)
    if not vocab.words and not vocab.phrases:
        return stems
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(stems):
        for phrase, canonical in vocab.phrases:
            n = len(phrase)
            if tuple(s for s, _ in stems[i:i + n]) == phrase:
                out.append((canonical, " ".join(w for _, w in stems[i:i + n])))
                i += n
                break
        else:
            stem, word = stems[i]
            out.append((vocab.words.get(stem, stem), word))
            i += 1
    return out


def term_list(text: str, vocab: Vocabulary | None = None) -> list[str]:
    """Just the terms of `text`, for indexing."""
    return [term for term, _ in terms(text, vocab)]
