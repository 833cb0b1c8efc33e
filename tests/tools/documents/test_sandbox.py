"""The document sandbox: typed errors come back, and the OS limits hold where the checks do not."""

from __future__ import annotations

import time

import pytest

from tests.agents.fixtures import mt103
from tests.hostile_documents import giant_page, raw_pdf
from tools.documents.sandbox import extract_sandboxed, run_sandboxed
from tools.errors import DocumentError, InputTooLargeError
from tools.extract import extract_bytes


def _blank_poster() -> bytes:
    """A page just under the size limit with no text: rendered large and OCR'd, seconds of work."""
    return raw_pdf([("0 0 3900 3900", b"0 0 m 3900 3900 l S")])


def test_the_sandbox_gives_the_same_extraction_as_in_process() -> None:
    data = mt103(ref="SANDBOX").encode()
    expected = [e.to_json_dict() for e in extract_bytes(data, "m.fin")]
    assert extract_sandboxed(data, "m.fin") == expected


def test_a_typed_error_comes_back_typed() -> None:
    with pytest.raises(InputTooLargeError) as caught:
        extract_sandboxed(giant_page(), "giant.pdf")
    assert "page-size limit" in str(caught.value) and caught.value.source == "giant.pdf"


def test_work_past_the_time_limit_is_killed_and_named() -> None:
    started = time.monotonic()
    with pytest.raises(DocumentError) as caught:
        run_sandboxed("extract", _blank_poster(), "poster.pdf", timeout_s=0.3)
    assert "0.3 s time limit" in str(caught.value)
    assert time.monotonic() - started < 5


def test_work_past_the_memory_limit_fails_typed_and_names_it() -> None:
    with pytest.raises(DocumentError) as caught:
        run_sandboxed("extract", _blank_poster(), "poster.pdf", memory_mb=250, timeout_s=60)
    assert "250 MB" in str(caught.value)


def test_rendering_runs_in_the_sandbox_too() -> None:
    pages = run_sandboxed("render", raw_pdf([("0 0 612 792", b"BT /F1 12 Tf 72 720 Td (Hi) Tj ET")]), "a.pdf")
    assert len(pages) == 1 and pages[0].png.startswith(b"\x89PNG")


def test_the_child_reads_with_the_callers_configured_limits() -> None:
    # The child comes from the fork server, not from this process: the limits Settings configured
    # here (REPAIRDESK_DOC_*) must still reach it.
    from dataclasses import replace

    from tools import config

    page = ("0 0 595 842", b"0 0 m 10 10 l S")
    two_pages = raw_pdf([page, page])
    current = config.current()
    limited = config.override(documents=replace(current.documents, max_pages=1))
    with limited, pytest.raises(DocumentError) as caught:
        extract_sandboxed(two_pages, "two.pdf")
    assert "over the limit of 1" in str(caught.value)
