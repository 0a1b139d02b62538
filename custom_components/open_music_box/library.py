"""Scan the library folder into folder and m3u playlists; read tags and covers with mutagen.

Everything here blocks (disk I/O, mutagen): the integration runs it with
``hass.async_add_executor_job``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator
import contextlib
from dataclasses import dataclass, field, replace
import hashlib
import logging
import os
from pathlib import Path, PurePath
import re
import stat
from typing import IO, Any, Final
from urllib.parse import unquote, urlsplit

# mutagen 1.47's package root re-exports these implicitly, which mypy --strict refuses.
from mutagen._file import File as mutagen_file
from mutagen._util import MutagenError
from mutagen.asf import ASFTags
from mutagen.flac import Picture
from mutagen.id3 import ID3
from mutagen.mp4 import MP4Cover, MP4Tags

from .const import AUDIO_EXTENSIONS, PLAYLIST_EXTENSIONS
from .models import LibraryScan, Playlist, PlaylistKind, SkippedEntry, Track

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
_DIGITS_RE: Final = re.compile(r"(\d+)")
_NUMBER_RE: Final = re.compile(r"\s*(\d+)")
_UTF8_BOM: Final = b"\xef\xbb\xbf"

# ID3 picture type 3 is the front cover; other types (back, artist...) are a fallback.
_FRONT_COVER: Final = 3


class LibraryMissingError(Exception):
    """The library folder does not exist, is not a folder, or cannot be listed."""


# --- Stable ids ---------------------------------------------------------------------------------
# Derived from paths (never from scan order) so they survive rescans and restarts: tag links,
# resume positions and user playlists refer to them.


def track_id(key: str) -> str:
    """Return the id of a track from its key (see track_key) or its URL."""
    return "t" + hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def track_key(real_path: str, real_root: str) -> str:
    """Return the relative POSIX path of a file under the root, else its absolute real path."""
    if _is_under(real_path, real_root):
        return PurePath(os.path.relpath(real_path, real_root)).as_posix()
    return real_path


def folder_playlist_id(rel_dir: str) -> str:
    """Return the id of the folder playlist for a POSIX directory path relative to the root."""
    return "f" + hashlib.sha1(rel_dir.encode("utf-8", "surrogateescape")).hexdigest()[:12]


def m3u_playlist_id(rel_path: str) -> str:
    """Return the id of the m3u playlist for a POSIX file path relative to the root."""
    return "m" + hashlib.sha1(rel_path.encode("utf-8", "surrogateescape")).hexdigest()[:12]


def _is_under(real_path: str, real_root: str) -> bool:
    prefix = real_root if real_root.endswith(os.sep) else real_root + os.sep
    return real_path == real_root or real_path.startswith(prefix)


def natural_key(text: str) -> tuple[str | int, ...]:
    """Sort key that orders "2 x" before "10 x" (digits compare as numbers, case ignored)."""
    # re.split with a group alternates text/digits, so items at one index always share a type.
    parts = _DIGITS_RE.split(text.casefold())
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))


# --- Metadata -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileMeta:
    """What the scan keeps of one file's tags (cached between scans)."""

    title: str | None = None
    artist: str | None = None
    album: str | None = None
    track_number: int | None = None
    disc_number: int | None = None
    duration: float | None = None
    has_cover: bool = False
    corrupt: bool = False


