"""Generate the demo library of the development instance (nothing binary is committed).

    $PY script/demo_library.py [LIBRARY_DIR]     (default: config/media/open_music_box)

Playlists made:
  - "Animal Songs/"   5 mp3 tracks (22-36 s), tagged, embedded PNG cover
  - "Lullabies/"      3 tracks in flac and ogg (one with a non-ASCII name), tagged, cover
  - "The Sleepy Lighthouse/"  an audiobook: 3 chapters of 10 min, mono 32 kb/s mp3. A
    narrator-like babble of tones; each chapter opens with N low bells (chapter N) and each
    minute m (1-9) opens with m high beeps, so a resumed or seeked position can be heard.
  - "Favourites.m3u"  #EXTINF titles, relative entries into the folders above.

Audio is synthesized with `wave` + math, encoded with the ffmpeg CLI and tagged with mutagen.
Idempotent: each file is written under a hidden temporary name and renamed when complete,
so a file that exists is complete and is skipped; deleting one regenerates just that file.
"""

# mutagen ships no type hints for its constructors and tag frames.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import argparse
from array import array
import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
import math
import os
from pathlib import Path
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
import zlib

from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3

# The frame classes are public, but mutagen.id3 does not re-export them for type checkers.
from mutagen.id3._frames import APIC, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TRCK
from mutagen.oggvorbis import OggVorbis

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LIBRARY = ROOT / "config" / "media" / "open_music_box"

MUSIC_RATE = 44100
BOOK_RATE = 22050
YEAR = "2025"

# --- Cover art: a PNG drawn pixel by pixel, encoded with zlib ------------------------------------


