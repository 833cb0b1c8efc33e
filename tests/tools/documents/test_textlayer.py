"""PDFium word layer: pdfplumber's grouping rules over character boxes, and a real PDF read through it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tools.documents.pdfium import OpenPage, close_document, open_document
from tools.documents.textlayer import Char, page_chars, words_from_chars


def _run(text: str, x: float, top: float = 10.0, *, gap: bool = False, width: float = 5.0) -> list[Char]:
    chars = []
    for i, ch in enumerate(text):
        chars.append((ch, x + i * width, top, x + (i + 1) * width, top + 10, True, gap and i == 0))
    return chars


def test_words_split_at_gaps_spaces_and_lines() -> None:
    chars = _run("06108", 0) + _run("Halle", 27, gap=True) + _run("Saale", 60) + _run("Next", 0, 30)
    words = words_from_chars(chars, 1)
    assert [w.text for w in words] == ["06108", "Halle", "Saale", "Next"]
    assert (words[0].x0, words[0].top, words[0].x1, words[0].bottom) == (0, 10, 25, 20)
    # 2 points apart and no space between: one word, as pdfplumber's x tolerance of 3 reads it
    assert [w.text for w in words_from_chars(_run("10", 0) + _run("Liter", 12), 1)] == ["10Liter"]


def test_turned_text_stays_apart_from_the_lines_it_crosses() -> None:
    turned = [(ch, 2.0, 10.0 + 4 * i, 8.0, 14.0 + 4 * i, False, False) for i, ch in enumerate("COPY")]
    chars = turned + _run("Total", 40, 10) + _run("Amount", 40, 16)
    assert sorted(w.text for w in words_from_chars(chars, 1)) == ["Amount", "COPY", "Total"]


def test_real_invoice_hyphen_without_font_metrics_stays_in_its_word(shared_data: Path) -> None:
    # The invoice number's hyphen has no Unicode map in pdfminer and an ink-only box in PDFium.
    document = open_document((shared_data / "invoices/real/real_d13.pdf").read_bytes())
    try:
        words = words_from_chars(page_chars(document, 0), 1)
    finally:
        close_document(document)
    assert "B172FB37-0003" in [w.text for w in words]


def _reference_words(chars: list[Char]) -> list[tuple[str, float, float, float, float]]:
    """pdfplumber's grouping written out plainly (as this module first had it): the faster
    grouping must give these words, texts and boxes exactly."""
    ligatures = {"\x02": "-", "ﬁ": "fi", "ﬂ": "fl"}
    words: list[tuple[str, float, float, float, float]] = []

    def flush(run: list[Char]) -> None:
        text = "".join(ligatures.get(c[0], c[0]) for c in run)
        if run and text.strip("\ufffd \t\n"):
            words.append(
                (
                    text,
                    min(c[1] for c in run),
                    min(c[2] for c in run),
                    max(c[3] for c in run),
                    max(c[4] for c in run),
                )
            )

    def clusters(items: list[Char], at: Callable[[Char], float]) -> list[list[Char]]:
        out: list[list[Char]] = []
        last = None
        for c in sorted(items, key=at):
            if last is None or at(c) - last > 3:
                out.append([])
            out[-1].append(c)
            last = at(c)
        return out

    for column in clusters([c for c in chars if not c[5]], lambda c: c[1]):
        current: list[Char] = []
        for c in sorted(column, key=lambda c: c[2]):
            if current and (c[6] or c[2] > current[-1][4] + 3):
                flush(current)
                current = []
            current.append(c)
        flush(current)
    for line in clusters([c for c in chars if c[5]], lambda c: c[2]):
        current = []
        for c in sorted(line, key=lambda c: c[1]):
            if current and (c[6] or c[1] > current[-1][3] + 3 or abs(c[2] - current[-1][2]) > 3):
                flush(current)
                current = []
            current.append(c)
        flush(current)
    return words


def test_word_grouping_equals_the_plain_reference_on_random_characters() -> None:
    import random

    from tools.documents.surface import Surface
    from tools.documents.textlayer import word_texts

    rng = random.Random(11)
    for _ in range(300):
        chars: list[Char] = []
        for _ in range(rng.randint(0, 60)):
            x, top = rng.choice(range(0, 200, 2)) + rng.random(), rng.choice([10.0, 11.5, 14.0, 30.0, 31.0])
            text = rng.choice(["a", "B", "7", "ﬁ", "\x02", "\ufffd", "-"])
            chars.append(
                (text, x, top, x + rng.uniform(2, 6), top + 10, rng.random() > 0.1, rng.random() < 0.15)
            )
        # As drawn (a tenth turned), and all upright: a page without turned text is grouped
        # in one pass over each line, which must give the same words.
        for variant in (chars, [(*c[:5], True, c[6]) for c in chars]):
            want = _reference_words(variant)
            got = words_from_chars(variant, 1)
            assert [(w.text, w.x0, w.top, w.x1, w.bottom) for w in got] == want
            assert word_texts(variant) == [w[0] for w in want]
            dicts = Surface((0.0, 0.0, 300.0, 300.0), variant, []).extract_words()
            assert [(d["text"], d["x0"], d["top"], d["x1"], d["bottom"]) for d in dicts] == want


def test_cell_texts_equal_the_plain_reference_on_random_cells() -> None:
    """A cell's few characters, mostly one line drawn left to right (the shortcut), sometimes
    not: out of order, two at one left edge, a top past the tolerance, a turned one."""
    import random

    from tools.documents.textlayer import word_texts

    rng = random.Random(13)
    shortcut = 0
    for _ in range(3000):
        chars: list[Char] = []
        x = rng.uniform(0, 50)
        for _ in range(rng.randint(0, 8)):
            x += rng.choice([0.0, 2.5, 4.0, 6.0, 9.5, 12.0])
            top = 100 + rng.choice([0.0, 0.0, 0.5, 1.5, 3.0, 3.5, 8.0])
            text = rng.choice(["a", "B", "7", "ﬁ", "\x02", "\ufffd", "-"])
            chars.append(
                (text, x, top, x + rng.uniform(2, 6), top + 10, rng.random() > 0.05, rng.random() < 0.15)
            )
        if rng.random() < 0.2:
            rng.shuffle(chars)
        want = [w[0] for w in _reference_words(chars)]
        assert word_texts(chars) == want, chars
        tops = [c[2] for c in chars]
        shortcut += len(chars) > 1 and max(tops) - min(tops) <= 3 and all(c[5] for c in chars)
    assert shortcut > 500


def test_unchecked_pdfium_calls_read_what_the_declared_ones_read(shared_data: Path) -> None:
    """The per-character calls made without ctypes' argument conversion give the same boxes and
    angles; a function with an argument ctypes would pass wrongly undeclared (an unsigned long)
    keeps its declaration."""
    import ctypes

    import pypdfium2.raw as raw

    from tools.documents.pdfium import OpenPage, unchecked

    assert unchecked("FPDFFormObj_GetObject") is raw.FPDFFormObj_GetObject  # index is a c_ulong
    box, angle = unchecked("FPDFText_GetLooseCharBox"), unchecked("FPDFText_GetCharAngle")
    assert box is not raw.FPDFText_GetLooseCharBox and angle is not raw.FPDFText_GetCharAngle
    document = open_document((shared_data / "invoices/real/real_d13.pdf").read_bytes())
    try:
        with OpenPage(document, 0) as page:
            handle = raw.FPDFText_LoadPage(page.get().raw)
            try:
                count = raw.FPDFText_CountChars(handle)
                assert count > 100
                rect = raw.FS_RECTF()
                read = []
                for function, angles in (
                    (raw.FPDFText_GetLooseCharBox, raw.FPDFText_GetCharAngle),
                    (box, angle),
                ):
                    found = []
                    for i in range(count):
                        ok = function(handle, i, ctypes.byref(rect))
                        found.append((ok, rect.left, rect.top, rect.right, rect.bottom, angles(handle, i)))
                    read.append(found)
                assert read[0] == read[1]
            finally:
                raw.FPDFText_ClosePage(handle)
    finally:
        close_document(document)


def _page_with(turn: float | None, *, in_form: bool = False) -> bytes:
    """One page of level text, plus a word turned by ``turn`` degrees (fpdf2's rotation: a ``cm``
    before the text); ``in_form`` draws the page inside a form XObject (a template)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.text(20, 30, "Invoice total 120.00 EUR")
    if turn is not None:
        with pdf.rotation(turn, 100, 100):
            pdf.text(100, 100, "COPY")
    data = bytes(pdf.output())
    if not in_form:
        return data
    import io

    import pikepdf

    # The page's content moved into a form XObject the page draws: PDFium composes its matrix.
    with pikepdf.open(io.BytesIO(data)) as document:
        page = document.pages[0]
        page.contents_coalesce()
        form = document.make_stream(page.obj.Contents.read_bytes())
        form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
        form.BBox, form.Resources = page.mediabox, page.obj.Resources
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Fm0=form))
        page.obj.Contents = document.make_stream(b"q /Fm0 Do Q")
        out = io.BytesIO()
        document.save(out)
    return out.getvalue()


