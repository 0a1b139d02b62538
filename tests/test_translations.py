"""Translations, actions and error keys stay consistent with each other and with the code."""

from __future__ import annotations

import json
from pathlib import Path
import re
import sys
from typing import Any

from homeassistant.helpers.service import _SERVICES_SCHEMA
import yaml

from custom_components.open_music_box.api.actions import ENTITY_SERVICES, action_schema
from custom_components.open_music_box.api.operations import BY_ACTION
from custom_components.open_music_box.api.resolve import TARGET_KEYS
from custom_components.open_music_box.const import DOMAIN

COMPONENT = Path(__file__).resolve().parent.parent / "custom_components" / "open_music_box"
sys.path.insert(0, str(COMPONENT.parent.parent / "script"))

from translations import resolved_strings  # noqa: E402


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((COMPONENT / name).read_text("utf-8"))
    return data


def keys(node: Any, prefix: str = "") -> set[str]:
    if not isinstance(node, dict):
        return {prefix}
    return {k for key, value in node.items() for k in keys(value, f"{prefix}/{key}")}


def test_en_is_resolved_strings() -> None:
    """translations/en.json is strings.json with references resolved (script/translations.py)."""
    assert load("translations/en.json") == resolved_strings()


def test_french_has_every_key() -> None:
    """Every English text has a French one, and no French text is orphaned."""
    assert keys(load("translations/fr.json")) == keys(load("translations/en.json"))


def test_placeholders_match() -> None:
    """French texts use the same {placeholders} as the English ones."""
    english, french = load("translations/en.json"), load("translations/fr.json")

    def walk(en: Any, fr: Any, path: str) -> None:
        if isinstance(en, dict):
            for key in en:
                walk(en[key], fr[key], f"{path}/{key}")
            return
        assert set(re.findall(r"\{(\w+)\}", en)) == set(re.findall(r"\{(\w+)\}", fr)), path

    walk(english, french, "")


def test_every_translation_key_in_code_exists() -> None:
    """Each translation_key raised by the code has an exception text."""
    exceptions = load("strings.json")["exceptions"]
    used: set[str] = set()
    for source in COMPONENT.rglob("*.py"):
        text = source.read_text("utf-8")
        used |= set(re.findall(r'translation_key="(\w+)"', text))
        used |= set(re.findall(r'_error\(\s*"(\w+)"', text))
    assert used
    assert used <= set(exceptions), used - set(exceptions)


def test_actions_are_described() -> None:
    """Registered actions, services.yaml and the translated names agree, field by field."""
    described = yaml.safe_load((COMPONENT / "services.yaml").read_text("utf-8"))
    translated = load("strings.json")["services"]
    icons = load("icons.json")["services"]
    registered = set(BY_ACTION) | set(ENTITY_SERVICES)
    assert registered == set(described) == set(translated) == set(icons)
    for name, spec in described.items():
        assert set(spec["fields"]) == set(translated[name]["fields"]), name
    for name, op in BY_ACTION.items():  # the box and the table's fields, nothing else
        expected = {"config_entry_id", *map(str, op.fields)}
        assert set(described[name]["fields"]) == expected, name
        # The box's media player as the target (entity_id, device_id… of HA's target picker).
        assert described[name]["target"]["entity"]["integration"] == DOMAIN, name
        assert set(map(str, action_schema(op).schema)) == expected | set(TARGET_KEYS), name


def test_services_yaml_is_valid() -> None:
    """Home Assistant's own schema of services.yaml accepts ours (selectors and filters too)."""
    described = yaml.safe_load((COMPONENT / "services.yaml").read_text("utf-8"))
    _SERVICES_SCHEMA(described)
