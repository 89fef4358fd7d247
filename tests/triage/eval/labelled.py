"""The labelled set for known-anomaly triage, and its split into a tuning part and an untouched part.

Every YAML file of this folder listed in SET_FILES holds cases: a product
family and version, what the partner wrote, optionally an excerpt of an
attached log, and the anomaly IDs that answer it (none when nothing known
does). Case ids are unique per file; across the set a case is named
"<file stem>/<id>". The id's first letter says what kind of case it is:
t = answerable from its text, l = answerable only from its log, n = no right
answer.

split.yaml assigns every case to "tune" (thresholds, weights, vocabulary and
calibration may be chosen looking at it) or "untouched" (only ever measured).
It was written once, before any tuning, by `write_split` below; it is not to
be rewritten.
"""
from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import yaml

FOLDER = Path(__file__).parent
# cases.yaml is the set an earlier ranking was tuned on; it belongs to the tuning part whole.
TUNED_BEFORE = "cases"
SET_FILES = ("cases", "heldout", "exos", "voss", "wing", "xiq", "xcc")
SPLIT_PATH = FOLDER / "split.yaml"
PARTS = ("tune", "untouched")


def kind_of(case: dict) -> str:
    if not case["expected"]:
        return "none"
    return "log" if case["id"].startswith("l") else "text"


def load_file(stem: str) -> list[dict]:
    cases = yaml.safe_load((FOLDER / f"{stem}.yaml").read_text())["cases"]
    for case in cases:
        case["uid"] = f"{stem}/{case['id']}"
        case["source"] = stem
        case["kind"] = kind_of(case)
    return cases


def load_all() -> list[dict]:
    return [case for stem in SET_FILES for case in load_file(stem)]


def load_split() -> dict[str, set[str]]:
    data = yaml.safe_load(SPLIT_PATH.read_text())
    return {part: set(data[part]) for part in PARTS}


def load_part(part: str) -> list[dict]:
    """The cases of one part ("tune" or "untouched"), in set order."""
    wanted = load_split()[part]
    return [case for case in load_all() if case["uid"] in wanted]


def write_split(seed: int = 20261204) -> None:
    """Split the set: cases.yaml to tuning; every other case, stratified by family and kind, half and half."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    tune: list[str] = []
    for case in load_all():
        if case["source"] == TUNED_BEFORE:
            tune.append(case["uid"])
        else:
            groups[(case["family"].casefold(), case["kind"])].append(case["uid"])
    rng = random.Random(seed)
    untouched: list[str] = []
    for key in sorted(groups):
        uids = sorted(groups[key])
        rng.shuffle(uids)
        # An odd group gives its extra case to the untouched part, alternating which side starts.
        half = len(uids) // 2
        untouched.extend(uids[:len(uids) - half])
        tune.extend(uids[len(uids) - half:])
    header = (f"# The split of the labelled set (labelled.py), written once by write_split(seed={seed})\n"
              "# before any tuning. tune: may be looked at when choosing weights, thresholds, vocabulary\n"
              "# and calibration. untouched: only measured, never tuned on.\n")
    SPLIT_PATH.write_text(header + yaml.safe_dump({"seed": seed, "tune": sorted(tune),
                                                   "untouched": sorted(untouched)}, sort_keys=False))
