"""The record of which trained runs are the lessons' models, kept with the runs in ``models/``.

Lessons 03-07 record their headline runs by readable label; lesson 08 records the model the
``colorize`` command uses by default. The record lives in ``models/lessons.json``, beside the
runs it names, so the command line needs nothing from the report layer and the committed
reports never show a run folder's hash. Entries are kept per profile: the quick ``smoke`` runs of
the tests never replace the course's ``full`` models.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from colorize import config

REGISTRY_FILE = "lessons.json"
#: Which profile's record the command line prefers when several exist.
PREFERRED_PROFILES = ("full",)


def registry_path() -> Path:
    return config.models_dir() / REGISTRY_FILE


def _read() -> dict:
    path = registry_path()
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write(record: dict) -> None:
    """Atomically: a reader never sees half a file, and a crash leaves the old record."""
    path = registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".lessons-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(record, file, indent=2)  # labels keep the order the lesson recorded them in
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def record_runs(lesson: str, profile: str, names: dict[str, str]) -> None:
    """Record ``{label: run folder name}`` as ``lesson``'s models under ``profile`` (replacing
    what that lesson recorded before under that profile)."""
    record = _read()
    record.setdefault("runs", {}).setdefault(profile, {})[lesson] = dict(names)
    _write(record)


def recorded_names(lesson: str, profile: str) -> dict[str, str]:
    """``{label: run folder name}`` that ``lesson`` recorded under ``profile`` ({} if none)."""
    return dict(_read().get("runs", {}).get(profile, {}).get(lesson, {}))


def profiles() -> list[str]:
    """Profiles with recorded runs, the preferred ones first."""
    found = list(_read().get("runs", {}))
    return sorted(found, key=lambda name: (name not in PREFERRED_PROFILES, name))


def record_recommendation(profile: str, label: str, run_name: str) -> None:
    record = _read()
    record.setdefault("recommended", {})[profile] = {"label": label, "run": run_name}
    _write(record)


def recommendation(profile: str | None = None) -> tuple[str, str] | None:
    """(label, run folder name) of the recommended model under ``profile`` (default: the
    preferred profile that has one), or None."""
    chosen = _read().get("recommended", {})
    order = [profile] if profile else sorted(chosen, key=lambda name: (name not in PREFERRED_PROFILES, name))
    for name in order:
        if name in chosen:
            return chosen[name]["label"], chosen[name]["run"]
    return None
