"""Tests of the library scanner with real files (wave, ffmpeg, mutagen)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
import logging
import os
from pathlib import Path
import random
import shutil
import tempfile

from mutagen.asf import ASF, ASFByteArrayAttribute
from mutagen.flac import FLAC
from mutagen.id3 import APIC
from mutagen.wave import WAVE
import pytest

from custom_components.open_music_box.library import (
    FileMeta,
    LibraryMissingError,
    MetadataCache,
    folder_playlist_id,
    m3u_playlist_id,
    natural_key,
    read_cover,
    read_metadata,
    scan_library,
    track_id,
    track_key,
)
from custom_components.open_music_box.models import LibraryScan, Playlist, PlaylistKind, Track

from .audio import PNG, ffmpeg_available, make_track, tag, tiny_png, write_wav

needs_ffmpeg = pytest.mark.skipif(not ffmpeg_available(), reason="the ffmpeg CLI is not installed")


def allow(*dirs: Path) -> Callable[[str], bool]:
    """is_allowed like hass.config.is_allowed_path, for the given real folders."""
    reals = [os.path.realpath(d) for d in dirs]
    return lambda path: any(path == d or path.startswith(d + os.sep) for d in reals)


def deny(_path: str) -> bool:
    return False


def scan(
    root: Path, is_allowed: Callable[[str], bool] = deny, cache: MetadataCache | None = None
) -> LibraryScan:
    return scan_library(root, is_allowed, cache)


def by_name(result: LibraryScan, name: str) -> Playlist:
    matches = [p for p in result.playlists.values() if p.name == name]
    assert len(matches) == 1, f"{name!r} in {[p.name for p in result.playlists.values()]}"
    return matches[0]


def titles(result: LibraryScan, playlist: Playlist) -> list[str]:
    return [result.tracks[tid].title for tid in playlist.track_ids]


def track_at(result: LibraryScan, path: Path) -> Track:
    real = os.path.realpath(path)
    matches = [t for t in result.tracks.values() if t.path == real]
    assert len(matches) == 1, real
    return matches[0]


def reasons(result: LibraryScan) -> set[tuple[str, str, str | None]]:
    return {(Path(s.path).name, s.reason, s.playlist) for s in result.skipped}


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    root = tmp_path / "Music"
    root.mkdir()
    return root


# --- Formats, tags, covers ----------------------------------------------------------------------


@needs_ffmpeg
@pytest.mark.parametrize("ext", ["mp3", "flac", "ogg", "opus", "m4a", "wav", "wma", "aiff"])
def test_each_format_tags_and_cover(lib: Path, ext: str) -> None:
    cover = tiny_png(3, 1, (1, 2, 3))
    tagged = make_track(
        lib / "Album" / f"tagged.{ext}",
        1.5,
        title="Le Titre",
        artist="Artiste",
        album="Album X",
        track="3/12",
        disc="2/2",
        cover=cover,
    )
    plain = make_track(lib / "Album" / f"plain song.{ext}", 0.5)

    result = scan(lib)

    track = track_at(result, tagged)
    assert (track.title, track.artist, track.album, track.track_number) == (
        "Le Titre",
        "Artiste",
        "Album X",
        3,
    )
    assert track.duration == pytest.approx(1.5, abs=0.2)
    assert track.has_cover
    assert read_cover(str(tagged)) == (cover, "image/png")
    assert read_metadata(str(tagged)).disc_number == 2

    untagged = track_at(result, plain)
    assert (untagged.title, untagged.artist, untagged.track_number) == ("plain song", None, None)
    assert untagged.duration == pytest.approx(0.5, abs=0.2)
    assert not untagged.has_cover
    assert read_cover(str(plain)) is None
    assert result.skipped == ()


def test_read_cover_without_a_usable_file(lib: Path) -> None:
    (lib / "noise.mka").write_bytes(b"not matroska at all")
    (lib / "bad.flac").write_bytes(b"nope")
    assert read_cover(str(lib / "missing.mp3")) is None
    assert read_cover(str(lib / "noise.mka")) is None
    assert read_cover(str(lib / "bad.flac")) is None


def test_multi_value_tags_and_odd_numbers(lib: Path) -> None:
    path = write_wav(lib / "a.wav", 0.2)
    tag(path, artist="One", track="07", disc="x")
    meta = read_metadata(str(path))
    assert meta == FileMeta(
        title=None, artist="One", track_number=7, disc_number=None, duration=meta.duration
    )
    tag(path, track="0/10")
    assert read_metadata(str(path)).track_number is None


def test_cover_choice_and_mime(lib: Path) -> None:
    path = write_wav(lib / "a.wav", 0.1)
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 20

    def set_pictures(*pictures: tuple[int, str, bytes]) -> tuple[bytes, str] | None:
        audio = WAVE(path)
        if audio.tags is None:
            audio.add_tags()
        audio.tags.delall("APIC")
        for kind, mime, data in pictures:
            audio.tags.add(APIC(encoding=3, mime=mime, type=kind, desc=str(kind), data=data))
        audio.save()
        return read_cover(str(path))

    # The front cover wins over other pictures; magic bytes win over the declared type.
    assert set_pictures((4, "image/png", PNG), (3, "image/png", jpeg)) == (jpeg, "image/jpeg")
    assert set_pictures((8, "image/png", b"GIF89a...")) == (b"GIF89a...", "image/gif")
    webp = b"RIFF\x00\x00\x00\x00WEBPVP8 "
    assert set_pictures((3, "", webp)) == (webp, "image/webp")
    assert set_pictures((3, "image/jpg", b"??")) == (b"??", "image/jpeg")
    assert set_pictures((3, "image/bmp", b"BM")) == (b"BM", "image/bmp")
    assert set_pictures((3, "PNG", b"??")) == (b"??", "image/png")  # ID3v2.2 style
    assert set_pictures((3, "-->", b"http://x")) == (b"http://x", "application/octet-stream")
    # An empty picture is no cover.
    assert set_pictures((3, "image/png", b"")) is None
    assert not read_metadata(str(path)).has_cover


@needs_ffmpeg
def test_damaged_pictures_mean_no_cover(lib: Path) -> None:
    flac = make_track(lib / "a.flac", 0.2, title="A")
    audio = FLAC(flac)
    audio["metadata_block_picture"] = ["not base64!", "AAAA"]
    audio.save()
    assert read_cover(str(flac)) is None
    assert read_metadata(str(flac)).title == "A"

    wma = make_track(lib / "b.wma", 0.2, title="B")
    asf = ASF(wma)
    asf["WM/Picture"] = [
        ASFByteArrayAttribute(b"\x03"),  # too short
        ASFByteArrayAttribute(b"\x03" + (100).to_bytes(4, "little") + b"\0\0\0\0" + PNG),
    ]
    asf.save()
    assert read_cover(str(wma)) is None
    assert not read_metadata(str(wma)).has_cover


@needs_ffmpeg
def test_damaged_tags_are_corrupt(lib: Path) -> None:
    # mutagen raises KeyError (not its own error) for an ASF attribute of an unknown type.
    wma = make_track(lib / "Album" / "bad.wma", 0.2, album="Album")
    write_wav(lib / "Album" / "good.wav", 0.1)
    data = bytearray(wma.read_bytes())
    name = "WM/AlbumTitle\0".encode("utf-16-le")
    at = data.index(name) + len(name)
    data[at : at + 2] = (116).to_bytes(2, "little")
    wma.write_bytes(bytes(data))

    assert read_metadata(str(wma)).corrupt
    assert read_cover(str(wma)) is None
    result = scan(lib)
    assert titles(result, by_name(result, "Album")) == ["good"]
    assert reasons(result) == {("bad.wma", "corrupt", "Album")}


# --- Folder playlists ---------------------------------------------------------------------------


def test_folders_become_playlists(lib: Path) -> None:
    write_wav(lib / "root song.wav", 0.1)
    write_wav(lib / "Artist" / "Album" / "01.wav", 0.1)
    write_wav(lib / "Artist" / "Album" / "Deep" / "Deeper" / "x.wav", 0.1)
    write_wav(lib / "A" / "CD1" / "a.wav", 0.1)
    write_wav(lib / "B" / "CD1" / "b.wav", 0.1)
    (lib / "Artist" / "notes.txt").write_text("not audio")
    (lib / "Artist" / "Album" / "cover.jpg").write_bytes(PNG)
    write_wav(lib / ".hidden" / "secret.wav", 0.1)
    write_wav(lib / "Artist" / "Album" / ".dotfile.wav", 0.1)

    result = scan(lib)

    names = [p.name for p in result.playlists.values()]
    assert names == ["Music", "A / CD1", "Album", "Deeper", "B / CD1"]
    assert all(p.kind is PlaylistKind.FOLDER and p.read_only for p in result.playlists.values())
    assert titles(result, by_name(result, "Music")) == ["root song"]
    assert titles(result, by_name(result, "Album")) == ["01"]
    assert by_name(result, "Album").id == folder_playlist_id("Artist/Album")
    assert by_name(result, "Music").id == folder_playlist_id("")
    assert by_name(result, "A / CD1").id == folder_playlist_id("A/CD1")
    assert len(result.tracks) == 5
    assert not any("secret" in t.path or "dotfile" in t.path for t in result.tracks.values())
    assert result.skipped == ()


def test_natural_sort_and_track_numbers(lib: Path) -> None:
    for name in ("10 ten.wav", "2 two.wav", "1 one.wav", "B.wav", "a.wav"):
        write_wav(lib / "Plain" / name, 0.1)
    tagged = lib / "Tagged"
    tag(write_wav(tagged / "zz.wav", 0.1), title="d1t2", track=2, disc=1)
    tag(write_wav(tagged / "yy.wav", 0.1), title="d2t1", track="1/9", disc="2/2")
    tag(write_wav(tagged / "xx.wav", 0.1), title="d1t1", track="1/9")  # no disc: disc 1
    tag(write_wav(tagged / "ww.wav", 0.1), title="d1t10", track=10, disc=1)
    write_wav(tagged / "3 untagged.wav", 0.1)
    write_wav(tagged / "20 untagged.wav", 0.1)

    result = scan(lib)

    assert titles(result, by_name(result, "Plain")) == ["1 one", "2 two", "10 ten", "a", "B"]
    assert titles(result, by_name(result, "Tagged")) == [
        "d1t1",
        "d1t2",
        "d1t10",
        "d2t1",
        "3 untagged",
        "20 untagged",
    ]
    assert natural_key("Track 2") < natural_key("track 10")


def test_symlinks_inside_and_loops(lib: Path) -> None:
    write_wav(lib / "Album" / "01.wav", 0.1)
    (lib / "Album" / "again.wav").symlink_to(lib / "Album" / "01.wav")
    (lib / "Album" / "loop").symlink_to(lib)
    (lib / "Favourites").symlink_to(lib / "Album")

    result = scan(lib)

    # One real file: one track, listed once; the symlinked folder is the same folder.
    assert len(result.tracks) == 1
    assert [p.name for p in result.playlists.values()] == ["Album"]
    assert len(by_name(result, "Album").track_ids) == 1


def test_symlinked_folder_outside_root(lib: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "Podcasts"
    write_wav(outside / "ep1.wav", 0.1)
    (lib / "Podcasts").symlink_to(outside)
    (lib / "escape.wav").symlink_to(outside / "ep1.wav")

    denied = scan(lib)
    assert denied.playlists == {}
    assert reasons(denied) == {
        ("Podcasts", "outside_allowed", None),
        ("escape.wav", "outside_allowed", "Music"),
    }

    allowed = scan(lib, allow(outside))
    podcast = by_name(allowed, "Podcasts")
    assert titles(allowed, podcast) == ["ep1"]
    # Outside the root, the id comes from the absolute real path.
    assert podcast.track_ids[0] == track_id(os.path.realpath(outside / "ep1.wav"))
    assert by_name(allowed, "Music").track_ids == podcast.track_ids


# --- m3u playlists ------------------------------------------------------------------------------


def test_m3u_entries(lib: Path, tmp_path: Path) -> None:
    write_wav(lib / "Album" / "01 first.wav", 0.1)
    tag(write_wav(lib / "Album" / "02.wav", 0.1), title="Second")
    write_wav(lib / "Other" / "my song.wav", 0.1)
    write_wav(lib / "Other" / "no title.wav", 0.1)
    (lib / "Other" / "readme.txt").write_text("x")
    playlists = lib / "Playlists"
    playlists.mkdir()
    absolute = lib / "Album" / "02.wav"
    lines = [
        "#EXTM3U",
        "# a comment",
        "../Album/01 first.wav",
        "",
        "#EXTINF:12,Ignored For A Tagged File",
        str(absolute),
        "file://" + str(lib / "Other" / "my%20song.wav"),
        "#EXTINF:-1,Radio One",
        "http://radio.invalid/stream",
        "https://example.invalid/song.mp3",
        "#EXTINF:5,Radio One Again",
        "http://radio.invalid/stream",
        '#EXTINF:95.5 tvg-id="x",From Extinf',
        "../Other/no title.wav",
        "../Other/gone.wav",
        "../Other/readme.txt",
        "../Album",
        "..\\Album\\01 first.wav",
        "rtsp://camera.invalid/live",
        "HTTP://Radio.invalid/Upper",
        "file:" + str(lib / "Other" / "my song.wav"),
    ]
    (playlists / "Mix.m3u").write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")

    result = scan(lib)

    mix = by_name(result, "Mix")
    assert mix.kind is PlaylistKind.M3U
    assert mix.id == m3u_playlist_id("Playlists/Mix.m3u")
    assert titles(result, mix) == [
        "01 first",
        "Second",
        "my song",
        "Radio One",
        "https://example.invalid/song.mp3",
        "Radio One",  # one URL, one track: the first title stays
        "From Extinf",
        "01 first",
        "http://Radio.invalid/Upper",
        "my song",
    ]
    radio = result.tracks[mix.track_ids[3]]
    assert radio.is_url
    assert radio.path == "http://radio.invalid/stream"
    assert radio.id == track_id("http://radio.invalid/stream")
    assert radio.duration is None
    assert mix.track_ids[3] == mix.track_ids[5]
    # The file's own duration wins over #EXTINF's; its missing title tag does not.
    assert result.tracks[mix.track_ids[6]].duration == pytest.approx(0.1, abs=0.05)
    assert titles(result, by_name(result, "Other")) == ["my song", "From Extinf"]
    # The same files seen by the folder scan are the same tracks.
    assert mix.track_ids[0] == by_name(result, "Album").track_ids[0]
    assert mix.track_ids[0] == mix.track_ids[7]
    assert result.tracks[mix.track_ids[8]].is_url
    assert mix.track_ids[2] == mix.track_ids[9]
    assert reasons(result) == {
        ("gone.wav", "missing", "Mix"),
        ("readme.txt", "not_audio", "Mix"),
        ("Album", "not_audio", "Mix"),
        ("live", "unsupported", "Mix"),
    }


def test_extinf_fills_title_and_duration_of_a_file_only_in_the_m3u(lib: Path) -> None:
    # A file met first through the m3u (hidden folder: no folder playlist) without tags.
    hidden = lib / ".stash"
    hidden.mkdir()
    (hidden / "clip.mka").write_bytes(b"matroska? mutagen cannot tell")
    (lib / "list.m3u8").write_text("#EXTINF:42,Named Clip\n.stash/clip.mka\n", encoding="utf-8")

    result = scan(lib)

    clip = result.tracks[by_name(result, "list").track_ids[0]]
    assert (clip.title, clip.duration) == ("Named Clip", 42.0)


def test_m3u_encodings(lib: Path) -> None:
    write_wav(lib / "Chansons" / "Été.wav", 0.1)
    write_wav(lib / "Chansons" / "Noël.wav", 0.1)
    (lib / "latin.m3u").write_bytes("#EXTINF:1,Été latin\nChansons/Été.wav\n".encode("latin-1"))
    (lib / "utf8.m3u").write_bytes("Chansons/Noël.wav\n".encode())
    (lib / "eight.m3u8").write_bytes(b"\xef\xbb\xbf" + "Chansons/Été.wav\n".encode())
    # An m3u8 with a stray latin-1 byte: the entry is damaged, not the whole playlist.
    (lib / "broken.m3u8").write_bytes(b"Chansons/No\xebl.wav\nChansons/\xc3\x89t\xc3\xa9.wav\n")

    result = scan(lib)

    ete = track_at(result, lib / "Chansons" / "Été.wav").id
    noel = track_at(result, lib / "Chansons" / "Noël.wav").id
    assert by_name(result, "latin").track_ids == (ete,)
    assert by_name(result, "utf8").track_ids == (noel,)
    assert by_name(result, "eight").track_ids == (ete,)
    assert by_name(result, "broken").track_ids == (ete,)
    assert [s.reason for s in result.skipped] == ["missing"]


def test_m3u_outside_root(lib: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write_wav(outside / "secret.wav", 0.1)
    shared = tmp_path / "shared"
    write_wav(shared / "ok.wav", 0.1)
    (lib / "trick").symlink_to(outside)
    entries = [
        "../outside/secret.wav",  # ../ escape
        str(outside / "secret.wav"),  # absolute path
        "trick/secret.wav",  # symlink escape
        "../outside/does-not-exist.wav",  # outside and missing: still outside_allowed
        str(shared / "ok.wav"),  # outside but allowed
        "file://" + str(shared / "ok.wav"),
    ]
    (lib / "Escape.m3u").write_text("\n".join(entries) + "\n")

    result = scan(lib, allow(shared))

    playlist = by_name(result, "Escape")
    ok_id = track_id(os.path.realpath(shared / "ok.wav"))
    assert playlist.track_ids == (ok_id, ok_id)
    assert result.tracks[ok_id].path == os.path.realpath(shared / "ok.wav")
    assert [(Path(s.path).name, s.reason) for s in result.skipped if s.playlist == "Escape"] == [
        ("secret.wav", "outside_allowed"),
        ("secret.wav", "outside_allowed"),
        ("secret.wav", "outside_allowed"),
        ("does-not-exist.wav", "outside_allowed"),
    ]
    assert not any("secret" in t.path for t in result.tracks.values())


def test_m3u_names_and_duplicates(lib: Path) -> None:
    write_wav(lib / "song.wav", 0.1)
    (lib / "a").mkdir()
    (lib / "b").mkdir()
    (lib / "a" / "mix.m3u").write_text("../song.wav\n../song.wav\n")
    (lib / "b" / "mix.m3u8").write_text("../song.wav\n")
    (lib / "Solo.M3U").write_text("song.wav\n")

    result = scan(lib)

    song = track_at(result, lib / "song.wav").id
    assert by_name(result, "a / mix").track_ids == (song, song)  # repeats are kept
    assert by_name(result, "b / mix").track_ids == (song,)
    assert by_name(result, "Solo").track_ids == (song,)
    assert len(result.tracks) == 1


# --- Damaged and unreadable files ---------------------------------------------------------------


def test_corrupt_files_are_skipped(lib: Path, caplog: pytest.LogCaptureFixture) -> None:
    rnd = random.Random(7)
    write_wav(lib / "Album" / "good.wav", 0.1)
    (lib / "Album" / "bad.mp3").write_bytes(rnd.randbytes(4096))
    (lib / "Album" / "bad.flac").write_bytes(rnd.randbytes(4096))
    (lib / "Album" / "bad.wav").write_bytes(rnd.randbytes(512))
    (lib / "Album" / "unknown.mka").write_bytes(rnd.randbytes(512))  # mutagen: no idea
    (lib / "AllBad" / "x.mp3").parent.mkdir()
    (lib / "AllBad" / "x.mp3").write_bytes(rnd.randbytes(1024))
    (lib / "list.m3u").write_text("Album/bad.flac\nAlbum/good.wav\n")

    with caplog.at_level(logging.WARNING):
        result = scan(lib)

    assert titles(result, by_name(result, "Album")) == ["good", "unknown"]
    assert "AllBad" not in [p.name for p in result.playlists.values()]
    assert titles(result, by_name(result, "list")) == ["good"]
    assert reasons(result) == {
        ("bad.mp3", "corrupt", "Album"),
        ("bad.flac", "corrupt", "Album"),
        ("bad.wav", "corrupt", "Album"),
        ("x.mp3", "corrupt", "AllBad"),
        ("bad.flac", "corrupt", "list"),
    }
    assert "bad.mp3 (corrupt)" in caplog.text


def test_unreadable_entries(lib: Path) -> None:
    write_wav(lib / "Album" / "good.wav", 0.1)
    (lib / "Album" / "dangling.mp3").symlink_to(lib / "nowhere.mp3")
    os.mkfifo(lib / "Album" / "pipe.wav")  # would block a plain open() forever
    os.mkfifo(lib / "Pipe.m3u")
    (lib / "list.m3u").write_text("Album/pipe.wav\nAlbum/good.wav\n")

    result = scan(lib)

    assert titles(result, by_name(result, "Album")) == ["good"]
    assert titles(result, by_name(result, "list")) == ["good"]
    assert reasons(result) == {
        ("dangling.mp3", "unreadable", "Album"),
        ("pipe.wav", "unreadable", "Album"),
        ("pipe.wav", "unreadable", "list"),
        ("Pipe.m3u", "unreadable", "Pipe"),
    }


@contextmanager
def without_root() -> Iterator[None]:
    """Check permissions for real: as root, act as "nobody" (effective uid) for a moment."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder anyone can enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="omb-lib-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def test_unreadable_by_permissions(open_dir: Path) -> None:
    lib = open_dir / "Music"
    write_wav(lib / "Album" / "fine.wav", 0.1)
    locked = write_wav(lib / "Album" / "locked.wav", 0.1)
    write_wav(lib / "Locked" / "inside.wav", 0.1)
    (lib / "list.m3u").write_text("Album/locked.wav\nAlbum/fine.wav\n")
    locked.chmod(0)
    (lib / "Locked").chmod(0)
    try:
        with without_root():
            result = scan(lib)
    finally:
        (lib / "Locked").chmod(0o755)
    assert titles(result, by_name(result, "Album")) == ["fine"]
    assert titles(result, by_name(result, "list")) == ["fine"]
    assert reasons(result) == {
        ("locked.wav", "unreadable", "Album"),
        ("locked.wav", "unreadable", "list"),
        ("Locked", "unreadable", None),
    }

    lib.chmod(0)  # the root itself cannot be listed
    try:
        with without_root(), pytest.raises(LibraryMissingError):
            scan(lib)
    finally:
        lib.chmod(0o755)


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux /proc")
def test_read_error_is_unreadable(lib: Path) -> None:
    # Reading /proc/self/mem at offset 0 fails with EIO: a real I/O error from the kernel,
    # like a failing disk. mutagen wraps it in its own error; it must not count as "corrupt".
    (lib / "failing disk.mp3").symlink_to("/proc/self/mem")
    write_wav(lib / "ok.wav", 0.1)
    result = scan(lib, allow(Path("/proc")))
    assert titles(result, by_name(result, "Music")) == ["ok"]
    assert [(s.reason, s.playlist) for s in result.skipped] == [("unreadable", "Music")]
    with pytest.raises(FileNotFoundError):
        read_metadata(str(lib / "missing.wav"))


