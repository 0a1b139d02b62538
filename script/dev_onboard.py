"""Finish the set-up of the development Home Assistant while it starts (run by script/develop).

    $PY script/dev_onboard.py --config config [--port 8123] [--watch-pid PID]

Waits for the HTTP API, then only what is not done yet, through Home Assistant's own REST API:
  1. onboarding: the owner "Dev" (login dev / dev). script/dev_config.py marks the other steps
     done in a new config dir, so onboarding adds no google_translate, met, radio_browser or
     shopping_list entry (they reach the internet); an older config dir gets them all done here.
  2. the "Music Box" config entry: library <config>/media/open_music_box, output mpv, device auto
     (also re-added at the next start if deleted; OMB_DEV_NO_ENTRY=1 skips it, to try the flow).
  3. a check that the service descriptions load (GET /api/services): the frontend asks for them
     first and sticks on "Loading data" when they fail; this says so loudly instead.
Then prints the URL and the login. Exits when the process --watch-pid is gone (Home Assistant
stopped). Only the standard library is used.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import contextlib
from http.client import HTTPException
import json
import os
from pathlib import Path
import socket
import sys
import time
from typing import Any
from urllib import error, parse, request

DOMAIN = "open_music_box"
NAME = "Dev"
USERNAME = "dev"
PASSWORD = "dev"  # a throwaway local development login, printed on purpose
ENTITY_ID = "media_player.music_box"
# Config flow answers, by field name; fields not listed keep the flow's defaults.
FLOW_VALUES = {"name": "Music Box", "output": "mpv", "audio_device": "auto"}
# The demo sync room: one more mpv output of this host (null audio on a machine with no sound card).
ROOM_VALUES = {"name": "Living room", "control": "everyone", "local_devices": ["auto"]}


class SetupError(Exception):
    """A step failed; the message says which and why."""


def say(message: str) -> None:
    print(f"\033[1m[dev_onboard]\033[0m {message}", flush=True)


class Api:
    """Tiny JSON client for Home Assistant's REST API."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token: str | None = None
        self.refresh: str | None = None

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with request.urlopen(req, timeout=60) as resp:
                status, raw = resp.status, resp.read()
        except error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        status, payload = self.call(method, path, **kwargs)
        if status >= 400:
            raise SetupError(f"{method} {path} answered {status}: {payload}")
        return payload


def wait_for_api(api: Api, alive: Callable[[], bool], timeout: float) -> list[str] | None:
    """Return the onboarding steps not done yet ([] or None once onboarded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            sys.exit(0)
        try:
            status, payload = api.call("GET", "/api/onboarding")
        except (OSError, HTTPException):  # refused while starting; URLError is an OSError
            time.sleep(1)
            continue
        if status == 200:
            return [step["step"] for step in payload if not step["done"]]
        # Home Assistant serves HTTP only once the frontend (and so onboarding) is set up;
        # onboarding registers no views once it is complete.
        if status == 404:
            return None
        time.sleep(1)
    raise SetupError(f"Home Assistant did not answer on {api.base} within {timeout:.0f} s")


def get_token(api: Api, client_id: str, code: str) -> str:
    tokens = api.ok(
        "POST",
        "/auth/token",
        form={"grant_type": "authorization_code", "code": code, "client_id": client_id},
    )
    api.token = tokens["access_token"]
    refresh: str = tokens["refresh_token"]
    return refresh


def login(api: Api, client_id: str) -> str:
    """Log in as dev/dev through the login flow; return the refresh token."""
    flow = api.ok(
        "POST",
        "/auth/login_flow",
        body={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id,
        },
    )
    result = api.ok(
        "POST",
        f"/auth/login_flow/{flow['flow_id']}",
        body={"username": USERNAME, "password": PASSWORD, "client_id": client_id},
    )
    if result.get("type") != "create_entry":
        raise SetupError(
            f"cannot log in as {USERNAME}/{PASSWORD} (password changed?): {result.get('errors')}"
        )
    return get_token(api, client_id, result["result"])


def onboard(api: Api, pending: list[str], client_id: str) -> str:
    """Do the pending onboarding steps in Home Assistant's order; return a refresh token."""
    if "user" in pending:
        say(f"onboarding: creating the owner {NAME!r} (login {USERNAME} / {PASSWORD})")
        created = api.ok(
            "POST",
            "/api/onboarding/users",
            body={
                "client_id": client_id,
                "name": NAME,
                "username": USERNAME,
                "password": PASSWORD,
                "language": "en",
            },
        )
        refresh = get_token(api, client_id, created["auth_code"])
    else:
        refresh = login(api, client_id)
    for step in pending:
        if step == "user":
            continue
        body = None
        if step == "integration":
            body = {"client_id": client_id, "redirect_uri": f"{client_id}?auth_callback=1"}
        status, payload = api.call("POST", f"/api/onboarding/{step}", body=body or {})
        # 403: done meanwhile (someone in a browser); fine either way.
        if status >= 400 and status != 403:
            raise SetupError(f"onboarding step {step} answered {status}: {payload}")
        say(f"onboarding: step {step} done")
    return refresh


