"""A BM25 retriever over fixed 10-line chunks: the classic repository-retrieval baseline
(RepoCoder-style sparse retrieval) the context engine is compared against."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CHUNK_LINES = 10
K1 = 1.2
B = 0.75


def tokens(text: str) -> list[str]:
    return [t.lower() for t in TOKEN.findall(text)]


@dataclass(frozen=True)
class Chunk:
    path: str
    start_line: int
    text: str


class BM25Index:
    def __init__(self) -> None:
        self.chunks: list[Chunk] = []
        self.lengths: list[int] = []
        self.postings: dict[str, list[tuple[int, int]]] = {}
        self.total_length = 0

    def add_file(self, path: str, text: str) -> None:
        lines = text.split("\n")
        for start in range(0, len(lines), CHUNK_LINES):
            body = "\n".join(lines[start : start + CHUNK_LINES])
            if not body.strip():
                continue
            counts = Counter(tokens(body))
            chunk_id = len(self.chunks)
            self.chunks.append(Chunk(path, start, body))
            length = sum(counts.values())
            self.lengths.append(length)
            self.total_length += length
            for term, tf in counts.items():
                self.postings.setdefault(term, []).append((chunk_id, tf))

    def search(self, query: Iterable[str], exclude_path: str, limit: int = 60) -> list[Chunk]:
        n = len(self.chunks)
        if not n:
            return []
        average = self.total_length / n
        scores: Counter[int] = Counter()
        for term in set(query):
            posting = self.postings.get(term)
            if not posting:
                continue
            idf = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            for chunk_id, tf in posting:
                norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * self.lengths[chunk_id] / average))
                scores[chunk_id] += idf * norm
        ranked = [c for c, _s in scores.most_common(limit * 3)]
        return [self.chunks[c] for c in ranked if self.chunks[c].path != exclude_path][:limit]
