"""Scan the library folder into folder and m3u playlists (blocking: run in the executor)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
import logging
import os
from pathlib import Path, PurePath
import re
import stat
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from ..const import AUDIO_EXTENSIONS, PLAYLIST_EXTENSIONS
from ..models import LibraryScan, Playlist, PlaylistKind, SkippedEntry, Track
from .ids import folder_playlist_id, is_under, m3u_playlist_id, natural_key, track_id, track_key
from .m3u import M3UEntry, parse_m3u
from .metadata import FileMeta, MetadataCache, open_regular, read_metadata

_LOGGER = logging.getLogger(__name__)

# SkippedEntry.reason values
REASON_MISSING: Final = "missing"
REASON_OUTSIDE_ALLOWED: Final = "outside_allowed"
REASON_NOT_AUDIO: Final = "not_audio"
REASON_UNREADABLE: Final = "unreadable"
REASON_CORRUPT: Final = "corrupt"
REASON_UNSUPPORTED: Final = "unsupported"  # an m3u entry with a scheme other than http(s)/file

_URL_PREFIXES: Final = ("http://", "https://")
_SCHEME_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class LibraryMissingError(Exception):
    """The library folder does not exist, is not a folder, or cannot be listed."""


@dataclass(slots=True)
class _Folder:
    rel: str  # POSIX path relative to the root ("" for the root)
    real: str
    audio: list[os.DirEntry[str]]


@dataclass(slots=True)
class _M3UFile:
    rel: str
    path: str


def scan_library(
    root: Path,
    is_allowed: Callable[[str], bool],
    cache: MetadataCache | None = None,
) -> LibraryScan:
    """Scan the library folder (blocking).

    Every folder (the root included) that directly holds audio files is a folder playlist and
    every .m3u/.m3u8 file an m3u playlist. Files outside the root are only used when
    ``is_allowed(real_path)`` says so. Raise LibraryMissingError when the root is not a
    listable folder.
    """
    return _Scanner(root, is_allowed, cache).run()


class _Scanner:
    """State of one scan: tracks found so far (one per real path) and skipped entries."""

    def __init__(
        self, root: Path, is_allowed: Callable[[str], bool], cache: MetadataCache | None
    ) -> None:
        self.root = os.path.abspath(root)
        self.real_root = os.path.realpath(root)
        self.root_name = Path(self.real_root).name or self.real_root
        self.is_allowed = is_allowed
        self.cache = cache
        self.tracks: dict[str, Track] = {}
        # real path -> (track, its metadata) or the reason it was skipped
        self.files: dict[str, tuple[Track, FileMeta] | str] = {}
        self.skipped: list[SkippedEntry] = []
        self.seen: set[str] = set()
        self.extinf_titled: set[str] = set()

    def run(self) -> LibraryScan:
        if not os.path.isdir(self.real_root):
            raise LibraryMissingError(self.root)
        folders, m3us = self._walk()
        playlists: dict[str, Playlist] = {}
        folder_names = _unique_names(
            {folder.rel: PurePath(folder.rel).name or self.root_name for folder in folders},
            lambda rel: rel.replace("/", " / ") if rel else self.root_name,
        )
        for folder in folders:
            playlist = self._folder_playlist(folder, folder_names[folder.rel])
            if playlist.track_ids:  # a folder whose every file was skipped is no playlist
                playlists[playlist.id] = playlist
        m3u_names = _unique_names(
            {m3u.rel: PurePath(m3u.rel).stem for m3u in m3us},
            lambda rel: str(PurePath(rel).with_suffix("")).replace("/", " / "),
        )
        for m3u in m3us:
            m3u_playlist = self._m3u_playlist(m3u, m3u_names[m3u.rel])
            if m3u_playlist is not None:
                playlists[m3u_playlist.id] = m3u_playlist
        if self.cache is not None:
            self.cache.prune(self.seen)
        return LibraryScan(tracks=self.tracks, playlists=playlists, skipped=tuple(self.skipped))

    # Walking ------------------------------------------------------------------------------------

    def _walk(self) -> tuple[list[_Folder], list[_M3UFile]]:
        """List non-hidden folders depth-first (pre-order, natural order); cut symlink loops."""
        folders: list[_Folder] = []
        m3us: list[_M3UFile] = []
        visited = {self.real_root}
        stack = [("", self.root, self.real_root)]
        while stack:
            rel, path, real = stack.pop()
            try:
                with os.scandir(path) as scan:
                    entries = [entry for entry in scan if not entry.name.startswith(".")]
            except OSError as err:
                if not rel:
                    raise LibraryMissingError(self.root) from err
                self._skip(path, REASON_UNREADABLE, None)
                continue
            entries.sort(key=lambda entry: (natural_key(entry.name), entry.name))
            audio: list[os.DirEntry[str]] = []
            subdirs: list[tuple[str, str, str]] = []
            for entry in entries:
                entry_rel = f"{rel}/{entry.name}" if rel else entry.name
                suffix = os.path.splitext(entry.name)[1].lower()
                if _is_dir(entry):
                    sub_real = self._entry_real(entry, real, None)
                    if sub_real is None or sub_real in visited:
                        continue
                    visited.add(sub_real)
                    subdirs.append((entry_rel, entry.path, sub_real))
                elif suffix in AUDIO_EXTENSIONS:
                    audio.append(entry)
                elif suffix in PLAYLIST_EXTENSIONS:
                    m3us.append(_M3UFile(entry_rel, entry.path))
            if audio:
                folders.append(_Folder(rel, real, audio))
            stack.extend(reversed(subdirs))
        return folders, m3us

    def _entry_real(
        self, entry: os.DirEntry[str], dir_real: str, playlist: str | None
    ) -> str | None:
        """Real path of a directory entry; None (skipped) when a symlink leads out of bounds."""
        if not entry.is_symlink():
            return os.path.join(dir_real, entry.name)
        real = os.path.realpath(entry.path)
        if not self._allowed(real):
            self._skip(entry.path, REASON_OUTSIDE_ALLOWED, playlist)
            return None
        return real

    def _allowed(self, real: str) -> bool:
        return is_under(real, self.real_root) or self.is_allowed(real)

    # Playlists ----------------------------------------------------------------------------------

    def _folder_playlist(self, folder: _Folder, name: str) -> Playlist:
        items: list[tuple[tuple[Any, ...], str]] = []
        for entry in folder.audio:
            real = self._entry_real(entry, folder.real, name)
            if real is None:
                continue
            found = self._file(real, entry.path)
            if isinstance(found, str):
                self._skip(entry.path, found, name)
                continue
            track, meta = found
            items.append((_order_key(meta, entry.name), track.id))
        items.sort(key=lambda item: item[0])
        return Playlist(
            id=folder_playlist_id(folder.rel),
            name=name,
            kind=PlaylistKind.FOLDER,
            track_ids=_dedupe(tid for _key, tid in items),
        )

    def _m3u_playlist(self, m3u: _M3UFile, name: str) -> Playlist | None:
        try:
            with open_regular(m3u.path) as file:
                data = file.read()
        except OSError:
            self._skip(m3u.path, REASON_UNREADABLE, name)
            return None
        base = os.path.dirname(m3u.path)
        track_ids: list[str] = []
        for entry in parse_m3u(data, utf8=m3u.rel.lower().endswith(".m3u8")):
            found = self._m3u_entry(entry, base, name)
            if found is not None:
                track_ids.append(found)
        return Playlist(
            id=m3u_playlist_id(m3u.rel),
            name=name,
            kind=PlaylistKind.M3U,
            track_ids=tuple(track_ids),  # an m3u may repeat an entry on purpose
        )

    def _m3u_entry(self, entry: M3UEntry, base: str, playlist: str) -> str | None:
        """Return the track id of one m3u entry, or None when it is skipped."""
        location = entry.location
        if location.lower().startswith(_URL_PREFIXES):
            return self._url_track(entry)
        if location.lower().startswith("file:"):  # file:///a/b, file://localhost/a/b, file:/a/b
            location = unquote(urlsplit(location).path)
        elif _SCHEME_RE.match(location):
            self._skip(location, REASON_UNSUPPORTED, playlist)
            return None
        path = os.path.join(base, location)
        if "\\" in location and not os.path.lexists(path):
            # Playlists written on Windows use backslashes.
            path = os.path.join(base, location.replace("\\", "/"))
        real = os.path.realpath(path)
        # Bounds first: whether a forbidden file exists is none of the playlist's business.
        reason: str | None = None
        if not self._allowed(real):
            reason = REASON_OUTSIDE_ALLOWED
        elif not os.path.exists(real):
            reason = REASON_MISSING
        elif os.path.isdir(real) or not _is_audio_name(path, real):
            reason = REASON_NOT_AUDIO
        if reason is not None:
            self._skip(real, reason, playlist)
            return None
        found = self._file(real, path, entry)
        if isinstance(found, str):
            self._skip(real, found, playlist)
            return None
        return found[0].id

    def _url_track(self, entry: M3UEntry) -> str:
        scheme, separator, rest = entry.location.partition("://")
        url = scheme.lower() + separator + rest  # Track.is_url expects a lower-case scheme
        tid = track_id(url)
        if tid not in self.tracks:
            self.tracks[tid] = Track(
                id=tid, path=url, title=entry.title or url, duration=entry.duration
            )
        return tid

    # Files --------------------------------------------------------------------------------------

    def _file(
        self, real: str, path: str, extinf: M3UEntry | None = None
    ) -> tuple[Track, FileMeta] | str:
        """Return the track of a real file path (read once per scan) or why it is skipped.

        The file is read through the path it was found by: mutagen weighs the extension, and
        the name the user gave (a symlink's) is the one that made it an audio file.
        """
        found = self.files.get(real)
        if found is None:
            found = self._read_file(real, path)
            self.files[real] = found
            if not isinstance(found, str):
                self.tracks[found[0].id] = found[0]
        if extinf is not None and not isinstance(found, str):
            found = self._apply_extinf(real, found, extinf)
        return found

    def _apply_extinf(
        self, real: str, found: tuple[Track, FileMeta], extinf: M3UEntry
    ) -> tuple[Track, FileMeta]:
        """#EXTINF fills in what the tags lack (title, duration); the first m3u to say wins.

        One file is one track in every playlist, so this also names it in its folder playlist.
        """
        track, meta = found
        title = track.title
        if meta.title is None and extinf.title and real not in self.extinf_titled:
            self.extinf_titled.add(real)
            title = extinf.title
        duration = track.duration if track.duration is not None else extinf.duration
        if (title, duration) == (track.title, track.duration):
            return found
        track = replace(track, title=title, duration=duration)
        self.tracks[track.id] = track
        self.files[real] = (track, meta)
        return track, meta

    def _read_file(self, real: str, path: str) -> tuple[Track, FileMeta] | str:
        try:
            info = os.stat(path)
        except OSError:
            return REASON_UNREADABLE  # e.g. a broken symlink
        if not stat.S_ISREG(info.st_mode):
            return REASON_UNREADABLE  # FIFO, device...
        self.seen.add(real)
        meta = None
        if self.cache is not None:
            meta = self.cache.get(real, info.st_mtime_ns, info.st_size)
        if meta is None:
            try:
                meta = read_metadata(path)
            except OSError:
                return REASON_UNREADABLE  # not cached: permissions may change without mtime
            if self.cache is not None:
                self.cache.put(real, info.st_mtime_ns, info.st_size, meta)
        if meta.corrupt:
            return REASON_CORRUPT
        track = Track(
            id=track_id(track_key(real, self.real_root)),
            path=real,
            title=meta.title or Path(real).stem,
            artist=meta.artist,
            album=meta.album,
            track_number=meta.track_number,
            duration=meta.duration,
            has_cover=meta.has_cover,
        )
        return track, meta

    def _skip(self, path: str, reason: str, playlist: str | None) -> None:
        _LOGGER.warning("Library: skipped %s (%s) in playlist %s", path, reason, playlist)
        self.skipped.append(SkippedEntry(path=path, reason=reason, playlist=playlist))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_audio_name(*paths: str) -> bool:
    return any(os.path.splitext(path)[1].lower() in AUDIO_EXTENSIONS for path in paths)


def _order_key(meta: FileMeta, name: str) -> tuple[Any, ...]:
    """Order in a folder: numbered tracks by (disc, number), then the rest by natural name.

    A missing disc number counts as disc 1; ties fall back to the natural file name.
    """
    if meta.track_number is None:
        return (1, 0, 0, natural_key(name), name)
    disc = meta.disc_number if meta.disc_number is not None else 1
    return (0, disc, meta.track_number, natural_key(name), name)


def _unique_names(names: dict[str, str], long_name: Callable[[str], str]) -> dict[str, str]:
    """Keep the short name unless two items share it; then use the long name for those."""
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    return {key: name if counts[name] == 1 else long_name(key) for key, name in names.items()}


def _dedupe(track_ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(track_ids))
