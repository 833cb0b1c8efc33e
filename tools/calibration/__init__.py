"""Calibrated confidence: the probability that an analyst approves a proposal unchanged."""

from tools.calibration.model import Calibrator, active_calibrator, shadow_calibrator

__all__ = ["Calibrator", "active_calibrator", "shadow_calibrator"]
