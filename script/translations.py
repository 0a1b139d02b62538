"""Write translations/en.json from strings.json, resolving [%key:...%] like HA's own tooling.

Run: .venv/bin/python script/translations.py  (tests/test_translations.py checks it is up to date).
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import homeassistant

ROOT = Path(__file__).resolve().parent.parent
COMPONENT = ROOT / "custom_components" / "open_music_box"
REFERENCE = re.compile(r"\[%key:([a-z0-9_]+(?:::[a-z0-9_-]+)+)%\]")


def resolved_strings() -> dict[str, Any]:
    """Return strings.json with every reference replaced by its text."""
    common = json.loads((Path(homeassistant.__file__).parent / "strings.json").read_text("utf-8"))
    own = json.loads((COMPONENT / "strings.json").read_text("utf-8"))
    root = {**common, "component": {"open_music_box": own}}

    def lookup(key: str) -> Any:
        node: Any = root
        for part in key.split("::"):
            node = node[part]
        return resolve(node)

    def resolve(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, str):
            return REFERENCE.sub(lambda m: lookup(m.group(1)), value)
        return value

    result: dict[str, Any] = resolve(own)
    return result


def main() -> None:
    text = json.dumps(resolved_strings(), indent=2, ensure_ascii=False) + "\n"
    (COMPONENT / "translations" / "en.json").write_text(text, "utf-8")
    print("translations/en.json written")


if __name__ == "__main__":
    main()
