"""The calibrator artefact: plain JSON in, the same probabilities out; bad files refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tools.calibration import Calibrator
from tools.calibration.model import committed_artefact
from tools.errors import ValidationError


def small() -> Calibrator:
    return Calibrator(
        version="cal-test",
        features=["a", "b"],
        mean=[0.0, 1.0],
        scale=[1.0, 2.0],
        coef=[2.0, -1.0],
        intercept=0.0,
        iso_x=[0.0, 0.5, 1.0],
        iso_y=[0.1, 0.5, 0.9],
    )


def test_round_trip_keeps_probabilities(tmp_path: Path) -> None:
    model = small()
    loaded = Calibrator.load(model.save(tmp_path / "c.json"))
    rows = np.array([[0.0, 1.0], [3.0, 0.0], [-2.0, 5.0]])
    assert np.allclose(loaded.probabilities(rows), model.probabilities(rows))
    assert loaded.probability({"a": 0.0, "b": 1.0}) == pytest.approx(0.5)
    assert model.probability({"a": 5.0}) > model.probability({"a": -5.0})  # missing "b" counts as 0


def test_refuses_what_is_not_a_calibrator(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"format": "pickle", "version": "x"}))
    with pytest.raises(ValidationError, match="not a"):
        Calibrator.load(path)
    data = small().to_json()
    data["coef"] = [1.0]
    path.write_text(json.dumps(data))
    with pytest.raises(ValidationError, match="disagree"):
        Calibrator.load(path)


def test_committed_artefact_reads_the_features_the_graph_writes() -> None:
    from agents.confidence import features

    model = Calibrator.load(committed_artefact())
    proposal = {"action": "repair", "changes": [{"field": "x", "new": "y"}], "guard": {"passed": True}}
    written = features({"case": {"case_id": "c"}, "classified_from": ["given"]}, proposal)
    assert set(model.features) == set(written)
    assert 0.0 <= model.probability(written) <= 1.0


def tree_samples() -> list:
    from evals.calibration import Sample

    # an interaction a linear score cannot see: right when exactly one of a, b is set
    return [
        Sample(
            {"a": float(i % 2), "b": float((i // 2) % 2), "n": float(i % 7)},
            (i % 2) ^ ((i // 2) % 2),
            "X",
            f"g{i}",
            "train",
        )
        for i in range(240)
    ]


def test_trees_export_to_json_and_score_as_fitted(tmp_path: Path) -> None:
    from evals.calibration import evaluate, fit

    samples = tree_samples()
    trees = fit(samples, model="gbt", version="trees")
    linear = fit(samples, model="logistic", version="linear")
    assert trees.trees and not linear.trees
    loaded = Calibrator.load(trees.save(tmp_path / "t.json"))
    # fit() checked the export against scikit-learn; the loaded file scores the same
    x = np.array([[s.features[n] for n in trees.features] for s in samples])
    assert np.allclose(loaded.probabilities(x), trees.probabilities(x))
    assert evaluate(trees, samples)["overall"]["auroc"] > 0.99
    assert evaluate(linear, samples)["overall"]["auroc"] < 0.75


def test_refuses_a_malformed_tree(tmp_path: Path) -> None:
    from evals.calibration import fit

    data = fit(tree_samples(), model="gbt").to_json()
    tree = data["trees"][0]
    first_split = tree["leaf"].index(0)
    tree["left"][first_split] = first_split  # a loop: walking it would never end
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValidationError, match="malformed calibrator tree"):
        Calibrator.load(path)
