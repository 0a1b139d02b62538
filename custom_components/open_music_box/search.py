"""Search of one box's catalog (Assist's "play X on the box"): case- and accent-insensitive.

The catalog is normalized once into an index (rebuilt on the first search after the catalog
changes), so a search is a few substring tests per item, in the event loop, without I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
import heapq
import re
import unicodedata

from homeassistant.components.media_player import BrowseMedia, MediaClass
from homeassistant.core import callback

from .browse import playlist_item, track_item
from .catalog import Catalog, CatalogChange, ChangeKind
from .const import PLAYLIST_PREFIX, TRACK_PREFIX

MAX_RESULTS = 25  # per kind; Assist plays the first one, the media browser lists them

# Classes a search can be narrowed to (media_filter_classes), by what they select here.
PLAYLIST_CLASSES = frozenset({MediaClass.PLAYLIST, MediaClass.ALBUM, MediaClass.DIRECTORY})
TRACK_CLASSES = frozenset({MediaClass.TRACK, MediaClass.MUSIC})
ARTIST_CLASSES = frozenset({MediaClass.ARTIST})  # tracks, matched on their artist only

_NOT_WORD = re.compile(r"[\W_]+")
# Unicode's combining-mark blocks: what NFKD splits off letters ("è" → "e" + U+0300).
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Letters that Unicode does not decompose into a base letter and a mark.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "\u0131": "i"})

# Field numbers of a track (also the tie-break: a title match beats an artist match).
TITLE, ARTIST, ALBUM = 0, 1, 2


def normalize(text: str) -> str:
    """Fold case and accents; punctuation becomes one space ("Frère-Jacques" → "frere jacques")."""
    folded = text.casefold()
    if not folded.isascii():
        folded = _MARKS.sub("", unicodedata.normalize("NFKD", folded.translate(_LIGATURES)))
    return _NOT_WORD.sub(" ", folded).strip()


class Rank(IntEnum):
    """How well a field matches the query; lower is better."""

    EXACT = 0
    PREFIX = 1
    WORD = 2  # the query starts a word inside the field
    SUBSTRING = 3
    WORDS = 4  # every word of the query, in any field and any order


def rank_field(field: str, query: str) -> Rank | None:
    """Rank one normalized field against a normalized query (None: no match)."""
    if field == query:
        return Rank.EXACT
    if field.startswith(query):
        return Rank.PREFIX
    if f" {query}" in field:
        return Rank.WORD
    if query in field:
        return Rank.SUBSTRING
    return None


@dataclass(frozen=True, slots=True)
class _Entry:
    """One playlist or track, normalized."""

    media_id: str
    title: str
    fields: tuple[str, ...]  # normalized: (name,) for playlists, (title, artist, album) for tracks
    text: str  # the fields joined by newlines: one substring test finds candidates

    @classmethod
    def make(
        cls, media_id: str, title: str, fields: Iterable[str | None], memo: dict[str, str]
    ) -> _Entry:
        """Normalize the fields; `memo` spares the work for artists and albums seen before."""
        normalized = tuple(
            (memo.get(field) or memo.setdefault(field, normalize(field))) if field else ""
            for field in fields
        )
        return cls(media_id, title, normalized, "\n".join(normalized))

    def sort_key(self, query: str, words: list[str], only: int | None) -> tuple[int, ...] | None:
        """Return (rank, field, length) of the best match, or None when nothing matches."""
        fields = self.fields if only is None else (self.fields[only],)
        text = self.text if only is None else fields[0]
        if query in text:
            best: tuple[int, ...] | None = None
            for number, field in enumerate(fields):
                rank = rank_field(field, query)
                if rank is not None and (best is None or (rank, number) < best[:2]):
                    best = (rank, number, len(field))
            return best
        if len(words) > 1 and all(word in text for word in words):
            return (Rank.WORDS, 0, len(text))
        return None


class CatalogSearch:
    """A normalized index of a catalog's playlists and tracks, kept up to date with it."""

    def __init__(self, catalog: Catalog) -> None:
        """Initialize the catalog search."""
        self._catalog = catalog
        self._playlists: list[_Entry] | None = None  # None: rebuild on the next search
        self._tracks: list[_Entry] | None = None
        self._track_ids: dict[str, _Entry] = {}

    @callback
    def async_start(self) -> Callable[[], None]:
        """Follow the catalog; return the function that stops following it."""
        return self._catalog.async_add_change_listener(self._changed)

    @callback
    def _changed(self, change: CatalogChange) -> None:
        if change.kind is ChangeKind.LIBRARY:  # a rescan: tracks and playlists may all differ
            self._tracks = self._playlists = None
        elif change.kind is ChangeKind.PLAYLISTS:  # a user playlist was created/renamed/deleted
            self._playlists = None
        # ChangeKind.PLAYLIST only moves tracks between playlists: names and tags are unchanged.

    def _playlist_index(self) -> list[_Entry]:
        if self._playlists is None:
            memo: dict[str, str] = {}
            self._playlists = [
                _Entry.make(f"{PLAYLIST_PREFIX}{p.id}", p.name, (p.name,), memo)
                for p in self._catalog.playlists()
            ]
        return self._playlists

    def _track_index(self) -> list[_Entry]:
        if self._tracks is None:
            memo: dict[str, str] = {}
            self._tracks = [
                _Entry.make(f"{TRACK_PREFIX}{t.id}", t.title, (t.title, t.artist, t.album), memo)
                for t in self._catalog.scan.tracks.values()
            ]
            self._track_ids = {entry.media_id: entry for entry in self._tracks}
        return self._tracks

    def search(
        self,
        query: str,
        classes: Iterable[str] | None = None,
        within: str | None = None,
        limit: int = MAX_RESULTS,
    ) -> list[BrowseMedia]:
        """Return matching playlists, then tracks, each best match first.

        `classes` narrows the kinds (media_filter_classes); `within` (a playlist media id)
        narrows the search to that playlist's tracks.
        """
        wanted = set(classes or ())
        normalized = normalize(query)
        if not normalized:
            return []
        words = normalized.split()
        results: list[BrowseMedia] = []
        if within is None and (not wanted or wanted & PLAYLIST_CLASSES):
            found = _best(self._playlist_index(), normalized, words, None, limit)
            results.extend(playlist_item(entry.media_id, entry.title) for entry in found)
        by_tracks = not wanted or bool(wanted & TRACK_CLASSES)
        if by_tracks or wanted & ARTIST_CLASSES:
            tracks = self._tracks_within(within)
            only = None if by_tracks else ARTIST
            found = _best(tracks, normalized, words, only, limit)
            results.extend(track_item(entry.media_id, entry.title) for entry in found)
        return results

    def _tracks_within(self, within: str | None) -> list[_Entry]:
        every = self._track_index()
        if within is None:
            return every
        playlist = None
        if within.startswith(PLAYLIST_PREFIX):
            playlist = self._catalog.playlist(within.removeprefix(PLAYLIST_PREFIX))
        if playlist is None:
            return []
        entries = (self._track_ids.get(f"{TRACK_PREFIX}{tid}") for tid in playlist.track_ids)
        return list(dict.fromkeys(entry for entry in entries if entry is not None))


def _best(
    entries: list[_Entry], query: str, words: list[str], only: int | None, limit: int
) -> list[_Entry]:
    scored = (
        (key, entry.fields[0], entry.media_id, entry)
        for entry in entries
        if (key := entry.sort_key(query, words, only)) is not None
    )
    return [item[-1] for item in heapq.nsmallest(limit, scored, key=lambda item: item[:3])]