def test_level_pages_skip_the_angle_calls_and_read_the_same_characters() -> None:
    """A page whose text objects are all upright is read without asking each character's angle;
    a turned word (90 degrees, or only 2: over PDFium's 0.01-radian bound), on the page or inside
    a form, keeps the calls. Either way the characters equal those read with every angle asked."""
    from tools.documents.pdfium import _LOCK, OpenPage
    from tools.documents.textlayer import _chars, _objects

    for turn, in_form, want_level in (
        (None, False, True),
        (None, True, True),
        (90.0, False, False),
        (2.0, False, False),
        (90.0, True, False),
        (0.1, False, True),  # 0.0017 radians: upright to PDFium too
    ):
        document = open_document(_page_with(turn, in_form=in_form))
        try:
            with OpenPage(document, 0) as page, _LOCK:
                _, _, level = _objects(page.get())
                asked, skipped = _chars(page.get(), False), _chars(page.get(), level)
        finally:
            close_document(document)
        assert level is want_level, (turn, in_form)
        assert skipped == asked, (turn, in_form)
        turned = [c[0] for c in asked if not c[5]]
        assert turned == ([] if want_level else list("COPY")), (turn, in_form)


def test_text_in_forms_nested_past_the_walk_is_not_taken_as_level() -> None:
    import io

    import pikepdf

    from tools.documents.pdfium import _LOCK, OpenPage
    from tools.documents.textlayer import _objects
    from tools.documents.vectors import _MAX_DEPTH

    with pikepdf.open(io.BytesIO(_page_with(None))) as document:
        page = document.pages[0]
        page.contents_coalesce()
        inner = document.make_stream(page.obj.Contents.read_bytes())
        for _ in range(_MAX_DEPTH + 1):  # each form draws the one inside it
            inner.Type, inner.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
            inner.BBox = page.mediabox
            if "/Resources" not in inner:
                inner.Resources = page.obj.Resources
            outer = document.make_stream(b"q /Fm0 Do Q")
            outer.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Fm0=inner))
            inner = outer
        page.obj.Resources, page.obj.Contents = inner.Resources, inner
        out = io.BytesIO()
        document.save(out)
    opened = open_document(out.getvalue())
    try:
        with OpenPage(opened, 0) as loaded, _LOCK:
            assert _objects(loaded.get())[2] is False
    finally:
        close_document(opened)


