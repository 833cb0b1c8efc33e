"""Cited procedure sections for the case page: the corpus's Markdown rendered safely on the server."""

from __future__ import annotations

from pathlib import Path

from agents.contract import Citation
from app.services.procedures import render_markdown, section_text
from app.ui.view import _citations


def test_the_cited_row_and_its_section_are_rendered() -> None:
    found = section_text("SOP-AC01", "3.3", row=2)
    assert found is not None and found.title == "Decide" and found.row == 2
    assert found.row_text is not None and found.row_text.splitlines()[0] == "| Evidence | Action |"
    assert (
        found.row_html is not None
        and "<td><code>repair</code> the creditor IBAN from the SSI</td>" in found.row_html
    )
    assert found.html.count("<tr>") == 7  # the header and the six rows of the section's table
    # A row the table does not have shows the section without a rule row.
    missing = section_text("SOP-AC01", "3.3", row=42)
    assert missing is not None and missing.row is None and missing.row_html is None
    assert section_text("SOP-AC01", "9.9") is None and section_text("../etc/passwd", "1") is None


def test_raw_html_and_script_links_in_markdown_are_not_rendered(tmp_path: Path) -> None:
    html = render_markdown(
        '<script>alert(1)</script>\n\n[click](javascript:alert(1)) <img src=x onerror="y">'
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html and "<img" not in html
    (tmp_path / "SOP-X.md").write_text(
        '---\ndoc_id: SOP-X\ntitle: x\n---\n## 1. Scope\n<b onclick="x()">bold</b>\n', encoding="utf-8"
    )
    found = section_text("SOP-X", "1", root=tmp_path)
    assert found is not None and "<b onclick" not in found.html and "&lt;b onclick" in found.html


def test_a_citation_the_corpus_cannot_resolve_keeps_its_text_unrendered() -> None:
    stored = {"doc_id": "SOP-NOPE", "section": "1", "row": True, "text": "<script>x</script>"}
    cited = _citations([Citation.model_validate(stored)])
    assert cited == [
        {
            "doc_id": "SOP-NOPE",
            "section": "1",
            "row": None,  # a boolean is not a row number
            "title": "",
            "text": "<script>x</script>",  # shown in <pre>, escaped by the template
            "html": None,
            "row_html": None,
        }
    ]
