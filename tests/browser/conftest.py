"""Fixtures of the browser tests: one Home Assistant and one logged-in chromium per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright
import pytest
import pytest_socket

from .harness import CHROMIUM, CHROMIUM_ARGS, Instance, home_assistant, log_in


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this process: the one under test runs in its own."""
    return


@pytest.fixture(autouse=True)
def verify_cleanup() -> None:
    """Playwright's loop runs in this thread across tests; Home Assistant is not in this process."""
    return


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """The tests talk to Home Assistant over loopback HTTP."""
    return


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """Home Assistant as script/develop runs it, with the box and its demo library."""
    pytest_socket.enable_socket()  # set up before the first test's own socket_enabled
    with home_assistant(tmp_path_factory.mktemp("ha") / "config") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium (no download)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: script/bootstrap installs it (apt package chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page(instance: Instance, browser: Browser) -> Iterator[Page]:
    """One page, logged in as the dev administrator."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, instance)
    yield page
    context.close()
