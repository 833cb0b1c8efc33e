"""Fixtures for the ISO 20022 tests: the shared sample folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require


@pytest.fixture(scope="session")
def iso_dir(shared_data: Path) -> Path:
    folder = shared_data / "iso20022"
    require(folder.is_dir(), f"ISO 20022 samples not found at {folder}")
    return folder
