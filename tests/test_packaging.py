"""What HACS, hassfest and the quality scale read: hacs.json, manifest.json, brand, license."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
import re
import subprocess
import sys
import tomllib
from typing import Any

from awesomeversion import AwesomeVersion
from PIL import Image
import pytest
import voluptuous as vol
import yaml

from .data.core_ruff import CORE_ALIASES, CORE_IGNORE, CORE_SELECT
from .data.schemas import (
    CUSTOM_MANIFEST,
    HACS_INTEGRATION_MANIFEST,
    HACS_JSON,
    QUALITY_SCALE_RULES,
)

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "open_music_box"


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _dev_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements_dev.txt").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, pinned = line.split("==")
            pins[name.strip().lower()] = pinned.strip()
    return pins


def test_hacs_json() -> None:
    """hacs.json passes HACS's schema and asks for a Home Assistant the project runs on."""
    hacs = HACS_JSON(_json(ROOT / "hacs.json"))
    manifest = _json(INTEGRATION / "manifest.json")
    assert hacs["name"] == manifest["name"]
    assert hacs["render_readme"] is True
    assert hacs.get("content_in_root", False) is False  # the code is in custom_components/
    assert hacs.get("zip_release", False) is False
    assert AwesomeVersion(hacs["homeassistant"]) <= AwesomeVersion(_dev_pins()["homeassistant"])
    with pytest.raises(vol.Invalid):  # the schema refuses what HACS refuses
        HACS_JSON({**hacs, "domains": ["open_music_box"]})


def test_manifest_json() -> None:
    """manifest.json passes hassfest's custom-integration rules and what HACS needs."""
    raw = _json(INTEGRATION / "manifest.json")
    manifest = CUSTOM_MANIFEST(raw)
    HACS_INTEGRATION_MANIFEST(raw)
    assert manifest["domain"] == INTEGRATION.name
    assert manifest["codeowners"], "integration-owner: codeowners must name someone"
    keys = list(raw)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "hassfest wants the other keys sorted"
    # Pinned, and the versions the tests run with.
    pins = _dev_pins()
    for requirement in manifest["requirements"]:
        name, _, pinned = requirement.partition("==")
        assert pinned, f"{requirement} is not pinned"
        assert pins[name.lower()] == pinned, f"{requirement}: requirements_dev.txt pins another"
    with pytest.raises(vol.Invalid):
        CUSTOM_MANIFEST({**raw, "codeowners": ["nobody"]})


def test_brand_images_are_drawn_by_script_brand() -> None:
    """brand/: icon 256 x 256, icon@2x 512 x 512, a logo 256 high; what script/brand.py draws."""
    spec = importlib.util.spec_from_file_location("brand", ROOT / "script" / "brand.py")
    assert spec is not None
    assert spec.loader is not None
    brand = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(brand)
    sizes = {"icon.png": (256, 256), "icon@2x.png": (512, 512)}
    for name, drawn in brand.images().items():
        with Image.open(INTEGRATION / "brand" / name) as committed:
            assert committed.format == "PNG"
            assert committed.mode == "RGBA"
            assert committed.size == sizes.get(name, committed.size)
            assert committed.tobytes() == drawn.tobytes(), f"{name}: run script/brand.py"
    with Image.open(INTEGRATION / "brand" / "logo.png") as logo:
        assert logo.height == 256
        assert logo.width > logo.height


def test_license() -> None:
    """A license at the root, and the README says which."""
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^## License\n\n.*\bMIT\b", readme, re.MULTILINE)


def test_quality_scale_lists_every_rule() -> None:
    """Every rule has a status; what is not done says why."""
    rules = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8"))[
        "rules"
    ]
    expected = {rule for tier in QUALITY_SCALE_RULES.values() for rule in tier}
    assert set(rules) == expected
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "todo", "exempt"}, rule
        if status != "done":
            assert isinstance(value, dict), f"{rule}: {status} needs a comment"
            assert len(value.get("comment", "")) > 20, f"{rule}: {status} needs a reason"


def _enabled_rules(*args: str) -> set[str]:
    """Return the codes ruff enables for a module of the integration, with these arguments."""
    ruff = Path(sys.executable).parent / "ruff"
    module = INTEGRATION / "const.py"
    shown = subprocess.run(
        [ruff, "check", "--show-settings", *args, module],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    enabled = shown.split("linter.rules.enabled = [", 1)[1].split("]", 1)[0]
    return set(re.findall(r"\(([A-Z]+[0-9]+)\)", enabled))


def test_ruff_lints_the_integration_with_core_rules() -> None:
    """Every rule Home Assistant core enables is enabled for the integration, with its aliases."""
    core = _enabled_rules(
        "--isolated", "--select", ",".join(CORE_SELECT), "--ignore", ",".join(CORE_IGNORE)
    )
    ours = _enabled_rules()
    assert len(core) > 500
    assert sorted(core - ours) == []
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"][
        "lint"
    ]
    assert lint["flake8-import-conventions"]["extend-aliases"] == CORE_ALIASES
    ignored = lint["per-file-ignores"]["custom_components/**"]
    assert ignored == ["TID252"]  # relative imports inside the package, as core allows


# The README section each documentation rule of the quality scale points to.
DOC_SECTIONS = {
    "docs-actions": "## Actions",
    "docs-configuration-parameters": "## Configuration",
    "docs-installation-instructions": "## Install",
    "docs-known-limitations": "## Limitations",
    "docs-removal-instructions": "### Remove",
    "docs-supported-functions": "## Entities",
    "docs-troubleshooting": "## Troubleshooting",
    "docs-use-cases": "## Use cases",
}


def test_documentation_rules_have_their_readme_section() -> None:
    """A documentation rule marked done has its README section, with text under it."""
    rules = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8"))[
        "rules"
    ]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for rule, heading in DOC_SECTIONS.items():
        assert rules[rule] == "done", rule
        assert re.search(rf"^{re.escape(heading)}\n\n\S", readme, re.MULTILINE), heading
        body = readme.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
        assert len(body) > 150, f"{heading}: too short for {rule}"
