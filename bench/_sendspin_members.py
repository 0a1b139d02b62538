"""bench_sync_output.py's Sendspin members: the `sendspin` daemon and a browser's Listen here.

Each plays to its own remap sink of the bench's PulseAudio (bench/_pulse_rig.py): the daemon
through PortAudio → ALSA's pulse plugin (PULSE_SINK), headless Chromium through its own pulse
output (PULSE_SERVER / PULSE_SINK). The browser opens a page served by the bench's Home Assistant
that holds the card's `omb-listen` element (the card's bundle) with a minimal `hass` (callWS
over HA's WebSocket with the bench's token), and Playwright clicks *Listen here*.
Both join the room as temporary Sendspin members; their static offset is set with the
`rooms/set_offset` WebSocket command after a calibration phase measured from the recording.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from importlib.util import find_spec
import itertools
import os
from pathlib import Path
import signal
import sys
from typing import Any

import aiohttp
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

from custom_components.open_music_box.panel import FRONTEND_DIR

CHROMIUM = "/usr/bin/chromium"
# The package's entry point, run by this interpreter (the console script's shebang names the
# venv that installed it, which may be another checkout's).
SENDSPIN = ("-c", "import sys; from sendspin.cli import main; sys.argv[0] = 'sendspin'; main()")
# --daemon-bias-fix (bench only, to measure the share of a bug in the daemon): its sync error
# compares the DAC time of a block's first frame with its read cursor after the whole block, so
# in step it reads one block (2048 frames, 42.7 ms at 48 kHz) "ahead" and slows down by up to
# 0.2 % after every start. This adds the block back before its correction sees the error.
BIAS_FIX = (
    "from sendspin.audio import AudioPlayer as P; o = P._update_correction_schedule; "
    "P._update_correction_schedule = lambda s, e: o(s, e + ("
    "P._BLOCKSIZE * 1_000_000 // s._format.sample_rate if s._format else 0)); "
)
BIAS_FIXED = os.environ.get("BENCH_DAEMON_BIAS_FIX") == "1"
if BIAS_FIXED:
    SENDSPIN = ("-c", BIAS_FIX + SENDSPIN[1])
DAEMON_NAME = "Sendspin daemon"
BROWSER_PREFIX = "sendspin:omb-browser-"
PAGE_URL = "/omb_bench_page"
BUNDLE_URL = "/omb_bench_frontend"
JOIN_TIMEOUT_SECONDS = 60.0

PAGE = """<!doctype html><html><body><script type="module">
import "BUNDLE/card.js";
const args = new URLSearchParams(location.hash.slice(1));
let next = 1;
const pending = new Map();
const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/api/websocket");
const ready = new Promise((resolve) => {
  ws.onmessage = (event) => {
    const m = JSON.parse(event.data);
    const auth = {type: "auth", access_token: args.get("token")};
    if (m.type === "auth_required") ws.send(JSON.stringify(auth));
    else if (m.type === "auth_ok") resolve();
    else if (m.type === "result" && pending.has(m.id)) {
      const [ok, fail] = pending.get(m.id);
      pending.delete(m.id);
      m.success ? ok(m.result) : fail(m.error);
    }
  };
});
const hass = {
  language: "en",
  user: {name: "Bench"},
  callWS: async (message) => {
    await ready;
    const id = next++;
    return new Promise((ok, fail) => {
      pending.set(id, [ok, fail]);
      ws.send(JSON.stringify({...message, id}));
    });
  },
};
const listen = document.createElement("omb-listen");
listen.hass = hass;
listen.entryId = args.get("entry");
listen.roomId = args.get("room");
document.body.append(listen);
</script></body></html>
""".replace("BUNDLE", BUNDLE_URL)


class HubSocket:
    """Home Assistant's WebSocket API with the bench's token: the commands the panel sends."""

    def __init__(self, url: str, token: str) -> None:
        self._url, self._token = url, token
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)

    async def call(self, message: dict[str, Any]) -> Any:
        """Send one command; return its result (a failure raises)."""
        if self._ws is None:
            self._session = aiohttp.ClientSession()
            self._ws = await self._session.ws_connect(f"{self._url}/api/websocket")
            await self._ws.receive_json()  # auth_required
            await self._ws.send_json({"type": "auth", "access_token": self._token})
            assert (await self._ws.receive_json())["type"] == "auth_ok"
        message_id = next(self._ids)
        await self._ws.send_json({**message, "id": message_id})
        while (reply := await self._ws.receive_json())["id"] != message_id:
            pass
        if not reply["success"]:
            raise RuntimeError(f"{message['type']}: {reply['error']}")
        return reply["result"]

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
        self._ws = self._session = None


@dataclass
class SendspinMembers:
    """Which Sendspin members the bench adds, their processes, and their member ids."""

    folder: Path
    daemon: bool = True
    browser: bool = True
    member_ids: dict[str, str] = field(default_factory=dict)  # channel name -> member id
    process: asyncio.subprocess.Process | None = None
    _playwright: Any = None
    _chromium: Any = None
    _socket: HubSocket | None = None
    before: dict[str, dict[str, Any]] = field(default_factory=dict)  # calibration phase
    applied: dict[str, float] = field(default_factory=dict)  # the static offsets set (ms)
    browser_log: list[str] = field(default_factory=list)  # sendspin-js's status lines

    @property
    def names(self) -> list[str]:
        """Their channel names, in the order their sinks follow the other members'."""
        return (["sendspin"] if self.daemon else []) + (["browser"] if self.browser else [])

    async def register(self, hass: HomeAssistant) -> None:
        """Serve the page and the card's bundle (before the test server starts the app)."""
        if not self.browser:
            return
        page = self.folder / "page"
        page.mkdir(parents=True, exist_ok=True)
        (page / "listen.html").write_text(PAGE, "utf-8")
        await hass.http.async_register_static_paths(
            [
                StaticPathConfig(PAGE_URL, str(page), cache_headers=False),
                StaticPathConfig(BUNDLE_URL, str(FRONTEND_DIR), cache_headers=False),
            ]
        )

    async def start(
        self,
        url: str,
        token: str,
        room: Any,
        *,
        pulse_env: dict[str, str],
        sinks: dict[str, str],
    ) -> None:
        """Start each member on its sink and wait until it is in the room."""
        self._socket = HubSocket(url, token)
        entry_id = room.parts.entry.entry_id
        if self.daemon:
            await self._start_daemon(url, entry_id, room, pulse_env, sinks["sendspin"])
        if self.browser:
            await self._start_browser(
                (url, token, entry_id), room, pulse_env=pulse_env, sink=sinks["browser"]
            )

    async def _start_daemon(
        self, url: str, entry_id: str, room: Any, pulse_env: dict[str, str], sink: str
    ) -> None:
        assert self._socket is not None
        if find_spec("sendspin") is None:
            raise RuntimeError("the sendspin package is missing: run script/bootstrap")
        signed = await self._socket.call(
            {"type": "open_music_box/sendspin/listen_url", "config_entry_id": entry_id}
        )
        home = self.folder / "daemon"
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **pulse_env, "PULSE_SINK": sink, "HOME": str(home)}
        with (self.folder / "daemon.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *SENDSPIN,
                "daemon",
                *("--url", url.replace("http://", "ws://") + signed["path"]),
                *("--name", DAEMON_NAME, "--settings-dir", str(home / "settings")),
                *("--audio-device", "pulse", "--hardware-volume", "false", "--disable-mpris"),
                *("--log-level", "DEBUG"),  # its own sync error, once a second
                env=env,
                stdout=log,
                stderr=log,
                stdin=asyncio.subprocess.DEVNULL,
                start_new_session=True,  # stopped with its children, by its process group
            )
        server = room.parts.sendspin.server

        def connected() -> str | None:
            return next(
                (c.client_id for c in server.clients if c.name == DAEMON_NAME and c.is_connected),
                None,
            )

        client_id = await _wait_for(connected, "the sendspin daemon did not connect")
        joined = await self._socket.call(
            {
                "type": "open_music_box/sendspin/join",
                "room_id": room.room_id,
                "client_id": client_id,
            }
        )
        self.member_ids["sendspin"] = joined["member_id"]

    async def _start_browser(
        self, where: tuple[str, str, str], room: Any, *, pulse_env: dict[str, str], sink: str
    ) -> None:
        url, token, entry_id = where
        from playwright.async_api import async_playwright  # noqa: PLC0415 (only when used)

        if not await asyncio.to_thread(Path(CHROMIUM).exists):
            raise RuntimeError(f"{CHROMIUM} is missing: script/bootstrap installs it")
        self._playwright = await async_playwright().start()
        self._chromium = await self._playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"],
            ignore_default_args=["--mute-audio"],  # Playwright mutes headless browsers
            env={**os.environ, **pulse_env, "PULSE_SINK": sink},
        )
        page = await self._chromium.new_page()
        page.on("console", self._console)
        await page.goto(
            f"{url}{PAGE_URL}/listen.html#token={token}&entry={entry_id}&room={room.room_id}"
        )
        await page.get_by_role("button", name="Listen here").click()

        def joined() -> str | None:
            return next((m for m in room.coordinator.members if m.startswith(BROWSER_PREFIX)), None)

        self.member_ids["browser"] = await _wait_for(joined, "the browser did not join the room")

    async def set_offsets(self, entry_id: str, room_id: str, offsets_ms: dict[str, float]) -> None:
        """Each member's static offset, through the room's WebSocket command."""
        assert self._socket is not None
        for name, offset in offsets_ms.items():
            await self._socket.call(
                {
                    "type": "open_music_box/rooms/set_offset",
                    "entry_id": entry_id,
                    "room_id": room_id,
                    "member_id": self.member_ids[name],
                    "offset_ms": round(offset, 2),
                }
            )

    def daemon_log(self) -> str:
        """The daemon's log so far."""
        path = self.folder / "daemon.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""

    def _console(self, message: Any) -> None:
        """Keep sendspin-js's periodic status (its sync error, its output latency) and the delay
        the card fixed for the listen."""
        text = str(message.text)
        if "sync=" in text or text.startswith("Listen here:"):
            self.browser_log.append(text)
        elif "error" in text.lower():
            print(f"browser console: {text[:300]}")

    async def stop(self) -> None:
        """Stop the browser and the daemon (its whole process group); close the socket."""
        if self._chromium is not None:
            with contextlib.suppress(Exception):
                await self._chromium.close()
            self._chromium = None
        if self._playwright is not None:
            with contextlib.suppress(Exception):
                await self._playwright.stop()
            self._playwright = None
        if (process := self.process) is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        if self._socket is not None:
            await self._socket.close()
            self._socket = None


async def _wait_for(found: Any, problem: str) -> Any:
    """Poll found() until it answers something; fail with `problem` after the timeout."""
    try:
        async with asyncio.timeout(JOIN_TIMEOUT_SECONDS):
            while True:
                if (value := found()) is not None:
                    break
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise RuntimeError(problem) from None
    return value
