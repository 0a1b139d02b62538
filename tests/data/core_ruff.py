"""The ruff rules Home Assistant core lints its integrations with.

Copied from home-assistant/core's pyproject.toml, `[tool.ruff.lint]` `select` and `ignore` (as of
2024.11; the rules only grew since). Ruff has since renamed TCH to TC and removed S320 (left out).
Core selects PTH but ignores it for `homeassistant/**`, its integrations: left out too.
"""

from __future__ import annotations

CORE_SELECT = (
    "A001", "ASYNC210", "ASYNC220", "ASYNC221", "ASYNC222", "ASYNC230", "ASYNC251", "B002", "B005",
    "B007", "B014", "B015", "B017", "B018", "B023", "B026", "B032", "B904", "B905", "BLE", "C",
    "COM818", "D", "DTZ003", "DTZ004", "E", "F", "F541", "FLY", "FURB", "G", "I", "INP", "ISC",
    "ICN001", "LOG", "N804", "N805", "N815", "PERF", "PGH", "PIE", "PL", "PT", "PYI", "RET", "RSE",
    "RUF005", "RUF006", "RUF010", "RUF013", "RUF017", "RUF018", "RUF019", "S102", "S103", "S108",
    "S306", "S307", "S313", "S314", "S315", "S316", "S317", "S318", "S319", "S601", "S602", "S604",
    "S608", "S609", "SIM", "SLF", "SLOT", "T100", "T20", "TC", "TID", "TRY", "UP", "UP031", "UP032",
    "W",
)  # fmt: skip

CORE_IGNORE = (
    "D202", "D203", "D213", "D406", "D407", "E501", "PLC1901", "PLR0911", "PLR0912", "PLR0913",
    "PLR0915", "PLR2004", "PLW2901", "PT011", "PT018", "RUF001", "RUF002", "RUF003", "RUF015",
    "SIM102", "SIM103", "SIM108", "SIM115", "TC001", "TC002", "TC003", "TRY003", "TRY400", "W191",
    "E111", "E114", "E117", "D206", "D300", "Q", "COM812", "COM819", "ISC001", "PLE0605",
)  # fmt: skip

# Core's import aliases (ICN001) beyond ruff's defaults.
CORE_ALIASES = {
    "voluptuous": "vol",
    "homeassistant.core.DOMAIN": "HOMEASSISTANT_DOMAIN",
    "homeassistant.helpers.area_registry": "ar",
    "homeassistant.helpers.category_registry": "cr",
    "homeassistant.helpers.config_validation": "cv",
    "homeassistant.helpers.device_registry": "dr",
    "homeassistant.helpers.entity_registry": "er",
    "homeassistant.helpers.floor_registry": "fr",
    "homeassistant.helpers.issue_registry": "ir",
    "homeassistant.helpers.label_registry": "lr",
    "homeassistant.util.dt": "dt_util",
}