def png_bytes(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """Encode an RGB image as PNG (filter 0 on every row)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


@dataclass(frozen=True)
class Cover:
    """A night/day sky: vertical gradient, a disc (sun or moon) and a few stars."""

    top: tuple[int, int, int]
    bottom: tuple[int, int, int]
    disc: tuple[int, int, int]
    disc_at: tuple[float, float]
    stars: int
    seed: int
    size: int = 256

    def png(self) -> bytes:
        size = self.size
        rnd = random.Random(self.seed)
        stars = {(rnd.randrange(size), rnd.randrange(size * 2 // 3)) for _ in range(self.stars)}
        cx, cy = self.disc_at[0] * size, self.disc_at[1] * size
        radius = size * 0.16

        def pixel(x: int, y: int) -> tuple[int, int, int]:
            dist = math.hypot(x - cx, y - cy)
            if dist <= radius:
                return self.disc
            t = y / (size - 1)
            base = tuple(round(a + (b - a) * t) for a, b in zip(self.top, self.bottom, strict=True))
            glow = max(0.0, 1 - (dist - radius) / (radius * 1.5)) * 0.5
            r, g, b = (round(c + (d - c) * glow) for c, d in zip(base, self.disc, strict=True))
            if (x, y) in stars or (x - 1, y) in stars or (x, y - 1) in stars:
                return (255, 255, 230)
            return (r, g, b)

        return png_bytes(size, size, pixel)


# --- Synthesis ------------------------------------------------------------------------------------

NOTE_INDEX = {"C": -9, "D": -7, "E": -5, "F": -4, "G": -2, "A": 0, "B": 2}


def note_freq(name: str) -> float:
    """Return the frequency of a note like "A4", "C#5" or "Bb3" (A4 = 440 Hz)."""
    letter, rest = name[0], name[1:]
    shift = 0
    while rest and rest[0] in "#b":
        shift += 1 if rest[0] == "#" else -1
        rest = rest[1:]
    semitones = NOTE_INDEX[letter] + shift + (int(rest) - 4) * 12
    return 440.0 * 2 ** (semitones / 12)


def parse_notes(score: str) -> list[tuple[str, float]]:
    """Parse "C4:1 E4:0.5 R:2" into (note or "R" for a rest, beats)."""
    notes = []
    for token in score.split():
        name, _, beats = token.partition(":")
        notes.append((name, float(beats or 1)))
    return notes


@dataclass(frozen=True)
class Instrument:
    """Additive voice: harmonics (multiple, amplitude) under an envelope."""

    harmonics: tuple[tuple[float, float], ...]
    attack: float = 0.01
    release: float = 0.08
    # Plucked voices decay exponentially over the note; bowed ones sustain.
    decay: float = 0.0
    vibrato: float = 0.0  # depth in semitone fractions, at 5.5 Hz

    def render(self, freq: float, seconds: float, rate: int) -> array[float]:
        count = int(seconds * rate)
        out = array("d", bytes(8 * count))
        attack = max(1, int(self.attack * rate))
        release = max(1, min(int(self.release * rate), count // 2))
        harmonics = [(freq * mult, amp) for mult, amp in self.harmonics if freq * mult < rate / 2]
        two_pi = 2 * math.pi
        vib = self.vibrato
        for i in range(count):
            t = i / rate
            env = 1.0
            if i < attack:
                env = i / attack
            elif i > count - release:
                env = (count - i) / release
            if self.decay:
                env *= math.exp(-t / self.decay)
            phase = two_pi * t
            if vib:
                phase += vib * math.sin(two_pi * 5.5 * t) / freq
            out[i] = env * sum(amp * math.sin(f * phase) for f, amp in harmonics)
        return out


def render_song(
    voices: Iterable[tuple[str, Instrument, float]], bpm: float, seconds: float, rate: int
) -> array[int]:
    """Mix looping voices (score, instrument, gain) for `seconds`; a fade ends the track."""
    count = int(seconds * rate)
    mix = array("d", bytes(8 * count))
    beat = 60.0 / bpm
    for score, instrument, gain in voices:
        cache: dict[tuple[str, float], array[float]] = {}
        notes = parse_notes(score)
        pos = 0
        while pos < count:
            for name, beats in notes:
                length = beats * beat
                if name != "R":
                    key = (name, length)
                    if key not in cache:
                        cache[key] = instrument.render(note_freq(name), length * 0.95, rate)
                    samples = cache[key]
                    end = min(count, pos + len(samples))
                    for i in range(pos, end):
                        mix[i] += gain * samples[i - pos]
                pos += int(length * rate)
                if pos >= count:
                    break
    fade = int(2.0 * rate)
    for i in range(count - fade, count):
        mix[i] *= (count - i) / fade
    return to_pcm(mix, 0.8)


def song_pcm(song: Song) -> list[array[int]]:
    return [render_song(song.voices, song.bpm, song.seconds, MUSIC_RATE)]


def to_pcm(samples: array[float], level: float) -> array[int]:
    """Normalize to `level` of full scale and convert to 16-bit samples."""
    peak = max((abs(s) for s in samples), default=0.0) or 1.0
    scale = level * 32767 / peak
    return array("h", (round(s * scale) for s in samples))


def write_wav(path: Path, rate: int, chunks: Iterable[array[int]]) -> None:
    """Write mono 16-bit little-endian PCM."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        for chunk in chunks:
            if sys.byteorder == "big":
                swapped = array("h", chunk)
                swapped.byteswap()
                out.writeframes(swapped.tobytes())
            else:
                out.writeframes(chunk.tobytes())


# --- Instruments and songs ------------------------------------------------------------------------

PIANO = Instrument(((1, 1.0), (2, 0.4), (3, 0.2), (4, 0.1)), attack=0.005, decay=0.5)
FLUTE = Instrument(((1, 1.0), (2, 0.15), (3, 0.05)), attack=0.06, release=0.12, vibrato=0.012)
TUBA = Instrument(((1, 1.0), (2, 0.7), (3, 0.5), (4, 0.3), (5, 0.2)), attack=0.03)
PLUCK = Instrument(((1, 1.0), (2, 0.6), (3, 0.3), (5, 0.1)), attack=0.002, decay=0.18)
BELL = Instrument(((1, 1.0), (2.76, 0.4), (5.4, 0.2)), attack=0.002, decay=0.6)
ORGAN = Instrument(((0.5, 0.3), (1, 1.0), (2, 0.5), (4, 0.2)), attack=0.05, release=0.2)
BASS = Instrument(((1, 1.0), (2, 0.3)), attack=0.01, decay=0.6)


@dataclass(frozen=True)
class Song:
    """One music track: its file name comes from number and title."""

    number: int
    title: str
    seconds: float
    bpm: float
    voices: tuple[tuple[str, Instrument, float], ...]


@dataclass(frozen=True)
class Album:
    """A folder playlist of songs in one format."""

    folder: str
    artist: str
    genre: str
    ext: str
    cover: Cover
    songs: tuple[Song, ...] = field(default_factory=tuple)

    def path_of(self, song: Song) -> str:
        return f"{self.folder}/{song.number:02d} - {song.title}.{self.ext}"


OLD_MACDONALD = (
    "G4:1 G4:1 G4:1 D4:1 E4:1 E4:1 D4:2 B4:1 B4:1 A4:1 A4:1 G4:3 R:1 "
    "D4:1 G4:1 G4:1 G4:1 D4:1 E4:1 E4:1 D4:2 B4:1 B4:1 A4:1 A4:1 G4:3 R:1"
)
TWINKLE = (
    "C4:1 C4:1 G4:1 G4:1 A4:1 A4:1 G4:2 F4:1 F4:1 E4:1 E4:1 D4:1 D4:1 C4:2 "
    "G4:1 G4:1 F4:1 F4:1 E4:1 E4:1 D4:2 G4:1 G4:1 F4:1 F4:1 E4:1 E4:1 D4:2"
)
BRAHMS = (
    "E4:0.5 E4:0.5 G4:2 E4:0.5 E4:0.5 G4:2 E4:0.5 G4:0.5 C5:1 B4:1.5 A4:0.5 A4:1 G4:1 "
    "D4:0.5 E4:0.5 F4:1 D4:1 D4:0.5 E4:0.5 F4:2 D4:0.5 F4:0.5 B4:0.5 A4:0.5 G4:1 B4:1 C5:3"
)
FRERE_JACQUES = (
    "F4:1 G4:1 A4:1 F4:1 F4:1 G4:1 A4:1 F4:1 A4:1 Bb4:1 C5:2 A4:1 Bb4:1 C5:2 "
    "C5:0.5 D5:0.5 C5:0.5 Bb4:0.5 A4:1 F4:1 C5:0.5 D5:0.5 C5:0.5 Bb4:0.5 A4:1 F4:1 "
    "F4:1 C4:1 F4:2 F4:1 C4:1 F4:2"
)

ALBUMS = (
    Album(
        folder="Animal Songs",
        artist="The Demo Band",
        genre="Children's Music",
        ext="mp3",
        cover=Cover((250, 200, 90), (120, 200, 110), (255, 240, 150), (0.7, 0.3), 0, 1),
        songs=(
            Song(
                1,
                "Old MacDonald",
                30,
                140,
                ((OLD_MACDONALD, PIANO, 1.0), ("G2:4 C3:4 G2:4 D3:2 G2:2", BASS, 0.5)),
            ),
            Song(
                2,
                "Elephant March",
                32,
                100,
                (("C3:1 C3:1 G2:1 G2:1 A2:1 B2:1 C3:2 E3:1 D3:1 C3:1 B2:1 C3:4", TUBA, 1.0),),
            ),
            Song(
                3,
                "Morning Birds",
                24,
                180,
                (
                    (
                        "D6:0.25 F#6:0.25 A6:0.5 R:0.5 E6:0.25 G6:0.25 B6:0.5 R:1 "
                        "A6:0.25 F#6:0.25 D6:0.25 A5:0.25 D6:1 R:1",
                        FLUTE,
                        1.0,
                    ),
                ),
            ),
            Song(
                4,
                "Frog Pond",
                36,
                120,
                (
                    ("A3:0.5 C4:0.5 D4:0.5 E4:0.5 G4:1 E4:0.5 D4:0.5 C4:1 A3:1 R:1", PLUCK, 1.0),
                    ("A2:2 E2:2 A2:2 G2:2", BASS, 0.6),
                ),
            ),
            Song(
                5,
                "Sleepy Owl",
                22,
                60,
                (("F4:2 A4:1 C5:1 A4:2 F4:2 G4:1 E4:1 C4:2 R:2", ORGAN, 1.0),),
            ),
        ),
    ),
    Album(
        folder="Lullabies",
        artist="Demo Lullaby Trio",
        genre="Lullaby",
        ext="flac",
        cover=Cover((20, 24, 70), (70, 40, 110), (240, 240, 210), (0.3, 0.3), 40, 2),
        songs=(
            Song(1, "Twinkle Twinkle", 26, 100, ((TWINKLE, BELL, 1.0),)),
            Song(2, "Brahms' Lullaby", 28, 80, ((BRAHMS, FLUTE, 1.0), ("C3:3 G2:3", BASS, 0.4))),
        ),
    ),
    Album(
        folder="Lullabies",
        artist="Demo Lullaby Trio",
        genre="Lullaby",
        ext="ogg",
        cover=Cover((20, 24, 70), (70, 40, 110), (240, 240, 210), (0.3, 0.3), 40, 2),
        songs=(Song(3, "Frère Jacques", 25, 110, ((FRERE_JACQUES, PLUCK, 1.0),)),),
    ),
)

# --- The audiobook --------------------------------------------------------------------------------

BOOK_FOLDER = "The Sleepy Lighthouse"
BOOK_TITLE = "The Sleepy Lighthouse"
BOOK_AUTHOR = "Demo Narrator"
BOOK_COVER = Cover((10, 30, 60), (15, 60, 90), (255, 220, 120), (0.5, 0.35), 25, 3)
CHAPTERS = ("The Keeper", "The Storm", "The Morning Boat")
CHAPTER_SECONDS = 600
# Formant-shaped harmonics sound vaguely vowel-like; enough to tell speech from music.
VOWELS = (
    (1, 0.6, 0.9, 0.35, 0.2, 0.1),
    (1, 0.9, 0.5, 0.2, 0.3, 0.15),
    (1, 0.4, 0.2, 0.4, 0.3, 0.2),
)


def book_path(number: int) -> str:
    return f"{BOOK_FOLDER}/Chapter {number} - {CHAPTERS[number - 1]}.mp3"


def syllable_bank(seed: int) -> list[array[int]]:
    """Render 40 short voiced syllables (pitch glide, vowel colour, soft envelope)."""
    rnd = random.Random(seed)
    bank = []
    for _ in range(40):
        f0 = rnd.uniform(110, 170)
        glide = rnd.uniform(-0.25, 0.15)
        vowel = rnd.choice(VOWELS)
        count = int(rnd.uniform(0.12, 0.26) * BOOK_RATE)
        samples = array("h", bytes(2 * count))
        phase = 0.0
        for i in range(count):
            t = i / count
            freq = f0 * (1 + glide * t)
            phase += 2 * math.pi * freq / BOOK_RATE
            env = math.sin(math.pi * t) ** 1.5
            value = sum(amp * math.sin((k + 1) * phase) for k, amp in enumerate(vowel))
            samples[i] = round(4000 * env * value)
        bank.append(samples)
    return bank


def tone(freq: float, seconds: float, level: int, decay: float) -> array[int]:
    count = int(seconds * BOOK_RATE)
    return array(
        "h",
        (
            round(
                level
                * math.exp(-i / BOOK_RATE / decay)
                * min(1.0, i / 40)
                * math.sin(2 * math.pi * freq * i / BOOK_RATE)
            )
            for i in range(count)
        ),
    )


def silence(seconds: float) -> array[int]:
    return array("h", bytes(2 * int(seconds * BOOK_RATE)))


def chapter_minutes(number: int) -> Iterable[array[int]]:
    """Yield the chapter minute by minute: the minute's signal, then babble to fill 60 s."""
    rnd = random.Random(100 + number)
    bank = syllable_bank(number)
    bell = tone(392.0, 0.7, 9000, 0.3)
    beep = tone(1320.0, 0.12, 6000, 0.05)
    minute = 60 * BOOK_RATE
    for m in range(CHAPTER_SECONDS // 60):
        out = array("h", silence(0.3))
        if m == 0:
            for _ in range(number):
                out.extend(bell)
                out.extend(silence(0.3))
        else:
            for _ in range(m):
                out.extend(beep)
                out.extend(silence(0.18))
        out.extend(silence(0.7))
        while True:
            sentence = array("h")
            for _ in range(rnd.randint(4, 11)):
                for _ in range(rnd.randint(1, 3)):
                    sentence.extend(rnd.choice(bank))
                sentence.extend(silence(rnd.uniform(0.06, 0.14)))
            sentence.extend(silence(rnd.uniform(0.5, 0.9)))
            if len(out) + len(sentence) > minute:
                break
            out.extend(sentence)
        out.extend(silence((minute - len(out)) / BOOK_RATE))
        yield out[:minute]


# --- Encoding and tagging -------------------------------------------------------------------------

ENCODERS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "96k", "-f", "mp3"],
    "flac": ["-c:a", "flac", "-f", "flac"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "3", "-f", "ogg"],
    "book": ["-c:a", "libmp3lame", "-ac", "1", "-b:a", "32k", "-f", "mp3"],
}


