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

VOCABULARY_PATH = Path(__file__).with_name("vocabulary.yaml")
_RAW_TOKEN = re.compile(r"[A-Za-z0-9_]+(?:[.\-/][A-Za-z0-9_]+)*")
_SEPARATORS = re.compile(r"[._\-/]+")
# snmpMaster -> snmp|Master, MTUMismatch -> MTU|Mismatch, but VLANs stays whole.
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]{2,})")
_OWN_STOPWORDS = {
    "about", "after", "again", "all", "also", "any", "back", "been", "before", "can", "come", "comes", "could",
    "did", "do", "does", "each", "every", "from", "get", "got", "had", "has", "have", "how", "its", "just",
    "like", "more", "new", "now", "once", "only", "other", "our", "over", "please", "same", "say", "says", "see",
    "seen", "seem", "seems", "since", "so", "some", "still", "than", "them", "those", "too", "us", "very",
    "was", "we", "were", "what", "when", "where", "which", "while", "who", "why", "would", "you", "your"}
MAX_DIGITS = 4  # longer numbers are counters, addresses and timestamps, not meaning


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    # bm25s's English list, loaded with the first text read rather than in every process.
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | _OWN_STOPWORDS


@lru_cache(maxsize=1)
def _stemmer():
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Synonyms folded onto one term, and phrases read as one term (longest first, by first stem)."""

    words: dict[str, str] = field(default_factory=dict)
    phrases: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = field(default_factory=dict)


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
    by_first: dict[str, list] = {}
    for stems, canonical in sorted(phrases, key=lambda item: -len(item[0])):
        by_first.setdefault(stems[0], []).append((stems, canonical))
    return Vocabulary(words, {first: tuple(items) for first, items in by_first.items()})


NO_VOCABULARY = Vocabulary()


@lru_cache(maxsize=1)
def _not_a_fault_phrases() -> tuple[re.Pattern, ...]:
    data = yaml.safe_load(VOCABULARY_PATH.read_text())
    return tuple(re.compile(pattern, re.I) for pattern in data.get("not_a_fault") or ())


@lru_cache(maxsize=4096)
def not_a_fault(text: str) -> float:
    """How much a case reads as a question, an order, physical damage or a solved problem: 0, 0.5 or 1."""
    hits = sum(1 for pattern in _not_a_fault_phrases() if pattern.search(text))
    return min(hits, 2) / 2


def _word_stems(text: str) -> list[tuple[str, str]]:
    """(stem, surface word) for each word, identifiers expanded into their parts."""
    out: list[tuple[str, str]] = []
    stop = _stopwords()
    for match in _RAW_TOKEN.finditer(text):
        raw = match.group()
        lowered = raw.lower()
        parts = [part for piece in _SEPARATORS.split(raw) for part in _CAMEL.split(piece) if part]
        compound = len(parts) > 1
        if compound and any(ch.isalpha() for ch in raw) and len(lowered) <= 64:
            out.append((lowered, raw))
        for part in parts if compound else [raw]:
            word = part.lower()
            if word in stop or len(word) < 2:
                continue
            if word.isdigit() and len(word) > MAX_DIGITS:
                continue
            out.append((_stem(word), part))
    return out


def terms(text: str, vocab: Vocabulary | None = None) -> list[tuple[str, str]]:
    """The ranking terms of `text` in order, each with the word it came from."""
    return list(_terms(text, vocabulary() if vocab is None else vocab))


@lru_cache(maxsize=20_000)  # case texts and log lines recur on every request for the same case
def _terms(text: str, vocab: Vocabulary) -> tuple[tuple[str, str], ...]:
    stems = _word_stems(text)
    if not vocab.words and not vocab.phrases:
        return tuple(stems)
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(stems):
        for phrase, canonical in vocab.phrases.get(stems[i][0], ()):
            n = len(phrase)
            if tuple(s for s, _ in stems[i:i + n]) == phrase:
                out.append((canonical, " ".join(w for _, w in stems[i:i + n])))
                i += n
                break
        else:
            stem, word = stems[i]
            out.append((vocab.words.get(stem, stem), word))
            i += 1
    return tuple(out)


def document_terms(text: str, vocab: Vocabulary | None = None) -> list[str]:
    """The terms of a document being indexed (not cached: each is analysed once)."""
    return [term for term, _ in _terms.__wrapped__(text, vocabulary() if vocab is None else vocab)]


def term_list(text: str, vocab: Vocabulary | None = None) -> list[str]:
    """Just the terms of `text`."""
    return [term for term, _ in terms(text, vocab)]