def test_symlink_to_itself(lib: Path) -> None:
    (lib / "self.mp3").symlink_to("self.mp3")  # ELOOP on every stat
    write_wav(lib / "ok.wav", 0.1)
    result = scan(lib)
    assert titles(result, by_name(result, "Music")) == ["ok"]
    assert reasons(result) == {("self.mp3", "unreadable", "Music")}


# --- Root, ids, cache ---------------------------------------------------------------------------


def test_missing_root(tmp_path: Path) -> None:
    root = tmp_path / "Music"
    write_wav(root / "a.wav", 0.1)
    assert len(scan(root).tracks) == 1
    shutil.rmtree(root)
    with pytest.raises(LibraryMissingError):
        scan(root)
    root.write_text("a file, not a folder")
    with pytest.raises(LibraryMissingError):
        scan(root)


def test_ids_are_stable(lib: Path, tmp_path: Path) -> None:
    write_wav(lib / "Album" / "01.wav", 0.1)
    write_wav(lib / "Album" / "Sub" / "02.wav", 0.1)
    (lib / "Album" / "fav.m3u").write_text("01.wav\nhttp://radio.invalid/x\n")

    first = scan(lib)
    second = scan(lib)
    assert first == second
    assert track_at(first, lib / "Album" / "Sub" / "02.wav").id == track_id("Album/Sub/02.wav")
    assert track_key(os.path.realpath(lib / "Album" / "01.wav"), os.path.realpath(lib)) == (
        "Album/01.wav"
    )

    # Moving the whole library keeps every id: they hang on paths relative to the root.
    moved = tmp_path / "Moved"
    lib.rename(moved)
    third = scan(moved)
    assert set(third.tracks) == set(first.tracks)
    assert set(third.playlists) == set(first.playlists)


