"""Files shipped inside the package: the Cedar schema and the starter policies for ``ztai init``."""

from __future__ import annotations

from importlib import resources

import cedarpy

from ztai.policy.interface import PolicyError

SCHEMA_FILE = "ztai.cedarschema"
STARTER_DIR = "starter"


def schema_text() -> str:
    return resources.files("ztai.policy").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def load_schema() -> cedarpy.Schema:
    """Parse the bundled schema; raises ``PolicyError`` if the package ships a broken one."""
    try:
        return cedarpy.Schema.from_str(schema_text())
    except ValueError as exc:
        raise PolicyError(f"the bundled Cedar schema is invalid: {exc}") from exc


def starter_policies() -> dict[str, str]:
    """The starter ``.cedar`` files by name, for ``ztai init`` to write into the config dir."""
    folder = resources.files("ztai.policy").joinpath(STARTER_DIR)
    return {
        item.name: item.read_text(encoding="utf-8")
        for item in sorted(folder.iterdir(), key=lambda entry: entry.name)
        if item.name.endswith(".cedar")
    }
