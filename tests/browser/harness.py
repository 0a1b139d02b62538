"""A real Home Assistant process with the demo library, and Debian's chromium, for browser tests.

Home Assistant runs as script/develop runs it (script/dev_config.py, the demo library of
script/demo_library.py, onboarding, the box and its demo room through script/dev_onboard.py), on
its own free port in a temporary config dir. Playwright drives /usr/bin/chromium; it downloads no
browser. A failing step saves its screenshot and Home Assistant's log in tests/screenshots/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
import importlib.util
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import time
from types import ModuleType
from typing import Any

from playwright.sync_api import Browser, Page
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT = 240.0  # a cold start on a loaded 2-core machine
UI_TIMEOUT_MS = 60_000
ROOM_ENTITY_ID = "media_player.living_room"


def script(name: str) -> ModuleType:
    """Import one of script/*.py (not a package) as a module."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "script" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


dev_config = script("dev_config")
dev_onboard = script("dev_onboard")
demo_library = script("demo_library")

ENTITY_ID = dev_onboard.ENTITY_ID  # the box
# The playlists of script/demo_library.py's library.
DEMO_PLAYLISTS = ("Animal Songs", "Favourites", "Lullabies", "The Sleepy Lighthouse")


@dataclass(slots=True)
class Instance:
    """A running Home Assistant with the Music Box."""

    url: str
    api: Any  # dev_onboard.Api, logged in as dev
    log: Path
    entry_id: str
    pid: int = 0  # Home Assistant's process (the leader of its own process group)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def service(self, action: str, **data: Any) -> Any:
        """Call an open_music_box action with a response, for the box."""
        path = f"/api/services/open_music_box/{action}?return_response"
        body = {"config_entry_id": self.entry_id, **data}
        return self.api.ok("POST", path, body=body)["service_response"]


def wait_for_state(api: Any, entity_id: str, timeout: float = 60) -> None:
    """Wait until `entity_id` has a state (the box reloads when a room is added)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, state = api.call("GET", f"/api/states/{entity_id}")
        if status == 200 and state["state"] != "unavailable":
            return
        time.sleep(0.5)
    pytest.fail(f"{entity_id} did not appear within {timeout:.0f} s")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def entry_id(api: Any) -> str:
    entries = api.ok("GET", f"/api/config/config_entries/entry?domain={dev_onboard.DOMAIN}")
    assert len(entries) == 1, entries
    found: str = entries[0]["entry_id"]
    return found


@contextmanager
def home_assistant(config: Path) -> Iterator[Instance]:
    """Prepare `config` as script/develop does and run Home Assistant on a free port."""
    port = free_port()
    dev_config.write_config(config, port)
    dev_config.install_requirements()
    demo_library.build(config / "media" / "open_music_box")
    log = config / "home-assistant.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "homeassistant", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    api = dev_onboard.Api(url)
    try:

        def alive() -> bool:
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-4000:]
                pytest.fail(f"Home Assistant exited ({process.returncode}):\n{tail}")
            return True

        pending = dev_onboard.wait_for_api(api, alive, START_TIMEOUT)
        try:
            line = dev_onboard.set_up(api, f"{url}/", pending)  # also adds the "Living room"
        except dev_onboard.SetupError as err:  # e.g. the service descriptions fail to load
            tail = log.read_text(errors="replace")[-6000:]
            pytest.fail(f"script/dev_onboard.py: {err}\nHome Assistant's log (end):\n{tail}")
        assert "is ready" in line, line
        wait_for_state(api, ROOM_ENTITY_ID)
        yield Instance(url, api, log, entry_id(api), process.pid)
    finally:
        dev_onboard.revoke(api)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def log_in(page: Page, instance: Instance, username: str = "", password: str = "") -> None:
    """Log in through Home Assistant's login page (as dev/dev unless told)."""
    page.goto(f"{instance.url}/")
    page.locator('input[name="username"]').fill(username or dev_onboard.USERNAME)
    page.locator('input[name="password"]').fill(password or dev_onboard.PASSWORD)
    page.locator('input[name="password"]').press("Enter")
    page.wait_for_url("**/home/**", timeout=UI_TIMEOUT_MS)


@contextmanager
def french_page(browser: Browser, instance: Instance) -> Iterator[Page]:
    """A page of its own, logged in as dev, with Home Assistant's language set to French."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        log_in(page, instance)
        page.evaluate("() => localStorage.setItem('selectedLanguage', JSON.stringify('fr'))")
        yield page
    finally:
        context.close()


def step(page: Page, instance: Instance, name: str, check: Callable[[], None]) -> None:
    """Run one check; on failure keep the screenshot and the log, and say where they are."""
    try:
        check()
    except Exception as err:
        SCREENSHOTS.mkdir(exist_ok=True)
        shot = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=shot, full_page=True)
        shutil.copyfile(instance.log, SCREENSHOTS / "home-assistant.log")
        pytest.fail(
            f"{name}: {err}\nscreenshot: {shot}\nHome Assistant's log (end):\n{instance.log_tail()}"
        )
