"""A loopback HTTP server of generated audio, pages and feeds; running and waiting for imports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
import json
import os
from pathlib import Path
import subprocess
import time
from typing import Any

from aiohttp import web
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.library import (
    folder_playlist_id,
    m3u_playlist_id,
)

from ..audio import make_track, write_wav

ANIMALS = folder_playlist_id("Animals")


MIX = m3u_playlist_id("Mix.m3u")


TIMEOUT = 60  # seconds; only a guard against a hang, never a measured figure


FINISHED = ("completed", "failed", "cancelled")


CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".flac": "audio/flac",
    ".wma": "audio/x-ms-wma",
    ".wav": "audio/wav",
    ".webm": "audio/webm",
    ".txt": "text/plain",
}


LONG_TITLE = "x" * 100


def _page(title: str, body: str, head: str = "") -> str:
    return f"<html><head><title>{title}</title>{head}</head><body>{body}</body></html>"


def _audio_tags(*names: str) -> str:
    return "".join(f'<audio controls src="/files/{name}"></audio>' for name in names)


class Server:
    """Generated audio and pages over loopback HTTP; slow routes trickle until `gate` is set."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.gate = asyncio.Event()  # slow downloads go fast once set
        self.port = 0
        self.pages: dict[str, str] = {}
        app = web.Application()
        app.router.add_get("/files/{name}", self._file)
        app.router.add_get("/slow/{name}", self._slow)
        app.router.add_get("/short.mp3", self._short)
        app.router.add_get("/chunked/{name}", self._chunked)
        app.router.add_get("/disposition", self._disposition)
        app.router.add_get("/pages/{name}", self._page)
        app.router.add_get("/{tail:.*}", self._anything)  # last: any other path is an mp3
        self.runner = web.AppRunner(app)

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]
        story = json.dumps(
            {
                "@context": "https://schema.org",
                "@type": "AudioObject",
                "name": "Story",
                "contentUrl": self.url("files/story.mp3"),
                "encodingFormat": "audio/mpeg",
                "duration": "PT6S",
                "hasPart": [
                    {"@type": "Clip", "name": "Part one", "startOffset": 0, "endOffset": 3},
                    {"@type": "Clip", "name": "Part two", "startOffset": 3, "endOffset": 6},
                ],
            }
        )
        self.pages = {
            "two.html": _page("Two songs", _audio_tags("song.mp3", "tagged.mp3")),
            "formats.html": _page(
                "Formats", _audio_tags("f.m4a", "f.ogg", "f.flac", "f.wma", "f.wav")
            ),
            "long.html": _page("Long", _audio_tags("song.mp3", "long.mp3")),
            "story.html": _page(
                "Story page", "", f'<script type="application/ld+json">{story}</script>'
            ),
            "nothing.html": _page("Nothing here", "<p>No audio on this page.</p>"),
            "file-link.html": _page("Local", '<audio src="file:///etc/hostname"></audio>'),
            "ftp-link.html": _page("Ftp", '<audio src="ftp://127.0.0.1:9/song.mp3"></audio>'),
            "empty.rss": '<?xml version="1.0"?><rss version="2.0"><channel><title>Empty'
            "</title></channel></rss>",
            "feed.rss": '<?xml version="1.0"?><rss version="2.0"><channel><title>Podcast</title>'
            + "".join(
                f"<item><title>Episode {n}</title><guid>e{n}</guid><enclosure url="
                f'"{self.url(f"files/{name}")}" type="audio/mpeg" length="1"/></item>'
                for n, name in ((1, "song.mp3"), (2, "tagged.mp3"))
            )
            + "</channel></rss>",
        }

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    @staticmethod
    def _type(name: str) -> str:
        return CONTENT_TYPES[os.path.splitext(name)[1]]

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.files:
            raise web.HTTPNotFound
        return web.Response(body=self.files[name], content_type=self._type(name))

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text=self.pages[request.match_info["name"]], content_type="text/html")

    async def _slow(self, request: web.Request) -> web.StreamResponse:
        """Send a file in `chunks` pieces `delay` s apart (no delay once the gate is open)."""
        body = self.files[request.match_info["name"]]
        chunks = int(request.query.get("chunks", "2000"))
        delay = float(request.query.get("delay", "0.02"))
        response = web.StreamResponse(
            headers={
                "Content-Type": self._type(request.match_info["name"]),
                "Content-Length": str(len(body)),
            }
        )
        await response.prepare(request)
        size = -(-len(body) // chunks)
        try:
            for start in range(0, len(body), size):
                await response.write(body[start : start + size])
                if not self.gate.is_set():
                    await asyncio.sleep(delay)
        except ConnectionError:
            pass  # the import was cancelled: yt-dlp hung up
        return response

    async def _chunked(self, request: web.Request) -> web.StreamResponse:
        """No Content-Length: the size is only known by counting."""
        body = self.files[request.match_info["name"]]
        response = web.StreamResponse(headers={"Content-Type": "audio/wav"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, len(body), 65536):
                await response.write(body[start : start + 65536])
        except ConnectionError:
            pass
        return response

    async def _short(self, request: web.Request) -> web.StreamResponse:
        """Promise 100 kB, send 5 kB and hang up."""
        response = web.StreamResponse(
            headers={"Content-Type": "audio/mpeg", "Content-Length": "100000"}
        )
        await response.prepare(request)
        await response.write(self.files["song.mp3"][:5000])
        assert request.transport is not None
        request.transport.close()
        return response

    async def _disposition(self, request: web.Request) -> web.Response:
        """A file whose Content-Disposition names a path that climbs out of any folder."""
        name = request.query["name"]
        return web.Response(
            body=self.files["song.mp3"],
            content_type="audio/mpeg",
            headers={"Content-Disposition": f'attachment; filename="../../../{name}"'},
        )

    async def _anything(self, request: web.Request) -> web.Response:
        return web.Response(body=self.files["song.mp3"], content_type="audio/mpeg")


def _encode_webm(path: Path) -> bytes:
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"),
            *("sine=frequency=440:duration=1", "-c:a", "libopus", str(path)),
        ],
        check=True,
        capture_output=True,
    )
    return path.read_bytes()


