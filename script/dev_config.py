"""Prepare the git-ignored config/ of the development Home Assistant (run by script/develop).

    $PY script/dev_config.py [CONFIG_DIR]        (default: config/)

- configuration.yaml, rewritten on every run: only the integrations the music box and the UI
  need. No default_config: it would start network discovery (zeroconf, ssdp, dhcp...). Your
  own YAML goes to config/packages/*.yaml, which is kept.
- config/custom_components/open_music_box and config/blueprints/automation/open_music_box are
  symlinks into the working tree, so edits show after a restart of Home Assistant.
- The Python requirements of those integrations are installed with pip (once; nothing when
  present): Home Assistant would otherwise install them itself at start with uv, which does
  not read pip's configuration.

Environment: OMB_DEV_LAN=1 listens on every interface instead of 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import subprocess
import sys

from homeassistant import components
from homeassistant.bootstrap import DEFAULT_INTEGRATIONS
from homeassistant.util.package import is_installed

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "open_music_box"
BLUEPRINTS = ROOT / "blueprints" / "automation" / "open_music_box"

# What configuration.yaml sets up; their dependencies come along (frontend brings auth,
# onboarding, the config panels and the config entries API, lovelace, repairs, ...).
LOADED = ("frontend", "config", "media_source", "tag", "automation", "blueprint", "conversation")
# Also set up, but not by configuration.yaml: the platform of our entity, and what Home
# Assistant always sets up (bootstrap.DEFAULT_INTEGRATIONS: analytics, backup, person, helpers).
ALSO_LOADED = ("media_player", *sorted(DEFAULT_INTEGRATIONS))

CONFIGURATION = """\
# Written by script/dev_config.py on every start of script/develop: changes here are lost.
# Put your own YAML in packages/*.yaml (kept), e.g. packages/extra.yaml with `sun:`.

homeassistant:
  name: Open Music Box (dev)
  media_dirs:
    local: {media}
  packages: !include_dir_named packages

# The UI. Its dependencies bring auth, onboarding, the config entries API, dashboards...
frontend:
config:

http:
  server_host: {host}

logger:
  default: info
  logs:
    custom_components.open_music_box: debug

# What drives the music box: its media browser, NFC tags, blueprints and Assist.
media_source:
tag:
blueprint:
automation: !include automations.yaml
conversation:
"""


def link(path: Path, target: Path) -> None:
    """Point `path` at `target` with a relative symlink; never replace a real folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(target, path.parent)
    if path.is_symlink():
        if os.readlink(path) == relative:
            return
        path.unlink()
    elif path.exists():
        sys.exit(f"dev_config: {path} exists and is not a symlink; move it away and re-run")
    path.symlink_to(relative, target_is_directory=True)


def write_config(config: Path) -> None:
    media = config / "media"
    (media / "open_music_box").mkdir(parents=True, exist_ok=True)
    (config / "packages").mkdir(exist_ok=True)
    automations = config / "automations.yaml"
    if not automations.exists():
        automations.write_text("[]\n", encoding="utf-8")
    host = "0.0.0.0" if os.environ.get("OMB_DEV_LAN") == "1" else "127.0.0.1"
    text = CONFIGURATION.format(media=json.dumps(str(media)), host=host)
    target = config / "configuration.yaml"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    link(config / "custom_components" / "open_music_box", INTEGRATION)
    if BLUEPRINTS.is_dir():
        link(config / "blueprints" / "automation" / "open_music_box", BLUEPRINTS)


def manifest(path: Path) -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def requirements() -> list[str]:
    """Requirements of the loaded integrations and of their dependencies, recursively."""
    core = Path(components.__file__).parent
    ours = manifest(INTEGRATION / "manifest.json")
    wanted = [*LOADED, *ALSO_LOADED, *ours.get("dependencies", [])]
    reqs = list(ours.get("requirements", []))
    seen: set[str] = set()
    while wanted:
        domain = wanted.pop()
        if domain in seen:
            continue
        seen.add(domain)
        data = manifest(core / domain / "manifest.json")
        reqs += data.get("requirements", [])
        wanted += data.get("dependencies", [])
    return sorted(set(reqs))


def install_requirements() -> None:
    missing = [req for req in requirements() if not is_installed(req)]
    if not missing:
        return
    print(f"dev_config: installing {' '.join(missing)}", flush=True)
    constraints = Path(components.__file__).parent.parent / "package_constraints.txt"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-qq", "-c", str(constraints), *missing],
        check=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", type=Path, default=ROOT / "config")
    args = parser.parse_args()
    config: Path = args.config.resolve()
    write_config(config)
    install_requirements()
    return 0


if __name__ == "__main__":
    sys.exit(main())
