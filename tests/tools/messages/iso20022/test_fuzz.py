"""Property tests: damaged real messages never raise anything but ParseError (or UnsafeInputError)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED_DATA
from tools.errors import ParseError
from tools.messages.iso20022 import parse_xml
from tools.messages.model import Extraction

ISO = SHARED_DATA / "iso20022"
SAMPLE_NAMES = [
    "fedwire_moov/CustomerCreditTransfer__CustomerCreditTransfer_Variation6_pacs.008.xml",
    "fedwire_moov/PaymentReturn__PaymentReturn_Scenario1_Step4_pacs.004.xml",
    "fedwire_moov/FedwireFundsPaymentStatus__CustomerCreditTransfer_Scenario2_Step2_pacs.002.xml",
    "fedwire_moov/ReturnRequestResponse__Paymentreturn_Scenario1_Step3_camt.029.xml",
    "camt_genkgo/camt053.v2.minimal.xml",
    "camt_genkgo/camt054.v8-with-UETR.xml",
    "cbpr_phoughton/test_files/2025/pacs009_fi_transfer_sample.xml",
    "cbpr_phoughton/test_files/2025/pain001_credit_initiation_sample.xml",
]
SAMPLES = [(ISO / n).read_bytes() for n in SAMPLE_NAMES if (ISO / n).is_file()]
FUZZ = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse_or_parse_error(data: bytes) -> None:
    try:
        result = parse_xml(data, "fuzz.xml")
    except ParseError:
        return
    assert isinstance(result, Extraction)
    result.to_json_dict()  # the extraction must also serialise


@pytest.fixture(autouse=True)
def _need_samples(iso_dir: Path) -> None:
    assert len(SAMPLES) == len(SAMPLE_NAMES)


@FUZZ
@given(sample=st.sampled_from(range(len(SAMPLE_NAMES))), cut=st.floats(min_value=0.0, max_value=1.0))
def test_truncation(sample: int, cut: float) -> None:
    data = SAMPLES[sample]
    _parse_or_parse_error(data[: int(len(data) * cut)])


@FUZZ
@given(
    sample=st.sampled_from(range(len(SAMPLE_NAMES))),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_byte_flips(sample: int, flips: list[tuple[float, int]]) -> None:
    data = bytearray(SAMPLES[sample])
    for where, value in flips:
        data[min(int(where * len(data)), len(data) - 1)] = value
    _parse_or_parse_error(bytes(data))


@FUZZ
@given(sample=st.sampled_from(range(len(SAMPLE_NAMES))), data=st.data())
def test_field_shuffles(sample: int, data: st.DataObject) -> None:
    # lines of these samples are elements: permuting some of them reorders and re-nests fields
    lines = SAMPLES[sample].split(b"\n")
    picked = data.draw(st.lists(st.integers(0, len(lines) - 1), min_size=2, max_size=6, unique=True))
    order = data.draw(st.permutations(picked))
    shuffled = list(lines)
    for source, target in zip(picked, order, strict=True):
        shuffled[target] = lines[source]
    _parse_or_parse_error(b"\n".join(shuffled))
