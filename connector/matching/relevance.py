"""Content fit between learning questions and learning places: Okapi BM25 over stemmed words.

Each text is cut into words (letters only, case-folded) and each word is reduced to its stem
by the Snowball stemmer of the text's language (snowballstemmer: dutch, french, english), so
"begeleiden", "begeleid" and "begeleiding" meet. Documents are the learning places (name,
department, description, keywords); a query is a learning question (title, description,
desired result, keywords). Scoring is Lucene's BM25 (k1 = 1.2, b = 0.75, idf = ln(1 + (N - n +
0.5) / (n + 0.5)), term weight tf / (tf + k1 (1 - b + b dl / avgdl)), each query word once),
whose idf never goes negative, so a word every place shares adds nothing rather than
taking away. The tests check the scores against the bm25s package's "lucene" method.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import cache, lru_cache

import numpy as np
import snowballstemmer

K1, B = 1.2, 0.75
STEMMERS = {"nl": "dutch", "fr": "french", "en": "english"}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@cache
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(STEMMERS.get(language, "dutch"))


@lru_cache(maxsize=200_000)
def stem(word: str, language: str) -> str:
    """One word's stem; remembered, since a cohort repeats its words (the stemmer is pure Python)."""
    return str(_stemmer(language).stemWord(word))


def tokens(text: str, language: str) -> list[str]:
    """The stems of the words of `text` (words of one letter are left out: articles, 'à')."""
    return [stem(w, language) for w in _WORD.findall(text.casefold()) if len(w) > 1]


@lru_cache(maxsize=50_000)
def keyword_stems(word: str) -> frozenset[str]:
    """A keyword as its stems in the three languages: a keyword matches another when any stem does."""
    folded = word.casefold().strip()
    return frozenset(stem(folded, language) for language in STEMMERS) | {folded}


class BM25:
    """An index of documents (lists of stems); `scores(query)` -> one score per document."""

    def __init__(self, documents: Sequence[list[str]]) -> None:
        self.frequencies = [Counter(d) for d in documents]
        self.lengths = [len(d) for d in documents]
        self.average = (sum(self.lengths) / len(documents)) if documents else 0.0
        containing: Counter[str] = Counter()
        for frequency in self.frequencies:
            containing.update(frequency.keys())
        count = len(documents)
        self.idf = {term: math.log(1 + (count - n + 0.5) / (n + 0.5)) for term, n in containing.items()}
        norms = [K1 * (1 - B + B * length / self.average) if self.average else K1 for length in self.lengths]
        # term -> (document indices, each one's term weight): a query touches only the documents
        # holding its words, and adds each term's weights to them in one array operation
        gathered: dict[str, tuple[list[int], list[float]]] = {}
        for index, frequency in enumerate(self.frequencies):
            for term, times in frequency.items():
                indices, weights = gathered.setdefault(term, ([], []))
                indices.append(index)
                weights.append(self.idf[term] * times / (times + norms[index]))
        self.postings = {term: (np.array(i, dtype=np.int64), np.array(w)) for term, (i, w) in gathered.items()}
        self.size = len(documents)

    def scores_array(self, query: list[str]) -> np.ndarray:
        """One score per document, as an array (each query word counted once)."""
        result = np.zeros(self.size)
        for term in set(query):
            posting = self.postings.get(term)
            if posting is not None:
                result[posting[0]] += posting[1]  # a document appears once per term: no repeated index
        return result

    def scores(self, query: list[str]) -> list[float]:
        return [float(v) for v in self.scores_array(query)]
