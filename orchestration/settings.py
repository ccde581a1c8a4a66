"""Where things live. Every path comes from the environment, with defaults that make the demo
work with no set-up (DESIGN section 3). Read at call time, so tests can point a run elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
BOUNDARIES_DIR = PROJECT_ROOT / "reference" / "boundaries"

# Only for the bundled demo: real deployments set CODI_PSEUDONYM_KEY. The demo generator
# (ingestion.demo) leaves DEMO_MARKER in the sources folder it writes; the key is public, so it
# is used only there.
DEMO_PSEUDONYM_KEY = "codi-demo-key-not-for-real-data"
DEMO_MARKER = ".codi-demo-sources"

_DEFAULTS = {
    "CODI_SOURCES_DIR": "data/sources",
    "CODI_GROUND_TRUTH_DIR": "data/ground_truth",
    "CODI_LAKE_DIR": "lake",
    "CODI_WAREHOUSE": "warehouse/codi.duckdb",
    "CODI_PUBLISH_DIR": "published",
    "CODI_ALERT_LOG": "logs/alerts.log",
}


def _path(name: str) -> Path:
    value = os.environ.get(name) or _DEFAULTS[name]
    path = Path(value)
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


def sources_dir() -> Path:
    return _path("CODI_SOURCES_DIR")


def ground_truth_dir() -> Path:
    return _path("CODI_GROUND_TRUTH_DIR")


def lake_dir() -> Path:
    return _path("CODI_LAKE_DIR")


def warehouse_path() -> Path:
    return _path("CODI_WAREHOUSE")


def publish_dir() -> Path:
    return _path("CODI_PUBLISH_DIR")


def keep_releases() -> int:
    """How many releases `published/releases/` keeps (the current one and those before it), for
    readers that opened an older one and are still reading."""
    return max(1, int(os.environ.get("CODI_KEEP_RELEASES") or 3))


def alert_log() -> Path:
    """Where failed runs are reported, one JSON object a line."""
    return _path("CODI_ALERT_LOG")


def alert_webhook() -> str | None:
    """If set, failed runs are also POSTed here as JSON (e.g. a chat channel's incoming webhook)."""
    return os.environ.get("CODI_ALERT_WEBHOOK") or None


class PseudonymKeyMissing(RuntimeError):
    """No key to pseudonymise real data with: nothing may be loaded."""


def is_demo_sources(folder: Path) -> bool:
    """The folder holds sources the demo generator wrote (its marker file is there)."""
    return (Path(folder) / DEMO_MARKER).is_file()


def pseudonym_key() -> bytes:
    """The HMAC key of the pseudonyms: CODI_PSEUDONYM_KEY; unset, the public demo key, but only
    for the generated demo sources. Anything else is refused (PseudonymKeyMissing), so that real
    citizen IDs are never hashed with a key anyone can read in this repository."""
    key = os.environ.get("CODI_PSEUDONYM_KEY")
    folder = sources_dir()
    if key and (key != DEMO_PSEUDONYM_KEY or is_demo_sources(folder)):
        return key.encode("utf-8")
    if not key and is_demo_sources(folder):
        return DEMO_PSEUDONYM_KEY.encode("utf-8")
    problem = ("CODI_PSEUDONYM_KEY is the public demo key" if key
               else "CODI_PSEUDONYM_KEY is not set")
    raise PseudonymKeyMissing(
        f"{problem} and {folder} is not the bundled demo (it has no {DEMO_MARKER}): set it with "
        "export CODI_PSEUDONYM_KEY=... (at least 32 random bytes, e.g. "
        "`python -c 'import secrets; print(secrets.token_hex(32))'`); keep it secret and the "
        "same across runs, or pseudonyms change. (Demo sources generated before the marker "
        "existed: generate them again with python -m ingestion.demo)")


def dbt_env() -> dict[str, str]:
    """Absolute paths for dbt, which runs in dbt_project/ and reads them with env_var()."""
    return {
        "CODI_LAKE_DIR": str(lake_dir()),
        "CODI_WAREHOUSE": str(warehouse_path()),
    }
