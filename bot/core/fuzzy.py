"""Finding a package or grid by what a person typed: typo-tolerant, ranked, fast.

One matcher serves autocomplete, "did you mean" in slash commands and the CLI. `FuzzyIndex`
holds slug, title and popularity of every stored package (or grid) in memory and answers in
about a millisecond for 6,000 entries, in two stages:

1. candidates: entries whose name contains what was typed (separators ignored), entries
   holding a word close to a typed word ("flatblcoks" ≈ "flatblocks"), or a word starting
   with the last, half-typed one, and the names closest as a whole;
2. ranking by what was typed, in tiers (`Tier`): the exact slug, then names that start with
   the text, then names that contain it, then names that only resemble it; within a tier,
   rapidfuzz's `WRatio` (the best of whole, partial and token-order comparisons) against slug
   and title, then popularity. A name holding what was typed is never outranked by a
   look-alike, however popular ("orbit-ta" offers django-orbit-tasks before django-orbit-tags).

The "django" that starts most names is left out of both sides: it says nothing about which
package was meant. rapidfuzz is imported at the first fuzzy comparison, not with the module:
commands that never search by name do not load it.
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from itertools import accumulate, islice
from typing import TypeVar

from bot.core.slugs import MAX_SLUG_LENGTH

T = TypeVar("T")

#: Similarity (0-100) under which a name is not offered at all.
MATCH_CUTOFF = 60.0
#: Similarity under which a name is not offered as "did you mean".
SUGGESTION_CUTOFF = 70.0
#: Similarity for a typed word to count as a typo of a stored word.
WORD_CUTOFF = 75.0
#: Entries ranked in full per query; the candidates beyond are the least related ones.
RANKED_CANDIDATES = 120
#: Closest whole names added to the candidates.
WHOLE_NAME_CANDIDATES = 40
#: Queries shorter than this are matched by substring only, most popular first.
SHORT_QUERY = 3
#: A last word this long is also read as the start of a longer one ("flatb" → flatblocks).
PREFIX_MIN = 2
#: The most of a query that is read: a slug's own limit, ample for any name a person types.
MAX_QUERY = MAX_SLUG_LENGTH

_SEPARATORS = re.compile(r"[\s\-_.:/]+")
_NOISE = "django"


@dataclass(frozen=True, slots=True)
class Entry:
    """A package or grid: its slug, title and popularity (stars, or grid size)."""

    slug: str
    title: str
    weight: int = 0


def words(text: str) -> list[str]:
    """Lower-case words of a name, without a leading "django": "Django-REST x" → rest, x."""
    found = [word for word in _SEPARATORS.split(text.lower()) if word]
    return found[1:] if len(found) > 1 and found[0] == _NOISE else found


@lru_cache(maxsize=1 << 16)  # every stored name twice, so a rebuild reuses them
def _key(text: str) -> str:
    return " ".join(words(text))


def query_text(text: str) -> str:
    """What a person typed, cut to `MAX_QUERY` characters: ranking costs grow with the text
    (6,000 characters blocked the event loop for seconds)."""
    return text[:MAX_QUERY]


def _query_key(text: str) -> str:
    """`_key` of typed text, never cached: a cache of what people type grows with them."""
    return " ".join(words(text))


@lru_cache(maxsize=1 << 16)
def _compact(text: str) -> str:
    return "".join(words(text))


class Tier(IntEnum):
    """How a name relates to what was typed, best first (separators and case ignored)."""

    EXACT = 0  # the slug itself
    PREFIX = 1  # the slug or title starts with the text
    SUBSTRING = 2  # the slug or title contains it
    FUZZY = 3  # it only resembles the text


def tier(typed: str, slug: str, title: str) -> Tier:
    """Where a name with `slug` and `title` ranks for `typed` (already stripped, lower-case)."""
    if slug.lower() == typed:
        return Tier.EXACT
    query = "".join(words(typed))  # not `_compact`: typed text is never cached
    if not query:
        return Tier.FUZZY
    names = (_compact(slug), _compact(title))
    if any(name.startswith(query) for name in names):
        return Tier.PREFIX
    if any(query in name for name in names):
        return Tier.SUBSTRING
    return Tier.FUZZY


class FuzzyIndex:
    """Slugs and titles in memory, ranked by similarity to a query; updated entry by entry."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._entries: dict[str, Entry] = {}
        self._build = True
        self._ordered: list[Entry] = []
        self._positions: dict[str, int] = {}
        self.replace(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def replace(self, entries: Iterable[Entry]) -> None:
        """Hold exactly `entries` (the whole stored catalog)."""
        self._entries = {entry.slug: entry for entry in entries}
        self._build = True

    def upsert(self, entries: Iterable[Entry]) -> None:
        """Add or update entries (records a refresh just stored), keyed by slug.

        A new popularity is taken in place; a new name rebuilds the tables at the next query.
        """
        for entry in entries:
            known = self._entries.get(entry.slug)
            if known == entry:
                continue
            self._entries[entry.slug] = entry
            position = self._positions.get(entry.slug)
            if known is not None and known.title == entry.title and position is not None:
                self._ordered[position] = entry
            else:
                self._build = True

    def remove(self, slugs: Iterable[str]) -> None:
        """Forget these entries (packages gone from Django Packages)."""
        for slug in slugs:
            if self._entries.pop(slug, None) is not None:
                self._build = True

    def prepare(self) -> None:
        """(Re)build the lookup tables after a change; queries between changes share them."""
        if not self._build:
            return
        self._ordered = sorted(self._entries.values(), key=lambda e: (-e.weight, e.slug))
        self._positions = {entry.slug: position for position, entry in enumerate(self._ordered)}
        self._slug_keys = [_key(e.slug) for e in self._ordered]
        self._title_keys = [_key(e.title) for e in self._ordered]
        # Every entry's slug and title without separators, one line each, most popular first:
        # one C-speed `find` pass finds the substring matches.
        lines = [f"{_compact(e.slug)} {_compact(e.title)}\n" for e in self._ordered]
        self._line_starts = list(accumulate((len(line) for line in lines), initial=0))
        self._text = "".join(lines)
        holders: defaultdict[str, set[int]] = defaultdict(set)
        for position, (slug, title) in enumerate(
            zip(self._slug_keys, self._title_keys, strict=True)
        ):
            for word in {*slug.split(), *title.split()}:
                holders[word].add(position)
        self._holders = dict(holders)
        self._vocabulary = sorted(self._holders)
        self._build = False

    def search(self, text: str, limit: int, *, cutoff: float = MATCH_CUTOFF) -> list[Entry]:
        """Up to `limit` entries best matching `text`; an empty text gives the most popular."""
        self.prepare()
        text = query_text(text)
        query = _query_key(text)
        if not query:
            return self._ordered[:limit] if not text.strip() else []
        typed, ordered = text.strip().lower(), self._ordered
        if len(query) < SHORT_QUERY:  # too short to be a typo of anything: popularity decides
            found = self._containing(query.replace(" ", ""), RANKED_CANDIDATES)
            tiers = {p: tier(typed, ordered[p].slug, ordered[p].title) for p in found}
            ranked = sorted(found, key=lambda p: (tiers[p], p))
            return [ordered[position] for position in ranked[:limit]]
        from rapidfuzz import fuzz, process

        candidates = self._candidates(query)
        best: dict[int, float] = {}
        for keys in (self._slug_keys, self._title_keys):
            choices = {position: keys[position] for position in candidates}
            for _, score, position in process.extract(
                query, choices, scorer=fuzz.WRatio, limit=None
            ):
                best[position] = max(score, best.get(position, 0.0))
        tiers = {p: tier(typed, ordered[p].slug, ordered[p].title) for p in best}
        kept = [p for p in best if tiers[p] < Tier.FUZZY or best[p] >= cutoff]
        ranked = sorted(kept, key=lambda p: (tiers[p], -round(best[p]), -ordered[p].weight, p))
        return [ordered[position] for position in ranked[:limit]]

    def _containing(self, compact: str, limit: int) -> list[int]:
        """Positions of the entries whose name contains `compact`, most popular first."""
        found: list[int] = []
        start = self._text.find(compact)
        while start != -1 and len(found) < limit:
            position = bisect_right(self._line_starts, start) - 1
            found.append(position)
            start = self._text.find(compact, self._line_starts[position + 1])
        return found

    def _candidates(self, query: str) -> list[int]:
        """Positions worth ranking, at most `RANKED_CANDIDATES`: the entries matching most of
        the typed words first, then the most popular."""
        from rapidfuzz import fuzz, process

        hits: Counter[int] = Counter(self._containing(query.replace(" ", ""), RANKED_CANDIDATES))
        hits.update(hits)  # the whole text found in a name counts double
        typed = query.split()
        for index, word in enumerate(typed):
            related: set[int] = set()
            if len(word) >= SHORT_QUERY:
                for close, _, _ in process.extract(
                    word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=WORD_CUTOFF, limit=20
                ):
                    related |= self._holders[close]
            if index == len(typed) - 1 and len(word) >= PREFIX_MIN:  # perhaps half-typed
                first = bisect_left(self._vocabulary, word)
                for known in islice(self._vocabulary, first, None):
                    if not known.startswith(word):
                        break
                    related |= self._holders[known]
            hits.update(related)
        for _, _, position in process.extract(
            query, self._slug_keys, scorer=fuzz.QRatio, limit=WHOLE_NAME_CANDIDATES
        ):
            hits[position] += 1
        return heapq.nsmallest(RANKED_CANDIDATES, hits, key=lambda p: (-hits[p], p))


def rank(items: Sequence[T], text: str, names: Callable[[T], tuple[str, str]]) -> list[T]:
    """A short list (a channel's subscriptions, say) best match first, by the same tiers and
    similarity as `FuzzyIndex.search`; `names` gives an item's slug and title."""
    text = query_text(text)
    query, typed = _query_key(text), text.strip().lower()
    if not query:
        return list(items)
    from rapidfuzz import fuzz

    def order(item: T) -> tuple[Tier, int]:
        slug, title = names(item)
        score = max(fuzz.WRatio(query, _key(slug)), fuzz.WRatio(query, _key(title)))
        return tier(typed, slug, title), -round(score)

    return sorted(items, key=order)
