"""The drift alert rules (infra/prometheus/alerts.yml) are valid, fire under promtool's unit test on
series that cross them, and only use series the service exports.

promtool comes from Debian's ``prometheus`` package (infra/setup/system-deps.sh); without it these
tests skip on a developer machine and fail in CI.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from app.drift_metrics import _families
from app.services.drift import CONFIDENCE_BOUNDS
from app.services.monitoring import Snapshot, WindowFigures
from tests.conftest import ROOT, require

RULES = ROOT / "infra" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "infra" / "prometheus" / "alerts.test.yml"


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    require(promtool is not None, "promtool is not installed (Debian package prometheus)")
    assert promtool is not None
    return subprocess.run([promtool, *map(str, args)], capture_output=True, text=True, timeout=60)


def test_promtool_accepts_the_rules() -> None:
    result = _promtool("check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout


def test_the_alerts_fire_under_promtools_unit_test() -> None:
    result = _promtool("test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_unit_test_fails_when_the_psi_alert_no_longer_fires(tmp_path: Path) -> None:
    """The unit test has teeth: with the PSI threshold raised above the shifted series, it fails."""
    text = RULES.read_text(encoding="utf-8")
    broken = text.replace(
        'repairdesk_psi{feature="exception_code"} > 0.25', 'repairdesk_psi{feature="exception_code"} > 0.5'
    )
    assert broken != text
    (tmp_path / "alerts.yml").write_text(broken, encoding="utf-8")
    shutil.copy(RULE_TESTS, tmp_path / "alerts.test.yml")
    result = _promtool("test", "rules", tmp_path / "alerts.test.yml")
    assert result.returncode != 0
    assert "RepairDeskExceptionCodeMixShifted" in result.stdout + result.stderr


def _exported_names() -> set[str]:
    day = datetime(2026, 11, 20, tzinfo=UTC)
    window = WindowFigures(
        start=day - timedelta(days=7),
        end=day,
        codes={"AC01": 3},
        outcomes={"AC01": {"approved": 2, "rejected": 1}},
        proposals=3,
        straight_through=1,
        confidence=[0] * (len(CONFIDENCE_BOUNDS) - 1) + [3],
        qa_reviews=1,
        qa_disagreements=0,
    )
    snapshot = Snapshot(window, window, {"exception_code": 0.0, "confidence": 0.0}, 1, day)
    return {sample.name for family in _families(snapshot) for sample in family.samples}


def test_the_rules_only_use_series_the_service_exports() -> None:
    rules = [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]
    used = {name for rule in rules for name in re.findall(r"\brepairdesk_\w+", rule["expr"])}
    assert len(used) >= 7
    assert used <= _exported_names(), used - _exported_names()
    assert all(rule["labels"]["severity"] in {"warning", "critical"} for rule in rules)
