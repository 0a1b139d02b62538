"""First contact: the UI in a real browser, against Home Assistant started as script/develop does.

A real Home Assistant process (its own free port and a temporary config dir, prepared by
script/dev_config.py, the demo library of script/demo_library.py, onboarded and given the box by
script/dev_onboard.py), and Debian's chromium driven by Playwright (which downloads no browser).
On failure the page's screenshot and Home Assistant's log go to tests/screenshots/ (git-ignored).
Skip it with `-m "not browser"`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
import importlib.util
from pathlib import Path
import re
import shutil
import signal
import socket
import subprocess
import sys
from types import ModuleType
from typing import Any

from playwright.sync_api import Page, expect, sync_playwright
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
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
DEMO_PLAYLISTS = ("Animal Songs", "Favourites", "Lullabies", "The Sleepy Lighthouse")


def _script(name: str) -> ModuleType:
    """Import one of script/*.py (not a package) as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "script" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


dev_config = _script("dev_config")
dev_onboard = _script("dev_onboard")
demo_library = _script("demo_library")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this process: the one under test runs in its own."""
    return


@dataclass(slots=True)
class Instance:
    """A running development Home Assistant."""

    url: str
    api: Any  # dev_onboard.Api, logged in as dev
    log: Path

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def development_instance(config: Path) -> Iterator[Instance]:
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
            dev_onboard.set_up(api, f"{url}/", pending)
        except dev_onboard.SetupError as err:  # e.g. the service descriptions fail to load
            tail = log.read_text(errors="replace")[-6000:]
            pytest.fail(f"script/dev_onboard.py: {err}\nHome Assistant's log (end):\n{tail}")
        yield Instance(url, api, log)
    finally:
        dev_onboard.revoke(api)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def instance(socket_enabled: None, tmp_path: Path) -> Iterator[Instance]:
    """Home Assistant as script/develop runs it, with the box and its demo library."""
    with development_instance(tmp_path / "config") as running:
        yield running


@pytest.fixture
def page(instance: Instance) -> Iterator[Page]:
    """A chromium page (Debian's browser, no download), closed after the test."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: script/bootstrap installs it (apt package chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 900})
        finally:
            browser.close()


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


def device_id(instance: Instance, entity_id: str) -> str:
    answer: str = instance.api.ok(
        "POST", "/api/template", body={"template": f"{{{{ device_id('{entity_id}') }}}}"}
    )
    return answer.strip()


def open_assist(page: Page) -> None:
    """Click the toolbar's Assist button (named by its tooltip, in another shadow root)."""
    for tooltip in page.locator("ha-tooltip").all():
        if (tooltip.text_content() or "").strip().startswith("Assist"):
            labelled = tooltip.get_attribute("id")
            page.locator(f'ha-icon-button[aria-labelledby="{labelled}"]').click()
            return
    raise AssertionError("no Assist button in the toolbar")


def test_first_contact(instance: Instance, page: Page) -> None:
    """Log in as dev/dev: dashboard, the box's device page, its media browser, Assist; no error."""
    expect.set_options(timeout=UI_TIMEOUT_MS)

    def log_in() -> None:
        page.goto(f"{instance.url}/")
        page.locator('input[name="username"]').fill(dev_onboard.USERNAME)
        page.locator('input[name="password"]').fill(dev_onboard.PASSWORD)
        page.locator('input[name="password"]').press("Enter")
        page.wait_for_url("**/home/**", timeout=UI_TIMEOUT_MS)

    def dashboard() -> None:
        # Stuck on "Loading data" when any loaded integration's services cannot be described.
        expect(page.get_by_text("Welcome Dev")).to_be_visible()
        expect(page.get_by_text("Media players")).to_be_visible()
        expect(page.get_by_text("Loading data")).to_have_count(0)

    def device_page() -> None:
        device = device_id(instance, "media_player.music_box")
        page.goto(f"{instance.url}/config/devices/device/{device}")
        row = page.locator("hui-media-player-entity-row")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Music Box")
        expect(row).to_contain_text("Idle")

    def media_browser() -> None:
        page.goto(f"{instance.url}/media-browser/media_player.music_box")
        browser = page.locator("ha-media-player-browse")
        for playlist in DEMO_PLAYLISTS:
            # The card's title (its tooltip repeats the name, hidden).
            title = browser.get_by_text(playlist, exact=True).and_(browser.locator(".title"))
            expect(title).to_be_visible()

    def assist() -> None:
        page.goto(f"{instance.url}/home/overview")
        expect(page.get_by_text("Welcome Dev")).to_be_visible()
        open_assist(page)
        dialog = page.locator("ha-voice-command-dialog")
        expect(dialog.get_by_text("How can I assist?")).to_be_visible()
        request = dialog.locator("ha-assist-chat input")
        request.fill("what is the time")
        request.press("Enter")
        # The default pipeline (conversation) answers with the time, e.g. "3:04 PM".
        expect(dialog.get_by_text(re.compile(r"^\d{1,2}:\d{2}"))).to_be_visible()

    def clean_log() -> None:
        # First contact leaves no error: no onboarding flow or import that fails.
        text = instance.log.read_text(errors="replace")
        errors = [line for line in text.splitlines() if re.match(r"^\S+ \S+ ERROR ", line)]
        assert not errors, "errors in Home Assistant's log:\n" + "\n".join(errors)
        assert "Traceback" not in text

    step(page, instance, "log_in", log_in)
    step(page, instance, "dashboard", dashboard)
    step(page, instance, "device_page", device_page)
    step(page, instance, "media_browser", media_browser)
    step(page, instance, "assist", assist)
    step(page, instance, "clean_log", clean_log)