@dataclass(frozen=True)
class Tags:
    """What every demo file is tagged with."""

    title: str
    artist: str
    album: str
    genre: str
    number: int
    total: int
    cover: bytes


def encode(wav: Path, out: Path, encoder: str) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav)]
        + ENCODERS[encoder]
        + [str(out)],
        check=True,
    )


def picture(cover: bytes) -> Picture:
    pic = Picture()
    pic.type = 3  # front cover
    pic.mime = "image/png"
    pic.desc = "Cover"
    pic.width, pic.height = struct.unpack(">II", cover[16:24])
    pic.depth = 24
    pic.data = cover
    return pic


def tag(path: Path, ext: str, tags: Tags) -> None:
    if ext == "mp3":
        id3 = ID3()
        id3.add(TIT2(encoding=3, text=tags.title))
        id3.add(TPE1(encoding=3, text=tags.artist))
        id3.add(TPE2(encoding=3, text=tags.artist))
        id3.add(TALB(encoding=3, text=tags.album))
        id3.add(TCON(encoding=3, text=tags.genre))
        id3.add(TDRC(encoding=3, text=YEAR))
        id3.add(TRCK(encoding=3, text=f"{tags.number}/{tags.total}"))
        id3.add(APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=tags.cover))
        id3.save(str(path), v2_version=3)
        return
    audio = FLAC(str(path)) if ext == "flac" else OggVorbis(str(path))
    comments = {
        "title": tags.title,
        "artist": tags.artist,
        "albumartist": tags.artist,
        "album": tags.album,
        "genre": tags.genre,
        "date": YEAR,
        "tracknumber": str(tags.number),
        "tracktotal": str(tags.total),
    }
    for key, value in comments.items():
        audio[key] = value
    if isinstance(audio, FLAC):
        audio.add_picture(picture(tags.cover))
    else:
        # Vorbis comments carry the FLAC picture block, base64-encoded.
        audio["metadata_block_picture"] = base64.b64encode(picture(tags.cover).write()).decode()
    audio.save()


