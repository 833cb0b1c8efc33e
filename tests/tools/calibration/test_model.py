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


def test_cross_fitted_scores_no_row_with_a_model_that_saw_its_source_case() -> None:
    import random

    from evals.calibration import Sample, cross_fitted, evaluate, fit

    rng = random.Random(7)
    outcome = {g: rng.random() < 0.5 for g in range(40)}
    hint = {g: float(outcome[g] if rng.random() < 0.75 else not outcome[g]) for g in range(40)}
    # each source case is recognisable by its own feature (a model that saw it remembers its label);
    # across cases only a noisy hint carries over
    samples = [
        Sample({f"case{g}": 1.0, "hint": hint[g]}, int(outcome[g]), "X", f"g{g}", "train")
        for g in range(40)
        for _ in range(4)
    ]
    assert evaluate(fit(samples, model="logistic"), samples)["overall"]["auroc"] > 0.95
    crossed = cross_fitted(samples, folds=5, model="logistic")
    assert crossed["folds"] == 5 and crossed["groups"] == 40 and crossed["overall"]["n"] == 160
    assert crossed["overall"]["auroc"] < 0.8


def test_the_logistic_regression_keeps_the_known_directions() -> None:
    from sklearn.linear_model import LogisticRegression

    from evals.calibration import MonotoneLogistic, Sample, fit

    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + x[:, 1] + rng.normal(size=400) > 0).astype(float)
    free = MonotoneLogistic(1.0, [0, 0]).fit(x, y)  # no constraint: scikit-learn's own solution
    reference = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    assert np.allclose(free.coef_, reference.coef_, atol=1e-3)
    assert np.allclose(free.predict_proba(x), reference.predict_proba(x), atol=1e-3)
    # a sample where rows without a customer id happen to be right more often: the weight stays ≤ 0
    samples = [
        Sample(
            {"no_customer": float(i % 3 == 0), "x": float(x[i, 0])},
            int(y[i] or i % 3 == 0),
            "X",
            f"g{i}",
            "train",
        )
        for i in range(400)
    ]
    model = fit(samples, model="logistic")
    assert model.coef[model.features.index("no_customer")] <= 0.0
    assert model.coef[model.features.index("x")] > 0.0
