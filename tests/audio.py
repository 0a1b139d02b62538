"""Generate real audio files for tests: WAV with the wave module, other formats with ffmpeg.

Tags and covers are written with mutagen, each format its own way (ID3 for mp3/wav/aiff,
Vorbis comments for flac/ogg/opus, MP4 atoms for m4a, ASF attributes for wma).
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
import shutil
import struct
import subprocess
import tempfile
import wave
import zlib

import mutagen
from mutagen.asf import ASFByteArrayAttribute, ASFTags
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TALB, TIT2, TPE1, TPOS, TRCK
from mutagen.mp4 import MP4Cover, MP4Tags

# Audio codec per output extension (ffmpeg picks the container from the extension).
CODECS: dict[str, str] = {
    ".mp3": "libmp3lame",
    ".flac": "flac",
    ".ogg": "libvorbis",
    ".oga": "libvorbis",
    ".opus": "libopus",
    ".m4a": "aac",
    ".m4b": "aac",
    ".wma": "wmav2",
    ".wav": "pcm_s16le",
    ".aiff": "pcm_s16be",
}


def tiny_png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """Return a valid RGB PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width  # filter byte 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


PNG = tiny_png()


def write_wav(path: Path, seconds: float = 1.0, freq: float = 440.0, rate: int = 8000) -> Path:
    """Write a mono 16-bit WAV: a sine at freq Hz, or silence when freq is 0."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = round(seconds * rate)
    if freq:
        samples = (round(8000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(frames))
        data = struct.pack(f"<{frames}h", *samples)
    else:
        data = b"\x00\x00" * frames
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data)
    return path


def encode(src_wav: Path, dst: Path) -> Path:
    """Convert a WAV to the format of dst's extension with the ffmpeg CLI (no tags copied)."""
    codec = CODECS[dst.suffix.lower()]
    dst.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(src_wav),
            "-map_metadata",
            "-1",
            "-vn",
            "-c:a",
            codec,
            str(dst),
        ],
        check=True,
        capture_output=True,
    )
    return dst


def _split_number(value: int | str) -> tuple[int, int]:
    """Turn 3 or "3/12" into (3, 12) (total 0 when absent), as MP4 wants it."""
    number, _, total = str(value).partition("/")
    return int(number), int(total or 0)


def _flac_picture(cover: bytes) -> Picture:
    picture = Picture()
    picture.type = 3  # front cover
    picture.mime = "image/png"
    picture.desc = "Cover"
    picture.width = picture.height = 2
    picture.depth = 24
    picture.data = cover
    return picture


def _asf_picture(cover: bytes, mime: str = "image/png") -> bytes:
    """Build a WM/Picture value: type, data size, UTF-16 MIME, UTF-16 description, data."""
    return (
        bytes([3])
        + struct.pack("<I", len(cover))
        + mime.encode("utf-16-le")
        + b"\x00\x00"
        + "Cover".encode("utf-16-le")
        + b"\x00\x00"
        + cover
    )


def tag(
    path: Path,
    *,
    title: str | None = None,
    artist: str | None = None,
    album: str | None = None,
    track: int | str | None = None,
    disc: int | str | None = None,
    cover: bytes | None = None,
) -> Path:
    """Write tags (and a PNG front cover) into an audio file of any format generated here."""
    audio = mutagen.File(path)
    if audio is None:
        raise ValueError(f"mutagen does not know {path}")
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    if isinstance(tags, ID3):  # mp3, wav, aiff
        for frame_cls, value in (
            (TIT2, title),
            (TPE1, artist),
            (TALB, album),
            (TRCK, track),
            (TPOS, disc),
        ):
            if value is not None:
                tags.add(frame_cls(encoding=3, text=[str(value)]))
        if cover is not None:
            tags.add(APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=cover))
    elif isinstance(tags, MP4Tags):  # m4a
        for key, value in (("\xa9nam", title), ("\xa9ART", artist), ("\xa9alb", album)):
            if value is not None:
                tags[key] = [value]
        if track is not None:
            tags["trkn"] = [_split_number(track)]
        if disc is not None:
            tags["disk"] = [_split_number(disc)]
        if cover is not None:
            tags["covr"] = [MP4Cover(cover, imageformat=MP4Cover.FORMAT_PNG)]
    elif isinstance(tags, ASFTags):  # wma
        for key, value in (
            ("Title", title),
            ("Author", artist),
            ("WM/AlbumTitle", album),
            ("WM/TrackNumber", track),
            ("WM/PartOfSet", disc),
        ):
            if value is not None:
                tags[key] = [str(value)]
        if cover is not None:
            tags["WM/Picture"] = [ASFByteArrayAttribute(_asf_picture(cover))]
    else:  # Vorbis comments: flac, ogg, opus
        for key, value in (
            ("title", title),
            ("artist", artist),
            ("album", album),
            ("tracknumber", track),
            ("discnumber", disc),
        ):
            if value is not None:
                tags[key] = [str(value)]
        if cover is not None:
            picture = _flac_picture(cover)
            if isinstance(audio, FLAC):
                audio.add_picture(picture)
            else:
                tags["metadata_block_picture"] = [base64.b64encode(picture.write()).decode()]
    audio.save()
    return path


def make_track(
    path: Path,
    seconds: float = 1.0,
    *,
    freq: float = 440.0,
    title: str | None = None,
    artist: str | None = None,
    album: str | None = None,
    track: int | str | None = None,
    disc: int | str | None = None,
    cover: bytes | None = None,
) -> Path:
    """Write an audio file of path's format (WAV, then ffmpeg), tagged when tags are given."""
    if path.suffix.lower() == ".wav":
        write_wav(path, seconds, freq)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            encode(write_wav(Path(tmp) / "src.wav", seconds, freq), path)
    if any(value is not None for value in (title, artist, album, track, disc, cover)):
        tag(path, title=title, artist=artist, album=album, track=track, disc=disc, cover=cover)
    return path


def ffmpeg_available() -> bool:
    """Return True when the ffmpeg CLI is on PATH (tests of encoded formats need it)."""
    return shutil.which("ffmpeg") is not None


def undecodable_wav(path: Path, seconds: float = 1.0) -> Path:
    """A WAV whose header reads fine (mutagen: a 1 s track) in a codec nothing can decode."""
    rate = 8000
    data = bytes(2 * rate * round(seconds))
    fmt = struct.pack("<HHIIHH", 0xABCD, 1, rate, 2 * rate, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path
