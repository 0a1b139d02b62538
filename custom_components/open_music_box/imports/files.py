"""Where imported files go, and getting them there without leaving the library folder.

Everything here blocks (disk I/O): the importer runs it in the executor. Paths are checked by
their resolved real path, so a symlink cannot lead a write out of the library.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
import os
from pathlib import PurePath
import re
import shutil
import threading
import unicodedata

from ..const import AUDIO_EXTENSIONS
from ..library import FileMeta
from .tags import TagValues, audio_kind, tag_values, write_tags

TMP_DIR = ".imports-tmp"  # hidden: the library scan skips it
IMPORTS_DIR = "Imports"  # files imported into playlists of your own
MAX_NAME_CHARS = 100
MAX_NAME_BYTES = 200  # most filesystems allow 255 bytes per name; room for " (2)" and ".ext"

# Path separators, control characters and what Windows (SMB shares) refuses.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')

# Placements into the same folder by two jobs at once must not pick the same free name.
_PLACE_LOCK = threading.Lock()


class ImportFailure(Exception):
    """An import failed; `key` is the translation key of the reason."""

    def __init__(self, key: str, **placeholders: str) -> None:
        """Initialize the import failure."""
        super().__init__(key)
        self.key = key
        self.placeholders = placeholders


def safe_name(text: str, fallback: str) -> str:
    """Return one harmless path component: no separator, no leading dot, bounded length."""
    clean = _UNSAFE.sub(" ", unicodedata.normalize("NFC", text))
    clean = " ".join(clean.split()).strip(" .")  # leading dots: hidden files, "..", "."
    clean = clean[:MAX_NAME_CHARS]
    while len(clean.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        clean = clean[:-1]
    clean = clean.rstrip(" .")  # Windows drops trailing dots and spaces
    return clean or fallback


def inside(path: str, real_root: str) -> bool:
    """Return True when a real path is the root or below it."""
    return os.path.commonpath([path, real_root]) == real_root


def _checked(path: str, real_root: str) -> str:
    """Return the real path of `path`, refusing one that leads outside the library."""
    real = os.path.realpath(path)
    if not inside(real, real_root):
        raise ImportFailure("import_outside_library")
    return real


# The job's temporary folder -----------------------------------------------------------------


def make_work_dir(root: str, job_id: str) -> str:
    """Create <library>/.imports-tmp/<job> and return its real path."""
    real_root = os.path.realpath(root)
    tmp = os.path.join(real_root, TMP_DIR)
    os.makedirs(tmp, exist_ok=True)
    if os.path.realpath(tmp) != tmp:  # a symlink put there: never follow it
        raise ImportFailure("import_outside_library")
    work = os.path.join(tmp, job_id)
    os.mkdir(work)
    return work


def remove_work_dir(root: str, job_id: str) -> None:
    """Delete a job's temporary folder (partial files included), and the parent once empty."""
    tmp = os.path.join(os.path.realpath(root), TMP_DIR)
    if os.path.islink(tmp):
        return  # make_work_dir refused it: nothing of ours is behind it
    shutil.rmtree(os.path.join(tmp, job_id), ignore_errors=True)
    with contextlib.suppress(OSError):  # another job still uses it, or it is already gone
        os.rmdir(tmp)


def clear_leftovers(root: str) -> bool:
    """Delete what imports cut short by a restart left behind; return True if there was any."""
    tmp = os.path.join(root, TMP_DIR)
    if os.path.islink(tmp):
        os.unlink(tmp)  # only the link: what it points to is not ours
        return True
    if not os.path.isdir(tmp):
        return False
    shutil.rmtree(tmp, ignore_errors=True)
    return True


# Placing the files -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a job's files go.

    `folder` is relative to the library root (POSIX, "" for the root). With `new`, the folder
    must not exist yet: " (2)", " (3)"… is added to its name until one is free.
    """

    folder: str
    new: bool
    first_number: int = 1
    album: str | None = None  # album tag for files whose source gives none


@dataclass(frozen=True, slots=True)
class Item:
    """One downloaded file and what its source said about it."""

    path: str
    title: str | None = None
    chapter: bool = False  # a chapter of a longer file: its title replaces the file's own
    artist: str | None = None
    album: str | None = None
    source_name: str = ""  # the file name in the URL, the last resort for a title


@dataclass(frozen=True, slots=True)
class Placed:
    """The folder the files went to and their paths, relative to the library root (POSIX)."""

    folder: str
    files: tuple[str, ...]


def place(root: str, items: list[Item], placement: Placement) -> Placed:
    """Check, tag and move the downloaded files into their folder of the library.

    The items are files of the job's temporary folder (fetch.py checked that). Either all of
    them are placed, or none: what was moved goes again, and a folder made for the job too.
    """
    real_root = os.path.realpath(root)
    checked: list[tuple[Item, str, str, FileMeta]] = []  # item, real path, extension, tags
    for item in items:
        real = os.path.realpath(item.path)
        extension = os.path.splitext(real)[1].lower()
        meta = audio_kind(real) if extension in AUDIO_EXTENSIONS else None
        if meta is None:
            raise ImportFailure("import_not_audio")
        checked.append((item, real, extension, meta))
    with _PLACE_LOCK:
        folder, created = _folder(real_root, placement)
        moved: list[str] = []
        try:
            for number, (item, real, extension, meta) in enumerate(checked, placement.first_number):
                values = tag_values(meta, item, number, placement.album)
                write_tags(real, values)
                moved.append(_move(real, folder, _file_name(number, values, extension)))
        except BaseException:
            for path in moved:
                os.unlink(path)
            if created:
                os.rmdir(folder)
            raise
    relative = PurePath(os.path.relpath(folder, real_root)).as_posix()
    return Placed(
        folder="" if relative == "." else relative,
        files=tuple(PurePath(os.path.relpath(path, real_root)).as_posix() for path in moved),
    )


def _folder(real_root: str, placement: Placement) -> tuple[str, bool]:
    """Return the real path of the target folder and whether this job created it."""
    path = os.path.join(real_root, *PurePath(placement.folder).parts)
    if not placement.new:
        real = _checked(path, real_root)  # before creating anything: a link may lead out
        existed = os.path.isdir(real)
        os.makedirs(real, exist_ok=True)
        return real, not existed
    candidate, number = path, 1
    while True:
        try:
            os.mkdir(candidate)  # atomic: a name taken meanwhile raises
        except FileExistsError:
            number += 1
            candidate = f"{path} ({number})"
        else:
            return _checked(candidate, real_root), True


def _file_name(number: int, values: TagValues, extension: str) -> str:
    return f"{number:02d} {safe_name(values.title, f'Track {number}')}{extension}"


def _move(source: str, folder: str, name: str) -> str:
    """Move a file into the folder under a free name; return its new path."""
    stem, extension = os.path.splitext(name)
    target, number = os.path.join(folder, name), 1
    while os.path.lexists(target):
        number += 1
        target = os.path.join(folder, f"{stem} ({number}){extension}")
    shutil.move(source, target)  # a rename within one filesystem
    return target