def check_services(api: Api) -> None:
    """Load every service description, as the frontend does first; raise when it fails."""
    status, payload = api.call("GET", "/api/services")
    if status != 200:
        raise SetupError(
            f"GET /api/services answered {status}: {payload}. The browser will stick on "
            "'Loading data': a loaded integration's services cannot be described, usually a "
            "missing Python package (the traceback is in Home Assistant's log above); add what "
            "imports it to script/dev_config.py"
        )


def flow_payload(form: dict[str, Any], values: dict[str, Any] = FLOW_VALUES) -> dict[str, Any]:
    """Answer a config flow form: our values, else the field's default."""
    payload = {}
    for field in form.get("data_schema", []):
        name = field["name"]
        if name in values:
            payload[name] = values[name]
        elif "default" in field:
            payload[name] = field["default"]
        elif field.get("required"):
            raise SetupError(f"config flow step {form['step_id']} asks for unknown field {name}")
    return payload


def run_flow(api: Api, path: str, body: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Drive a config (or subentry) flow through its forms; return the created entry."""
    result = api.ok("POST", path, body=body)
    answered: set[str] = set()
    while result.get("type") == "form":
        step = result["step_id"]
        if step in answered:
            raise SetupError(f"flow step {step} refused our answer: {result.get('errors')}")
        answered.add(step)
        payload = flow_payload(result, values)
        say(f"flow step {step}: {payload}")
        result = api.ok("POST", f"{path}/{result['flow_id']}", body=payload)
    if result.get("type") != "create_entry":
        raise SetupError(f"flow ended with {result.get('type')}: {result.get('reason')}")
    return result


def add_music_box(api: Api) -> str | None:
    """Create the config entry through the config flow; return its id (None if one exists)."""
    entries = api.ok("GET", f"/api/config/config_entries/entry?domain={DOMAIN}")
    if entries:
        return None
    say("adding the Music Box through the config flow")
    body = {"handler": DOMAIN, "show_advanced_options": False}
    result = run_flow(api, "/api/config/config_entries/flow", body, FLOW_VALUES)
    entry_id: str = result["result"]["entry_id"]
    return entry_id


def add_demo_room(api: Api, entry_id: str) -> None:
    """Add the demo sync room through the room subentry flow (the UI's "Add room")."""
    say("adding the demo room 'Living room' through the room flow")
    path = "/api/config/config_entries/subentries/flow"
    run_flow(api, path, {"handler": [entry_id, "room"]}, ROOM_VALUES)


def wait_for_entity(api: Api, timeout: float) -> str:
    """Return a line saying the music box entity is there, or what is there instead."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, state = api.call("GET", f"/api/states/{ENTITY_ID}")
        if status == 200:
            return f"{ENTITY_ID} is ready (state: {state['state']})"
        time.sleep(1)
    players = [
        state["entity_id"]
        for state in api.ok("GET", "/api/states")
        if state["entity_id"].startswith("media_player.")
    ]
    entries = api.ok("GET", f"/api/config/config_entries/entry?domain={DOMAIN}")
    states = ", ".join(f"{entry['title']}: {entry['state']}" for entry in entries)
    return (
        f"{ENTITY_ID} did not appear within {timeout:.0f} s; media players: {players or 'none'}; "
        f"{DOMAIN} entries: {states or 'none'} (see the log above)"
    )


def lan_addresses() -> list[str]:
    """The addresses other machines may reach this one at (no packet is sent)."""
    found = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # a documentation address: only picks a route
            found.add(probe.getsockname()[0])
        except OSError:
            pass
    with contextlib.suppress(OSError):
        found.update(socket.gethostbyname_ex(socket.gethostname())[2])
    return sorted(addr for addr in found if not addr.startswith("127."))


def banner(port: int, entity_line: str) -> None:
    lines = [f"URL:    http://127.0.0.1:{port}/"]
    if os.environ.get("OMB_DEV_LAN") == "1":
        lines += [f"LAN:    http://{addr}:{port}/" for addr in lan_addresses()]
    lines += [f"Login:  {USERNAME} / {PASSWORD}", entity_line, "Stop:   Ctrl-C"]
    width = max(len(line) for line in lines) + 4
    rule = "=" * width
    body = "\n".join(f"  {line}" for line in lines)
    print(f"\n\033[1;32m{rule}\n  Open Music Box development instance\n{body}\n{rule}\033[0m\n")


def _refused(err: Exception) -> bool:
    """urllib wraps a refused connection in URLError(reason=ConnectionRefusedError)."""
    return isinstance(err, error.URLError) and isinstance(err.reason, ConnectionError)


def set_up(api: Api, client_id: str, pending: list[str] | None, *, add_entry: bool = True) -> str:
    """Onboard, add the box and its demo room, check the services; return the entity line.

    Also used by tests/browser/harness.py, which starts Home Assistant as script/develop does.
    """
    api.refresh = onboard(api, pending, client_id) if pending else login(api, client_id)
    if add_entry:
        entry_id = add_music_box(api)
        entity_line = wait_for_entity(api, 60)
        if entry_id is not None:  # a new box: give it the demo room too
            add_demo_room(api, entry_id)
    else:
        entity_line = "Music Box not added (OMB_DEV_NO_ENTRY=1): Settings > Devices & services"
    check_services(api)
    return entity_line


def revoke(api: Api) -> None:
    """One login per start: revoke it so the dev user's tokens do not pile up."""
    if api.refresh is not None:
        with contextlib.suppress(OSError, HTTPException):
            api.call("POST", "/auth/revoke", form={"token": api.refresh})
        api.refresh = None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--watch-pid", type=int, help="exit when this process is gone")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for HA")
    args = parser.parse_args()

    def alive() -> bool:
        if args.watch_pid is None:
            return True
        try:
            os.kill(args.watch_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    client_id = f"http://127.0.0.1:{args.port}/"
    api = Api(f"http://127.0.0.1:{args.port}")
    try:
        pending = wait_for_api(api, alive, args.timeout)
        add_entry = os.environ.get("OMB_DEV_NO_ENTRY") != "1"
        banner(args.port, set_up(api, client_id, pending, add_entry=add_entry))
    except (SetupError, OSError, HTTPException) as err:
        if not alive() or isinstance(err, ConnectionError) or _refused(err):
            return 0  # Home Assistant stopped under us: nothing to say
        say(f"\033[1;31mautomatic set-up stopped: {err}\033[0m")
        banner(args.port, f"{ENTITY_ID}: not set up automatically (see above)")
        return 1
    finally:
        revoke(api)
    return 0


if __name__ == "__main__":
    sys.exit(main())