@dataclass(slots=True)
class MetadataCache:
    """Tags of files already read, keyed by real path and checked against (mtime_ns, size).

    Keep one instance per library and hand it to every scan: a rescan of an unchanged library
    then only stats files. One scan at a time should use it (concurrent use is safe under the
    GIL but may cost extra reads).
    """

    _entries: dict[str, tuple[int, int, FileMeta]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    def get(self, path: str, mtime_ns: int, size: int) -> FileMeta | None:
        """Return the cached metadata if the file has not changed since it was read."""
        entry = self._entries.get(path)
        if entry is not None and entry[0] == mtime_ns and entry[1] == size:
            self.hits += 1
            return entry[2]
        self.misses += 1
        return None

    def put(self, path: str, mtime_ns: int, size: int, meta: FileMeta) -> None:
        """Remember the metadata of a file at its current (mtime_ns, size)."""
        self._entries[path] = (mtime_ns, size, meta)

    def prune(self, keep: set[str]) -> None:
        """Forget files that the last scan did not see (deleted or moved)."""
        for path in self._entries.keys() - keep:
            del self._entries[path]

    def __len__(self) -> int:
        return len(self._entries)


def _open_regular(path: str) -> IO[bytes]:
    """Open a regular file for reading; raise OSError for anything else (FIFO, device, dir).

    O_NONBLOCK keeps a FIFO named like a song from blocking the scan forever. The file object
    keeps the path as its name: mutagen guesses formats partly from the extension.
    """
    file = open(path, "rb", opener=_nonblocking_opener)  # noqa: SIM115 - returned to the caller
    try:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise OSError(f"not a regular file: {path}")
    except BaseException:
        file.close()
        raise
    return file


def _nonblocking_opener(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NONBLOCK)


def _load_audio(path: str) -> Any:
    """Return the mutagen file object, or None when mutagen does not know the format.

    Raises OSError when the file cannot be read and MutagenError (or another parsing error)
    when mutagen finds it corrupt.
    """
    with _open_regular(path) as fileobj:
        return mutagen_file(fileobj)


def read_metadata(path: str) -> FileMeta:
    """Read the tags of an audio file.

    Raises OSError when the file cannot be opened or read. A corrupt file gives
    ``FileMeta(corrupt=True)``; a format mutagen does not know gives an empty FileMeta.
    """
    try:
        audio = _load_audio(path)
        return FileMeta() if audio is None else _meta_from(audio)
    except MutagenError as err:
        # mutagen wraps I/O errors of the read itself: those are "unreadable", not "corrupt".
        cause = err.__cause__ if err.__cause__ is not None else (err.args[0] if err.args else None)
        if isinstance(cause, OSError):
            raise cause from err
        _LOGGER.debug("Corrupt audio file %s: %s", path, err)
        return FileMeta(corrupt=True)
    except OSError:
        raise
    except Exception as err:  # mutagen raises assorted errors on damaged files
        _LOGGER.debug("Corrupt audio file %s: %r", path, err)
        return FileMeta(corrupt=True)


def _meta_from(audio: Any) -> FileMeta:
    length = getattr(getattr(audio, "info", None), "length", None)
    duration = float(length) if isinstance(length, int | float) and length > 0 else None
    fields = _TagFields.of(audio.tags)
    return FileMeta(
        title=fields.text("title"),
        artist=fields.text("artist"),
        album=fields.text("album"),
        track_number=fields.number("track"),
        disc_number=fields.number("disc"),
        duration=duration,
        has_cover=_cover_from(audio) is not None,
    )


# Tag keys per tag container: ID3 (mp3, wav, aiff), MP4 (m4a), ASF (wma), Vorbis comments
# (flac, ogg, opus; case-insensitive keys), which are also tried on other mapping-like tags (APEv2).
_KEYS: Final[dict[str, dict[str, str]]] = {
    "id3": {"title": "TIT2", "artist": "TPE1", "album": "TALB", "track": "TRCK", "disc": "TPOS"},
    "mp4": {
        "title": "\xa9nam",
        "artist": "\xa9ART",
        "album": "\xa9alb",
        "track": "trkn",
        "disc": "disk",
    },
    "asf": {
        "title": "Title",
        "artist": "Author",
        "album": "WM/AlbumTitle",
        "track": "WM/TrackNumber",
        "disc": "WM/PartOfSet",
    },
    "vorbis": {
        "title": "title",
        "artist": "artist",
        "album": "album",
        "track": "tracknumber",
        "disc": "discnumber",
    },
}


def _tag_kind(tags: Any) -> str | None:
    """Name the tag container (a string, so mypy keeps mutagen's untyped objects as Any)."""
    if tags is None:
        return None
    for kind, cls in (("id3", ID3), ("mp4", MP4Tags), ("asf", ASFTags)):
        if isinstance(tags, cls):
            return kind
    return "vorbis" if hasattr(tags, "get") else None


@dataclass(frozen=True, slots=True)
class _TagFields:
    """Uniform read access to the few tags we use, whatever the container."""

    tags: Any
    kind: str | None

    @classmethod
    def of(cls, tags: Any) -> _TagFields:
        return cls(tags, _tag_kind(tags))

    def values(self, name: str) -> list[Any]:
        if self.kind is None:
            return []
        value = self.tags.get(_KEYS[self.kind][name])
        if value is None:
            return []
        if self.kind == "id3":
            return list(value.text)
        return list(value) if isinstance(value, list) else [value]

    def text(self, name: str) -> str | None:
        texts = [str(value).strip() for value in self.values(name)]
        return ", ".join(text for text in texts if text) or None

    def number(self, name: str) -> int | None:
        for value in self.values(name):
            # MP4 stores (number, total) tuples; the others "3", "3/12" or integers.
            raw = value[0] if isinstance(value, tuple) and value else value
            match = _NUMBER_RE.match(str(raw))
            if match is not None and int(match.group(1)) > 0:
                return int(match.group(1))
        return None


# --- Covers -------------------------------------------------------------------------------------


def read_cover(path: str) -> tuple[bytes, str] | None:
    """Return the embedded cover (image bytes, MIME type) of an audio file, or None."""
    try:
        audio = _load_audio(path)
    except Exception as err:  # no cover is the answer for any unreadable file
        _LOGGER.debug("No cover for %s: %r", path, err)
        return None
    if audio is None:
        return None
    return _cover_from(audio)


def _cover_from(audio: Any) -> tuple[bytes, str] | None:
    """Pick the front cover if there is one, else the first picture of any type."""
    pictures = list(_pictures(audio))
    pictures.sort(key=lambda picture: picture[0] != _FRONT_COVER)  # stable: keeps file order
    for _kind, data, mime in pictures:
        if data:
            return data, _image_mime(data, mime)
    return None


def _pictures(audio: Any) -> Iterator[tuple[int, bytes, str]]:
    """Yield (picture type, data, declared MIME) of every embedded picture."""
    tags: Any = audio.tags
    kind = _tag_kind(tags)
    if kind == "id3":
        for frame in tags.getall("APIC"):
            yield frame.type, frame.data, frame.mime
    elif kind == "mp4":
        for cover in tags.get("covr", []):
            mime = "image/png" if cover.imageformat == MP4Cover.FORMAT_PNG else "image/jpeg"
            yield _FRONT_COVER, bytes(cover), mime
    elif kind == "asf":
        for value in tags.get("WM/Picture", []):
            asf_picture = _parse_asf_picture(bytes(value.value))
            if asf_picture is not None:
                yield asf_picture
    elif kind == "vorbis":
        for encoded in tags.get("metadata_block_picture", []):
            picture = _decode_flac_picture(encoded)
            if picture is not None:
                yield picture.type, picture.data, picture.mime
    # FLAC keeps pictures in their own metadata blocks, beside the Vorbis comments.
    for picture in getattr(audio, "pictures", None) or []:
        yield picture.type, picture.data, picture.mime


def _decode_flac_picture(encoded: str) -> Any:
    """Decode a base64 FLAC picture block (Ogg's metadata_block_picture); None if damaged."""
    try:
        return Picture(base64.b64decode(encoded))  # type: ignore[no-untyped-call]
    except Exception:  # a damaged picture only means no cover
        return None


def _parse_asf_picture(blob: bytes) -> tuple[int, bytes, str] | None:
    """Parse WM/Picture: type byte, data size (LE u32), UTF-16 MIME, UTF-16 description, data."""
    if len(blob) < 5:
        return None
    kind = blob[0]
    size = int.from_bytes(blob[1:5], "little")
    pos = 5
    strings = []
    for _ in range(2):  # MIME then description, each ending with a UTF-16 NUL
        end = pos
        while end + 1 < len(blob) and blob[end : end + 2] != b"\0\0":
            end += 2
        strings.append(blob[pos:end].decode("utf-16-le", "replace"))
        pos = end + 2
    data = blob[pos : pos + size]
    return (kind, data, strings[0]) if len(data) == size else None


def _image_mime(data: bytes, declared: str) -> str:
    """Trust the image's magic bytes over the declared type (often empty or "image/jpg")."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    declared = declared.strip().lower()
    if declared == "image/jpg":
        return "image/jpeg"
    return declared if "/" in declared else "application/octet-stream"


# --- m3u ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class M3UEntry:
    """One location of an m3u file with what #EXTINF said about it."""

    location: str
    title: str | None = None
    duration: float | None = None


def parse_m3u(data: bytes, *, utf8: bool) -> list[M3UEntry]:
    """Parse m3u bytes: UTF-8 (m3u8), or UTF-8 falling back to latin-1 (m3u); BOM and CRLF ok."""
    data = data.removeprefix(_UTF8_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace") if utf8 else data.decode("latin-1")
    entries: list[M3UEntry] = []
    title: str | None = None
    duration: float | None = None
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        if line.startswith("#"):
            if line[:8].upper() == "#EXTINF:":
                title, duration = _parse_extinf(line[8:])
            continue
        entries.append(M3UEntry(line, title, duration))
        title = duration = None
    return entries


def _parse_extinf(value: str) -> tuple[str | None, float | None]:
    """Parse "<duration>[ attributes],<title>" of an #EXTINF line."""
    head, _, title = value.partition(",")
    duration: float | None = None
    token = head.split(maxsplit=1)[0] if head.strip() else ""
    with contextlib.suppress(ValueError):
        duration = float(token)
    if duration is not None and duration <= 0:  # -1 means "unknown" (streams)
        duration = None
    return title.strip() or None, duration


# --- The scan -----------------------------------------------------------------------------------


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
        return _is_under(real, self.real_root) or self.is_allowed(real)

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
            with _open_regular(m3u.path) as file:
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
