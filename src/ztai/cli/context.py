"""Shared CLI plumbing: finding the config, opening stores, reporting errors."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from ztai.config.settings import Settings, load_settings
from ztai.core.errors import ZtaiError
from ztai.storage.sqlite import SqliteAuditStore, SqliteKeyStore

DEFAULT_CONFIG = Path("ztai.yaml")
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Path to ztai.yaml (default: $ZTAI_CONFIG or ./ztai.yaml)"),
]
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def console() -> Console:
    return Console(highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    Console(stderr=True, highlight=False).print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def settings_from(config: Path | None) -> Settings:
    path = config or Path(os.environ.get("ZTAI_CONFIG", DEFAULT_CONFIG))
    if not path.exists():
        fail(f"configuration {path} not found; create one with 'ztai init DIR'")
    try:
        return load_settings(path)
    except ZtaiError as exc:
        fail(exc.message)


def key_store(settings: Settings) -> SqliteKeyStore:
    return SqliteKeyStore(settings.path(settings.storage.sqlite_path))


def audit_store(settings: Settings) -> SqliteAuditStore:
    return SqliteAuditStore(settings.path(settings.storage.sqlite_path))


def format_time(at: float | None) -> str:
    """A UTC timestamp for tables; ``-`` for none."""
    if at is None:
        return "-"
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def parse_duration(text: str) -> float:
    """``90s``, ``15m``, ``12h``, ``30d``, ``2w`` → seconds."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        fail(f"invalid duration {text!r}: use a positive number with s, m, h, d or w (e.g. 30d)")
    return int(match.group(1)) * _UNITS[match.group(2)]
