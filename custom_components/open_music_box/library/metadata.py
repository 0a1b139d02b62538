"""Tags and covers of audio files, read with mutagen (blocking: run in the executor)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
import logging
import os
import re
import stat
from typing import IO, Any, Final

# mutagen 1.47's package root re-exports these implicitly, which mypy --strict refuses.
from mutagen._file import File as mutagen_file
from mutagen._util import MutagenError
from mutagen.asf import ASFTags
from mutagen.flac import Picture
from mutagen.id3 import ID3
from mutagen.mp4 import MP4Cover, MP4Tags

_LOGGER = logging.getLogger(__name__)

_NUMBER_RE: Final = re.compile(r"\s*(\d+)")
# ID3 picture type 3 is the front cover; other types (back, artist...) are a fallback.
_FRONT_COVER: Final = 3
# The picture types of the artist, in order of preference: lead artist, artist, band.
_ARTIST_PICTURES: Final = (7, 8, 10)


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
        """Return how many entries there are."""
        return len(self._entries)


def open_regular(path: str) -> IO[bytes]:
    """Open a regular file for reading; raise OSError for anything else (FIFO, device, dir).

    O_NONBLOCK keeps a FIFO named like a song from blocking the scan forever. The file object
    keeps the path as its name: mutagen guesses formats partly from the extension.
    """
    file = open(path, "rb", opener=_nonblocking_opener)  # noqa: SIM115 - returned to the caller
    try:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise OSError(f"not a regular file: {path}")  # noqa: TRY301 - the except below closes the file
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
    with open_regular(path) as fileobj:
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
    except Exception as err:  # noqa: BLE001 - mutagen raises assorted errors on damaged files
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
    return _read_picture(path, _cover_from, "cover")


def read_artist_picture(path: str) -> tuple[bytes, str] | None:
    """Return the embedded picture of the artist (image bytes, MIME type) of a file, or None."""
    return _read_picture(path, _artist_picture_from, "artist picture")


def _read_picture(
    path: str, pick: Callable[[Any], tuple[bytes, str] | None], what: str
) -> tuple[bytes, str] | None:
    try:
        audio = _load_audio(path)
    except Exception as err:  # noqa: BLE001 - no picture is the answer for any unreadable file
        _LOGGER.debug("No %s for %s: %r", what, path, err)
        return None
    return None if audio is None else pick(audio)


def _artist_picture_from(audio: Any) -> tuple[bytes, str] | None:
    """Pick the lead artist's picture, else the artist's, else the band's (first of each)."""
    pictures = [p for p in _pictures(audio) if p[1] and p[0] in _ARTIST_PICTURES]
    if not pictures:
        return None
    # min() keeps the first of equals: file order within a picture type.
    _kind, data, mime = min(pictures, key=lambda picture: _ARTIST_PICTURES.index(picture[0]))
    return data, _image_mime(data, mime)


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
    except Exception:  # noqa: BLE001 - a damaged picture only means no cover
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
