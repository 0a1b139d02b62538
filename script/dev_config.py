"""Prepare the git-ignored config/ of the development Home Assistant (run by script/develop).

    $PY script/dev_config.py [CONFIG_DIR] [--port PORT]   (config/; $OMB_DEV_PORT or 8123)

- configuration.yaml, rewritten on every run: only the integrations the music box and the UI
  need. No default_config: it would start network discovery (zeroconf, ssdp, dhcp...). Your
  own YAML goes to config/packages/*.yaml, which is kept.
- config/custom_components/open_music_box and config/blueprints/automation/open_music_box are
  symlinks into the working tree, so edits show after a restart of Home Assistant.
- A new config dir gets onboarding's core_config, analytics and integration steps marked done:
  only the owner is left to create (script/dev_onboard.py does it). Finishing core_config would
  add google_translate, met, radio_browser and shopping_list entries, which reach the internet.
- The Python requirements of what Home Assistant loads are installed with pip (nothing when
  present), walked the way Home Assistant walks them (dependencies, after_dependencies,
  discovery integrations), starting from configuration.yaml's integrations, the ones Home
  Assistant always loads, our platforms, and the entity integrations Home Assistant imports to
  read any services.yaml (camera, ai_task, assist_satellite...: without PyTurboJPEG the
  frontend's get_services fails and the browser sticks on "Loading data"). Home Assistant would
  otherwise install them itself at start with uv, which does not read pip's configuration.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
from pathlib import Path
import subprocess
import sys

from homeassistant import components
from homeassistant.bootstrap import DEFAULT_INTEGRATIONS
from homeassistant.components.onboarding import STORAGE_KEY, STORAGE_VERSION
from homeassistant.components.onboarding.const import STEP_USER, STEPS
from homeassistant.helpers import service
from homeassistant.requirements import DISCOVERY_INTEGRATIONS
from homeassistant.util.package import is_installed

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "open_music_box"
BLUEPRINTS = ROOT / "blueprints" / "automation" / "open_music_box"
CORE = Path(components.__file__).parent
DEFAULT_PORT = 8123

# What configuration.yaml sets up; their dependencies come along (frontend brings auth,
# onboarding, the config panels and the config entries API, lovelace, repairs, ...).
LOADED = (
    "frontend",
    "config",
    "media_source",
    "tag",
    "automation",
    "blueprint",
    "conversation",
    "assist_pipeline",
)
# Also set up, but not by configuration.yaml: the platforms of our entities, and what Home
# Assistant always sets up (bootstrap.DEFAULT_INTEGRATIONS: analytics, backup, person, helpers).
ALSO_LOADED = ("media_player", "number", "sensor", *sorted(DEFAULT_INTEGRATIONS))

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
  server_port: {port}

logger:
  default: info
  logs:
    custom_components.open_music_box: debug

# What drives the music box: its media browser, NFC tags, blueprints and Assist (the
# pipeline behind the Assist dialog: conversation, with no speech-to-text or TTS engine).
media_source:
tag:
blueprint:
automation: !include automations.yaml
conversation:
assist_pipeline:
"""


def dev_port() -> int:
    """The port of the development instance: $OMB_DEV_PORT, else 8123."""
    value = os.environ.get("OMB_DEV_PORT", "") or str(DEFAULT_PORT)
    if not value.isdigit() or not 0 < int(value) < 65536:
        sys.exit(f"dev_config: OMB_DEV_PORT must be a port number, not {value!r}")
    return int(value)


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


def seed_onboarding(config: Path) -> None:
    """On a new config dir, leave only onboarding's user step to do."""
    storage = config / ".storage"
    if (storage / STORAGE_KEY).exists() or (storage / "auth").exists():
        return  # started before: Home Assistant's own data wins
    storage.mkdir(parents=True, exist_ok=True)
    data = {
        "version": STORAGE_VERSION,
        "minor_version": 1,
        "key": STORAGE_KEY,
        "data": {"done": [step for step in STEPS if step != STEP_USER]},
    }
    (storage / STORAGE_KEY).write_text(json.dumps(data, indent=2), encoding="utf-8")


def write_config(config: Path, port: int) -> None:
    media = config / "media"
    (media / "open_music_box").mkdir(parents=True, exist_ok=True)
    (config / "packages").mkdir(exist_ok=True)
    automations = config / "automations.yaml"
    if not automations.exists():
        automations.write_text("[]\n", encoding="utf-8")
    host = "0.0.0.0" if os.environ.get("OMB_DEV_LAN") == "1" else "127.0.0.1"
    text = CONFIGURATION.format(media=json.dumps(str(media)), host=host, port=port)
    target = config / "configuration.yaml"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    seed_onboarding(config)
    link(config / "custom_components" / "open_music_box", INTEGRATION)
    if BLUEPRINTS.is_dir():
        link(config / "blueprints" / "automation" / "open_music_box", BLUEPRINTS)


def manifest(path: Path) -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def service_schema_domains() -> list[str]:
    """The integrations Home Assistant imports to validate any services.yaml.

    Read from helpers/service.py's `_base_components` without calling it: calling it is what
    fails when one of their requirements (PyTurboJPEG for camera) is missing.
    """
    tree = ast.parse(Path(service.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "_base_components":
            return [
                alias.name
                for stmt in ast.walk(node)
                if isinstance(stmt, ast.ImportFrom)
                for alias in stmt.names
            ]
    sys.exit("dev_config: no _base_components in helpers/service.py: update this function")


def loaded_domains() -> list[str]:
    """Every integration Home Assistant may load or import here, as it walks them itself."""
    ours = manifest(INTEGRATION / "manifest.json")
    wanted = [*LOADED, *ALSO_LOADED, *ours.get("dependencies", []), *service_schema_domains()]
    seen: list[str] = []
    while wanted:
        domain = wanted.pop()
        if domain in seen or not (CORE / domain / "manifest.json").exists():
            continue
        seen.append(domain)
        data = manifest(CORE / domain / "manifest.json")
        wanted += data.get("dependencies", []) + data.get("after_dependencies", [])
        # requirements.py: a manifest with zeroconf/ssdp/... keys brings that integration too.
        wanted += [
            found for found, keys in DISCOVERY_INTEGRATIONS.items() if any(k in data for k in keys)
        ]
    return sorted(seen)


def requirements() -> list[str]:
    """Requirements of our integration and of every integration loaded with it."""
    reqs = list(manifest(INTEGRATION / "manifest.json").get("requirements", []))
    for domain in loaded_domains():
        reqs += manifest(CORE / domain / "manifest.json").get("requirements", [])
    return sorted(set(reqs))


def install_requirements() -> None:
    missing = [req for req in requirements() if not is_installed(req)]
    if not missing:
        return
    print(f"dev_config: installing {' '.join(missing)}", flush=True)
    constraints = CORE.parent / "package_constraints.txt"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-qq", "-c", str(constraints), *missing],
        check=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", type=Path, default=ROOT / "config")
    parser.add_argument("--port", type=int, default=None, help="default: $OMB_DEV_PORT or 8123")
    args = parser.parse_args()
    config: Path = args.config.resolve()
    write_config(config, args.port or dev_port())
    install_requirements()
    return 0


if __name__ == "__main__":
    sys.exit(main())