@pytest.fixture(scope="module")
def audio_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Generate every served file once (ffmpeg encodes; mutagen tags)."""
    folder = tmp_path_factory.mktemp("served")
    made = {
        "song.mp3": make_track(folder / "song.mp3", 3.0),
        "tagged.mp3": make_track(
            folder / "tagged.mp3", 2.0, title="Frère Jacques", artist="Kids", album="Rounds"
        ),
        "long.mp3": make_track(folder / "long.mp3", 1.0, title=LONG_TITLE),
        "story.mp3": make_track(folder / "story.mp3", 6.0),
        "slow.wav": write_wav(folder / "slow.wav", 10.0),  # 160 kB
        "big.wav": write_wav(folder / "big.wav", 80.0),  # 1.28 MB: above a 1 MB limit
        **{f"f{ext}": make_track(folder / f"f{ext}", 1.0) for ext in (".m4a", ".ogg", ".flac")},
        "f.wma": make_track(folder / "f.wma", 1.0),
        "f.wav": write_wav(folder / "f.wav", 1.0),
        "empty.wav": write_wav(folder / "empty.wav", 0.0),  # a valid WAV of no sound at all
    }
    files = {name: path.read_bytes() for name, path in made.items()}
    files["song.webm"] = _encode_webm(folder / "song.webm")
    files["notes.txt"] = b"Shopping list: milk, bread. Not audio at all.\n"
    files["notes.mp3"] = files["notes.txt"]  # text that claims to be an mp3
    files["notes.webm"] = files["notes.txt"]  # text that claims to be WebM audio
    return files


@pytest.fixture
async def server(socket_enabled: None, audio_files: dict[str, bytes]) -> AsyncGenerator[Server]:
    """The loopback server (pytest-socket allows loopback only with socket_enabled)."""
    srv = Server(audio_files)
    await srv.start()
    yield srv
    srv.gate.set()  # let trickling responses end, so the runner stops at once
    await srv.runner.cleanup()


# Helpers -----------------------------------------------------------------


def tree(root: Path) -> set[str]:
    """Every file and folder under root (hidden ones too), relative."""
    return {str(path.relative_to(root)) for path in root.rglob("*")}


async def start(hass: HomeAssistant, entry: MockConfigEntry, url: str, **target: Any) -> Any:
    """Run the import action; return its response (the job)."""
    return await hass.services.async_call(
        DOMAIN,
        "import_url",
        {"config_entry_id": entry.entry_id, "url": url, **target},
        blocking=True,
        return_response=True,
    )


def job_of(entry: MockConfigEntry, job_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        job for job in entry.runtime_data.importer.jobs() if job["job_id"] == job_id
    )
    return found


async def wait_for(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(TIMEOUT):
        while not condition():  # noqa: ASYNC110 - polls files and jobs of worker threads
            await asyncio.sleep(0.02)


async def finished(entry: MockConfigEntry, job_id: str) -> dict[str, Any]:
    """Wait for a job to end; return it."""
    await wait_for(lambda: job_of(entry, job_id)["state"] in FINISHED)
    return job_of(entry, job_id)


async def run(
    hass: HomeAssistant, entry: MockConfigEntry, url: str, **target: Any
) -> dict[str, Any]:
    """Import and wait for the end."""
    job = await start(hass, entry, url, **target)
    return await finished(entry, job["job_id"])


class Recorder:
    """The box's hub events, each with the monotonic time it was sent."""

    def __init__(self, entry: MockConfigEntry) -> None:
        self.events: list[tuple[float, dict[str, Any]]] = []
        hub = entry.runtime_data.events
        self.unsubscribe = hub.subscribe(self._add, hub.seq)

    def _add(self, envelope: dict[str, Any]) -> None:
        self.events.append((time.monotonic(), envelope))

    def of(self, job_id: str) -> list[dict[str, Any]]:
        """The import events of one job, in order."""
        return [
            e
            for _t, e in self.events
            if e["type"].startswith("import_") and e["data"]["job_id"] == job_id
        ]


def expect_failed(job: dict[str, Any], key: str) -> None:
    assert job["state"] == "failed", job
    assert job["error"] == key, job
    assert job["message"], job
    assert job["message"] != key, job  # the translated text


def track_titles(entry: MockConfigEntry, playlist_id: str) -> list[str]:
    catalog = entry.runtime_data.catalog
    return [t.title for t in catalog.tracks_of(catalog.require_playlist(playlist_id))]


def no_ffmpeg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make this process's PATH one without ffmpeg: yt-dlp and our check both look there."""
    empty = tmp_path / "no-ffmpeg-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