def _two_pieces(first: str, second: str, gap: float, size: float = 8.0) -> list[str]:
    """The words read from ``first`` and ``second`` drawn as two pieces ``gap`` points apart on one
    line, with no space character between them (PDFium guesses one past about 1 point)."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt")
    pdf.add_page()
    pdf.set_font("Helvetica", size=size)
    pdf.text(50, 100, first)
    pdf.text(50 + pdf.get_string_width(first) + gap, 100, second)
    document = open_document(bytes(pdf.output()))
    try:
        with OpenPage(document, 0) as page:
            return [w.text for w in words_from_chars(_layer(page), 1)]
    finally:
        close_document(document)


def _layer(page: OpenPage) -> list[Char]:
    from tools.documents.textlayer import read_layer

    return read_layer(page.get()).chars


def test_a_guessed_space_inside_a_kerned_word_does_not_split_it() -> None:
    """PDFium guesses a space from a gap of a point or so (a kerned "r" before "n" in a German
    compound): a gap under ``_KERNED`` of the line height before a small letter joins the word;
    a gap the size of a space, or a capital after the gap, keeps two words."""
    assert _two_pieces("Taxiunter", "nehmen", 1.2) == ["Taxiunternehmen"]
    assert _two_pieces("Taxiunter", "nehmen", 2.0) == ["Taxiunter", "nehmen"]
    assert _two_pieces("Herr", "J", 1.2) == ["Herr", "J"]  # a guessed space before a capital stays
    assert _two_pieces("total", "amount", 2.4) == ["total", "amount"]  # a narrow space stays one
