"""The rules HACS and hassfest apply to hacs.json, manifest.json and quality_scale.yaml.

Rewritten here as voluptuous schemas (neither tool is installed; both use voluptuous):
- HACS_JSON: HACS's `HACS_MANIFEST_JSON_SCHEMA` (hacs/integration,
  custom_components/hacs/utils/validate.py): the keys hacs.json may have, `name` required, no
  others. The country codes are not checked here (we set none).
- HACS_INTEGRATION_MANIFEST: HACS's `INTEGRATION_MANIFEST_JSON_SCHEMA` (same file): what HACS
  needs from manifest.json (codeowners, documentation, domain, issue_tracker, name, version).
- CUSTOM_MANIFEST: Home Assistant core's script/hassfest/manifest.py for a custom integration
  (`CUSTOM_INTEGRATION_MANIFEST_SCHEMA` and `validate_manifest`): the keys, their types, the
  integration types and IoT classes, codeowners as GitHub handles, a version, keys sorted with
  domain and name first. Of the discovery keys only zeroconf is kept (Sendspin players); the
  others (ssdp, dhcp, usb, ...) are left out, so they fail here until the manifest uses them.
- QUALITY_SCALE_RULES: the rules of script/hassfest/quality_scale.py, by tier.
"""

from __future__ import annotations

import re
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionException, AwesomeVersionStrategy
import voluptuous as vol

HACS_JSON = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Optional("content_in_root"): bool,
        vol.Optional("country"): vol.Any(str, [str]),
        vol.Optional("filename"): str,
        vol.Optional("hacs"): str,
        vol.Optional("hide_default_branch"): bool,
        vol.Optional("homeassistant"): str,
        vol.Optional("persistent_directory"): str,
        vol.Optional("render_readme"): bool,
        vol.Optional("zip_release"): bool,
    },
    extra=vol.PREVENT_EXTRA,
)

HACS_INTEGRATION_MANIFEST = vol.Schema(
    {
        vol.Required("codeowners"): list,
        vol.Required("documentation"): vol.Url(),
        vol.Required("domain"): str,
        vol.Required("issue_tracker"): vol.Url(),
        vol.Required("name"): str,
        vol.Required("version"): vol.Coerce(AwesomeVersion),
    },
    extra=vol.ALLOW_EXTRA,
)

INTEGRATION_TYPES = (
    "device",
    "entity",
    "hardware",
    "helper",
    "hub",
    "service",
    "system",
    "virtual",
)
IOT_CLASSES = (
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
)
VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]
# A GitHub user (@name) or team (@org/team).
CODEOWNER = re.compile(r"^@[A-Za-z0-9-]+(/[A-Za-z0-9_.-]+)?$")


def version(value: Any) -> str:
    """A version hassfest accepts (CalVer, SemVer, SimpleVer, BuildVer or PEP 440)."""
    text = str(value)
    try:
        AwesomeVersion(text, ensure_strategy=VERSION_STRATEGIES)
    except AwesomeVersionException as err:
        raise vol.Invalid(f"{text!r} is not a valid version") from err
    return text


def https(value: Any) -> str:
    """A documentation URL must use https."""
    text = vol.Url()(value)
    if not text.startswith("https://"):
        raise vol.Invalid("documentation URL must start with https://")
    return str(text)


CUSTOM_MANIFEST = vol.Schema(
    {
        vol.Required("domain"): str,
        vol.Required("name"): str,
        vol.Optional("after_dependencies"): [str],
        vol.Required("codeowners"): [vol.Match(CODEOWNER)],
        vol.Optional("config_flow"): bool,
        vol.Optional("dependencies"): [str],
        vol.Required("documentation"): https,
        vol.Optional("integration_type"): vol.In(INTEGRATION_TYPES),
        vol.Required("iot_class"): vol.In(IOT_CLASSES),
        vol.Required("issue_tracker"): vol.Url(),
        vol.Optional("loggers"): [str],
        vol.Optional("quality_scale"): vol.In(("bronze", "silver", "gold", "platinum")),
        vol.Optional("requirements"): [str],
        vol.Optional("single_config_entry"): bool,
        vol.Required("version"): version,
        vol.Optional("zeroconf"): [
            vol.Any(
                vol.Match(r"^_[a-z0-9-]+\._(tcp|udp)\.local\.$"),
                vol.Schema({vol.Required("type"): str, vol.Optional("name"): str}),
            )
        ],
    },
    extra=vol.PREVENT_EXTRA,
)

QUALITY_SCALE_RULES = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow-test-coverage",
        "config-flow",
        "dependency-transparency",
        "docs-actions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery-update-info",
        "discovery",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}
