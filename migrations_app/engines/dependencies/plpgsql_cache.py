"""The parse cache of routine bodies (parsing is the costly part of reading them)."""

from __future__ import annotations

import threading
from collections import OrderedDict


class ParseCache:
    """Parsed bodies keyed by everything the parse depends on (language, body text, argument
    list, result type, routine kind): a replaced function has another key, so an entry can
    never be stale. Bounded by the total length of the cached bodies, least recently used
    first out; thread-safe."""

    def __init__(self, budget_chars: int):
        self.budget = budget_chars
        self.used = 0
        self.entries: OrderedDict[tuple, tuple[Fragment, ...] | str] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple):
        with self.lock:
            value = self.entries.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
                self.entries.move_to_end(key)
            return value

    def put(self, key: tuple, value) -> None:
        size = len(key[1])
        if size > self.budget:
            return
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = value
            self.used += size
            while self.used > self.budget:
                old_key, _ = self.entries.popitem(last=False)
                self.used -= len(old_key[1])

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.used = self.hits = self.misses = 0
