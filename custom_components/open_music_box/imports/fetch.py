"""Download the audio of a URL with yt-dlp, in a worker thread (never in the event loop).

yt-dlp writes only into the job's temporary folder, under names of our own (001.mp3, and
001-002.mp3 for the second chapter of the first item): titles never become paths. Its progress
hook reports to the importer, enforces the size limit and stops the job when it is cancelled
(an exception raised in a hook aborts yt-dlp). It keeps no cache, writes no thumbnails or info
files, opens no file:// URL and fetches no remote components: only the URL and what it
links to are contacted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import importlib
import logging
import os
import re
import shutil
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

from .files import ImportFailure, Item, inside

_LOGGER = logging.getLogger(__name__)

MAX_ITEMS = 100  # entries of a playlist page
SOCKET_TIMEOUT = 20  # seconds without data before yt-dlp gives up on a connection
MB = 1024 * 1024
MAX_DETAIL = 200  # characters of an unexpected error shown to the user

# Without ffmpeg nothing is converted: the best audio-only format, preferring the ones mutagen
# can tag; then a format whose kind is unknown but whose extension is an audio one.
_AUDIO_ONLY_EXTS = ("m4a", "mp3", "ogg", "opus", "flac", "wav", "oga", "aac", "aiff", "wma")
FORMAT_WITHOUT_FFMPEG = "/".join(
    [
        "bestaudio[ext=m4a]",
        "bestaudio[ext=mp3]",
        "bestaudio",
        *(f"best[ext={ext}]" for ext in _AUDIO_ONLY_EXTS),
    ]
)
FORMAT_WITH_FFMPEG = "bestaudio/best"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a job is: bytes over all its files, percent over all its items."""

    bytes: int
    total: int | None
    percent: float | None
    speed: float | None  # bytes per second
    item: int
    items: int | None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The downloaded files and whether ffmpeg converted them (and split chapters)."""

    items: list[Item]
    converted: bool


class FetchControl:
    """Shared by the event loop and the worker: cancel flag and progress callback."""

    def __init__(self, report: Callable[[Progress], None]) -> None:
        """Initialize the fetch control."""
        self.cancelled = threading.Event()
        self.report = report  # called in the worker thread


class _YtdlpLog:
    """yt-dlp's messages go to our debug log; failures reach the user as translated errors."""

    def debug(self, msg: str) -> None:
        _LOGGER.debug("yt-dlp: %s", msg)

    info = warning = error = debug


