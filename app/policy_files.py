"""Reading the policy data files (routing rules, SLA targets, calendars) at start-up."""
from __future__ import annotations

from pathlib import Path

import yaml

SEVERITIES = ("S1", "S2", "S3", "S4")


class PolicyFileError(Exception):
    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")


def load_yaml(path: Path) -> dict:
    """The file's mapping, or PolicyFileError naming the file and why."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyFileError(path, f"cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyFileError(path, "must hold a mapping")
    return data
