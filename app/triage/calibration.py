"""How sure triage is of a suggestion: a confidence learned from labelled cases, and the cut above which a
suggestion is a finding that needs a ruling.

Ranking describes each suggestion by a few features (its score and its margin over the next one, how much
of the anomaly's distinctive wording and of the case's text it matches, whether the case's version and
the log's fit, whether the log shows the anomaly's signature...). A logistic model over those features,
fitted on the tuning part of the labelled set (tests/triage/eval, `python -m bench.triage_eval --fit`),
turns them into the probability that the suggestion is the right answer. It is plain numpy: fitting is
Newton's method with a small L2 penalty, so the same numbers come out on every machine.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path


CALIBRATION_PATH = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Calibration:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    cut: float  # a suggestion whose confidence reaches this is a finding
    trained_on: dict = field(default_factory=dict)  # what the model was fitted on, for the record

    def confidence(self, values: dict[str, float]) -> float:
        z = self.bias
        for name, mean, scale, weight in zip(self.features, self.mean, self.scale, self.weights):
            z += weight * (float(values.get(name, 0.0)) - mean) / scale
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        return cls(tuple(data["features"]), tuple(map(float, data["mean"])), tuple(map(float, data["scale"])),
                   tuple(map(float, data["weights"])), float(data["bias"]), float(data["cut"]),
                   dict(data.get("trained_on") or {}))


def load(path: Path = CALIBRATION_PATH) -> Calibration:
    return Calibration.from_dict(json.loads(path.read_text()))


@lru_cache(maxsize=1)
def shipped() -> Calibration:
    """The calibration that ships with the application (calibration.json)."""
    return load()


def fit(rows: list[dict[str, float]], labels: list[int], features: tuple[str, ...], penalty: float = 1.0,
        cut: float = 0.5, trained_on: dict | None = None) -> Calibration:
    """Fit a logistic model of `labels` (1 = the right anomaly) on feature `rows`; features are standardised."""
    import numpy as np  # fitting is offline: no process loads numpy for it

    x = np.array([[float(row.get(name, 0.0)) for name in features] for row in rows], dtype=float)
    y = np.array(labels, dtype=float)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    ridge = np.eye(z.shape[1]) * penalty
    ridge[0, 0] = 0.0  # the intercept is not penalised
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -30, 30)))
        gradient = z.T @ (p - y) + ridge @ w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + ridge
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return Calibration(tuple(features), tuple(round(v, 6) for v in mean), tuple(round(v, 6) for v in scale),
                       tuple(round(v, 6) for v in w[1:]), round(float(w[0]), 6), cut, dict(trained_on or {}))