class _Tracker:
    """yt-dlp's progress and postprocessor hooks (worker thread)."""

    def __init__(self, control: FetchControl, max_bytes: int) -> None:
        self._control = control
        self._max_bytes = max_bytes
        self._done = 0  # bytes of the files finished

    def check(self) -> None:
        if self._control.cancelled.is_set():
            raise ImportFailure("import_cancelled")

    def on_download(self, status: dict[str, Any]) -> None:
        self.check()
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        downloaded = int(status.get("downloaded_bytes") or 0)
        expected = self._done + max(downloaded, int(total or 0))
        if expected > self._max_bytes:
            raise ImportFailure("import_too_large", max_mb=str(self._max_bytes // MB))
        info = status.get("info_dict") or {}
        index = int(info.get("playlist_index") or 1)
        count = info.get("n_entries") or info.get("playlist_count")
        fraction = min(downloaded / total, 1.0) if total else None
        if status["status"] == "finished":
            fraction = 1.0
        percent = None
        if fraction is not None:
            percent = fraction * 100 if not count else (index - 1 + fraction) * 100 / count
        progress = Progress(
            bytes=self._done + downloaded,
            total=None if not total else self._done + int(total),
            percent=None if percent is None else round(percent, 1),
            speed=status.get("speed"),
            item=index,
            items=count,
        )
        if status["status"] == "finished":
            self._done += downloaded
        self._control.report(progress)

    def on_postprocess(self, _status: dict[str, Any]) -> None:
        self.check()


def http_media_only(info: dict[str, Any], *, incomplete: bool = False) -> str | None:
    """Skip media a page links over another scheme (ftp://…): imports fetch http(s) only."""
    url = info.get("url")
    if isinstance(url, str) and urlsplit(url).scheme.lower() not in ("http", "https"):
        return "only http and https media is imported"
    return None


def ffmpeg_path() -> str | None:
    """Return the ffmpeg on PATH (conversion and chapters need it), or None."""
    return shutil.which("ffmpeg")


def options(work_dir: str, ffmpeg: str | None, tracker: _Tracker) -> dict[str, Any]:
    """Return yt-dlp's options for one job."""
    opts: dict[str, Any] = {
        "paths": {"home": work_dir, "temp": work_dir},
        "outtmpl": {
            "default": "%(autonumber)03d.%(ext)s",
            "chapter": "%(autonumber)03d-%(section_number)03d.%(ext)s",
        },
        "restrictfilenames": True,
        "windowsfilenames": True,
        "noplaylist": False,
        "playlistend": MAX_ITEMS,
        "cachedir": False,
        "enable_file_urls": False,
        "remote_components": [],
        "writethumbnail": False,
        "writeinfojson": False,
        "writesubtitles": False,
        "updatetime": False,
        "overwrites": True,
        "retries": 2,
        "fragment_retries": 2,
        "extractor_retries": 1,
        "socket_timeout": SOCKET_TIMEOUT,
        "quiet": True,
        "noprogress": True,
        "color": {"stdout": "no_color", "stderr": "no_color"},
        "logger": _YtdlpLog(),
        "match_filter": http_media_only,
        "progress_hooks": [tracker.on_download],
        "postprocessor_hooks": [tracker.on_postprocess],
    }
    if ffmpeg is None:
        opts.update(format=FORMAT_WITHOUT_FFMPEG, fixup="never")
    else:
        opts.update(
            format=FORMAT_WITH_FFMPEG,
            ffmpeg_location=ffmpeg,
            postprocessors=[
                {"key": "FFmpegExtractAudio", "preferredcodec": "best"},
                {"key": "FFmpegSplitChapters"},
            ],
        )
    return opts


def fetch(url: str, work_dir: str, max_bytes: int, control: FetchControl) -> FetchResult:
    """Download the audio of `url` into `work_dir` (blocking); raise ImportFailure."""
    yt_dlp: Any = importlib.import_module("yt_dlp")  # imported on first use, in this thread
    ffmpeg = ffmpeg_path()
    tracker = _Tracker(control, max_bytes)
    tracker.check()
    try:
        with yt_dlp.YoutubeDL(options(work_dir, ffmpeg, tracker)) as ydl:
            info = ydl.extract_info(url, download=True)
    except ImportFailure:
        raise
    except Exception as err:
        raise failure(yt_dlp, err) from err
    tracker.check()
    items = list(_items(info, url, work_dir))
    if not items:
        raise ImportFailure("import_unsupported")
    return FetchResult(items=items, converted=ffmpeg is not None)


def failure(yt_dlp: Any, err: Exception) -> ImportFailure:
    """Turn what yt-dlp raised into a translated reason."""
    utils, networking = yt_dlp.utils, yt_dlp.networking.exceptions
    # Refused "x.sh" and the like: yt-dlp has no public name for it, and it deserves its own reason.
    unsafe_extension = yt_dlp.utils._utils._UnsafeExtensionError  # noqa: SLF001
    for cause in _causes(err):
        if isinstance(cause, networking.HTTPError):
            return ImportFailure("import_http_error", status=str(cause.status))
        if isinstance(cause, utils.UnsupportedError | networking.UnsupportedRequest):
            return ImportFailure("import_unsupported")
        if isinstance(cause, networking.TransportError):
            return ImportFailure("import_network_error", detail=_detail(cause))
        if isinstance(cause, utils.PostProcessingError | unsafe_extension) or (
            isinstance(cause, utils.ExtractorError) and "Requested format" in str(cause)
        ):
            return ImportFailure("import_not_audio")
    return ImportFailure("import_failed", detail=_detail(err))


def _causes(err: BaseException) -> Iterator[BaseException]:
    """Yield the error and what caused it (yt-dlp keeps causes in exc_info and .cause)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [err]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        exc_info = getattr(current, "exc_info", None)
        if isinstance(exc_info, tuple) and len(exc_info) > 1:
            pending.append(exc_info[1])
        pending += [getattr(current, "cause", None), current.__cause__]


def _detail(err: BaseException) -> str:
    text = _ANSI.sub("", str(err)).removeprefix("ERROR: ").strip()
    return text[:MAX_DETAIL]


def _entries(info: Any) -> Iterator[dict[str, Any]]:
    """Yield every downloaded video of a result (playlists nest)."""
    if info.get("_type") in ("playlist", "multi_video"):
        for entry in info.get("entries") or []:
            yield from _entries(entry)
    else:
        yield info


def _items(info: Any, url: str, work_dir: str) -> Iterator[Item]:
    """Yield the files of a result: an item's chapters when ffmpeg split it, else the item."""
    real_work = os.path.realpath(work_dir)

    def ours(path: Any) -> bool:
        if not isinstance(path, str) or not os.path.isfile(path):
            return False
        return inside(os.path.realpath(path), real_work)

    for entry in _entries(info):
        artist = _text(entry, "artist", "creator", "uploader")
        source_name = _url_name(entry.get("webpage_url") or url)
        chapters = [c for c in entry.get("chapters") or [] if ours(c.get("filepath"))]
        if chapters:
            title = _text(entry, "track", "title")
            for chapter in chapters:
                yield Item(
                    path=chapter["filepath"],
                    title=_text(chapter, "title"),
                    chapter=True,
                    artist=artist,
                    album=_text(entry, "album") or title,
                    source_name=source_name,
                )
            continue
        downloads = [d for d in entry.get("requested_downloads") or [] if ours(d.get("filepath"))]
        for download in downloads:
            yield Item(
                path=download["filepath"],
                title=_text(entry, "track", "title"),
                artist=artist,
                album=_text(entry, "album", "playlist_title"),
                source_name=source_name,
            )


def _text(info: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = info.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _url_name(url: str) -> str:
    """Return the file name of a URL without its extension ("song" for …/song.mp3)."""
    name = unquote(urlsplit(url).path.rstrip("/").rpartition("/")[2])
    return os.path.splitext(name)[0]