def make_file(
    final: Path, encoder: str, rate: int, chunks: Callable[[], Iterable[array[int]]], tags: Tags
) -> None:
    """Synthesize, encode and tag under a hidden name, then rename: present means complete."""
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(f".{final.name}.part")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "audio.wav"
        write_wav(wav, rate, chunks())
        encode(wav, part, encoder)
    tag(part, final.suffix[1:], tags)
    os.replace(part, final)


# --- The library ----------------------------------------------------------------------------------


def m3u_text() -> str:
    """Favourites: relative entries into the folders, #EXTINF from what we synthesized."""
    by_title = {song.title: (album, song) for album in ALBUMS for song in album.songs}
    lines = ["#EXTM3U", "#PLAYLIST:Favourites"]
    for title in ("Sleepy Owl", "Twinkle Twinkle", "Old MacDonald", "Frère Jacques", "Frog Pond"):
        album, song = by_title[title]
        lines += [f"#EXTINF:{round(song.seconds)},{album.artist} - {title}", album.path_of(song)]
    return "\n".join(lines) + "\n"


def build(library: Path) -> tuple[int, int]:
    """Create what is missing; return (files made, files already there)."""
    made = present = 0
    for stale in library.glob("**/.*.part"):
        stale.unlink()
    for album in ALBUMS:
        total = sum(len(a.songs) for a in ALBUMS if a.folder == album.folder)
        cover = album.cover.png()
        for song in album.songs:
            final = library / album.path_of(song)
            if final.exists():
                present += 1
                continue
            print(f"  {album.path_of(song)}", flush=True)
            make_file(
                final,
                album.ext,
                MUSIC_RATE,
                partial(song_pcm, song),
                Tags(
                    song.title, album.artist, album.folder, album.genre, song.number, total, cover
                ),
            )
            made += 1
    book_cover = BOOK_COVER.png()
    for number, chapter in enumerate(CHAPTERS, start=1):
        final = library / book_path(number)
        if final.exists():
            present += 1
            continue
        print(f"  {book_path(number)}", flush=True)
        make_file(
            final,
            "book",
            BOOK_RATE,
            partial(chapter_minutes, number),
            Tags(
                f"Chapter {number}: {chapter}",
                BOOK_AUTHOR,
                BOOK_TITLE,
                "Audiobook",
                number,
                len(CHAPTERS),
                book_cover,
            ),
        )
        made += 1
    m3u = library / "Favourites.m3u"
    if m3u.exists():
        present += 1
    else:
        part = m3u.with_name(".Favourites.m3u.part")
        part.write_text(m3u_text(), encoding="utf-8")
        os.replace(part, m3u)
        made += 1
    return made, present


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", nargs="?", type=Path, default=DEFAULT_LIBRARY)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        print("demo library: ffmpeg is needed (script/bootstrap installs it)", file=sys.stderr)
        return 1
    library: Path = args.library.resolve()
    library.mkdir(parents=True, exist_ok=True)
    made, present = build(library)
    if made:
        print(f"Demo library: {made} file(s) generated in {library} ({present} already there)")
    else:
        print(f"Demo library: complete ({present} files) in {library}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
