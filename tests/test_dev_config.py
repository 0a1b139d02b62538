"""script/dev_config.py: what the development instance loads, installs and keeps (issue 12, §1).

The browser test (tests/browser/test_dev_instance.py) starts it for real; these check the parts a
browser cannot see: the port from OMB_DEV_PORT, user YAML kept in packages/, onboarding left
with only the owner to create, and requirements that cover what `get_services` imports.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
import sys
from types import ModuleType
from typing import Any

from homeassistant.components.onboarding.const import STEP_CORE_CONFIG, STEP_USER
from homeassistant.util.yaml import load_yaml
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dev_config() -> ModuleType:
    """script/dev_config.py (not a package), imported as a module."""
    spec = importlib.util.spec_from_file_location("dev_config", ROOT / "script" / "dev_config.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("dev_config", module)
    spec.loader.exec_module(module)
    return module


def configuration(config: Path) -> dict[str, Any]:
    """configuration.yaml as Home Assistant reads it (includes and packages resolved)."""
    loaded = load_yaml(config / "configuration.yaml")
    assert isinstance(loaded, dict)
    return loaded


def test_port_from_omb_dev_port(dev_config: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMB_DEV_PORT", raising=False)
    assert dev_config.dev_port() == 8123
    monkeypatch.setenv("OMB_DEV_PORT", "8124")
    assert dev_config.dev_port() == 8124
    monkeypatch.setenv("OMB_DEV_PORT", "http")
    with pytest.raises(SystemExit, match="OMB_DEV_PORT must be a port number"):
        dev_config.dev_port()


def test_configuration_is_generated_and_packages_are_kept(
    dev_config: ModuleType, tmp_path: Path
) -> None:
    """configuration.yaml is rewritten each start; the user's packages/ survive it."""
    config = tmp_path / "config"
    dev_config.write_config(config, 8124)
    conf = configuration(config)
    assert conf["http"]["server_port"] == 8124
    assert conf["homeassistant"]["packages"] == {}  # packages/*.yaml, none yet
    for domain in ("frontend", "media_source", "tag", "conversation", "assist_pipeline"):
        assert domain in conf
    assert "default_config" not in conf  # no network discovery

    (config / "packages" / "mine.yaml").write_text("sun:\n")
    (config / "configuration.yaml").write_text("broken: [\n")
    dev_config.write_config(config, 8125)
    assert (config / "packages" / "mine.yaml").read_text() == "sun:\n"
    conf = configuration(config)
    assert conf["http"]["server_port"] == 8125
    assert conf["homeassistant"]["packages"] == {"mine": {"sun": None}}
    assert (config / "custom_components" / "open_music_box" / "manifest.json").is_file()


def test_onboarding_leaves_only_the_owner(dev_config: ModuleType, tmp_path: Path) -> None:
    """core_config is marked done: finishing it would add google_translate (needs haffmpeg)."""
    config = tmp_path / "config"
    dev_config.write_config(config, 8123)
    onboarding = config / ".storage" / "onboarding"
    done = json.loads(onboarding.read_text())["data"]["done"]
    assert STEP_CORE_CONFIG in done
    assert STEP_USER not in done

    # Started before: Home Assistant's own onboarding data wins.
    onboarding.write_text(json.dumps({"data": {"done": []}}))
    dev_config.write_config(config, 8123)
    assert json.loads(onboarding.read_text())["data"]["done"] == []


def test_requirements_cover_what_get_services_imports(dev_config: ModuleType) -> None:
    """Without camera's PyTurboJPEG the frontend's get_services fails ("Loading data")."""
    base = dev_config.service_schema_domains()
    assert {"camera", "ai_task", "media_player"} <= set(base)
    loaded = dev_config.loaded_domains()
    assert set(base) <= set(loaded)
    assert {"assist_pipeline", "conversation", "media_source", "frontend"} <= set(loaded)
    assert "google_translate" not in loaded
    names = {req.split("==")[0].lower() for req in dev_config.requirements()}
    assert "pyturbojpeg" in names
    for domain in base:  # every integration get_services imports has its requirements
        manifest = dev_config.manifest(dev_config.CORE / domain / "manifest.json")
        for req in manifest.get("requirements", []):
            assert req.split("==")[0].lower() in names, (domain, req)