def test_root_through_a_symlink(lib: Path, tmp_path: Path) -> None:
    write_wav(lib / "Album" / "01.wav", 0.1)
    (lib / "list.m3u").write_text("Album/01.wav\n")
    link = tmp_path / "link"
    link.symlink_to(lib)
    direct, via_link = scan(lib), scan(link)
    assert direct == via_link


def test_metadata_cache(lib: Path) -> None:
    for i in range(5):
        tag(write_wav(lib / "Album" / f"{i}.wav", 0.1), title=f"Song {i}")
    (lib / "Album" / "junk.mp3").write_bytes(b"\x00" * 300)
    cache = MetadataCache()

    cold = scan(lib, cache=cache)
    assert (cache.hits, cache.misses, len(cache)) == (0, 6, 6)

    warm = scan(lib, cache=cache)
    assert warm == cold
    assert (cache.hits, cache.misses) == (6, 6)

    # A changed file is read again, a removed one is forgotten.
    tag(lib / "Album" / "0.wav", title="Renamed")
    (lib / "Album" / "4.wav").unlink()
    third = scan(lib, cache=cache)
    assert (cache.hits, cache.misses, len(cache)) == (6 + 4, 6 + 1, 5)
    assert titles(third, by_name(third, "Album")) == ["Renamed", "Song 1", "Song 2", "Song 3"]
