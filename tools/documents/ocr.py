"""OCR reader: tesseract (via pytesseract) on a cleaned page image: a photographed sheet seen
square-on, uneven light evened out, small print enlarged, deskewed, binarised; a page fed in
sideways or upside down read upright.

Contract: :func:`ocr_image` takes a PIL image and returns :class:`Word` s with the page number, a
layout box on the levelled (deskewed) page and a provenance box (``Word.box``) on the page as
delivered, both in the caller's coordinate system (``scale`` and ``offset`` convert the image's
pixels), and tesseract's confidence in [0, 1]. ``languages`` ("deu+eng") fixes the tesseract
languages; by default a quick probe picks the page's language among ``REPAIRDESK_OCR_LANGUAGES``. It raises
:class:`DocumentError` when tesseract is missing or runs past the per-page time limit.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
from PIL import Image

from tools.documents.layout import Word
from tools.documents.limits import limits
from tools.documents.picture import Cleaned, clean
from tools.errors import DocumentError

_TESSERACT_LANG = {"en": "eng", "de": "deu", "fr": "fra", "nl": "nld", "es": "spa"}


def tesseract(image: Image.Image, *, lang: str, psm: int, data: bool, page: int, source: str) -> Any:
    """Run tesseract once on ``image``: ``image_to_data`` (a dict) or ``image_to_string``.

    The image goes to tesseract as an uncompressed BMP file: pytesseract would otherwise encode a
    PNG, a tenth of a second per A4 page spent only on compression. Errors become DocumentError.
    """
    import pytesseract

    # One tesseract thread per call: pages and documents run in parallel instead.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    config = f"--oem 1 --psm {psm}"
    try:
        with tempfile.TemporaryDirectory(prefix="repairdesk-ocr-") as folder:
            path = os.path.join(folder, "page.bmp")
            image.save(path, format="BMP")
            if data:
                return pytesseract.image_to_data(
                    path,
                    lang=lang,
                    config=config,
                    output_type=pytesseract.Output.DICT,
                    timeout=limits().ocr_timeout_s,
                )
            return pytesseract.image_to_string(path, lang=lang, config=config, timeout=limits().ocr_timeout_s)
    except RuntimeError as exc:  # pytesseract signals its timeout this way
        raise DocumentError(f"OCR of page {page} ran past {limits().ocr_timeout_s} s", source=source) from exc
    except pytesseract.TesseractNotFoundError as exc:
        raise DocumentError(
            "tesseract is not installed (apt-get install tesseract-ocr)", source=source
        ) from exc
    except pytesseract.TesseractError as exc:
        raise DocumentError(f"OCR failed on page {page}: {exc.message}", source=source) from exc


def probe_language(cleaned: Image.Image, page: int = 1, source: str = "") -> str:
    """Guess the page's language from a quick, half-resolution OCR of its top third."""
    from tools.documents.labels import language_of
    from tools.documents.normalize import fold

    width, height = cleaned.size
    # A full page: its top third at half resolution is enough; a small region is read whole.
    strip = (
        cleaned.crop((0, 0, width, height // 3)).resize((width // 2, height // 6))
        if height > 1500
        else cleaned
    )
    text = tesseract(strip, lang="eng", psm=3, data=False, page=page, source=source)
    return language_of([fold(w).strip(":.,;") for w in str(text).split()]) or "en"


def words_language(words: list[Word], configured: str | None = None) -> str | None:
    """The tesseract language of OCR'd words (to read a document's later pages without a probe),
    or None when the words do not tell."""
    from tools.documents.labels import language_of
    from tools.documents.normalize import fold

    found = language_of([fold(w.text).strip(":.,;") for w in words])
    lang = _TESSERACT_LANG.get(found or "")
    allowed = (configured or limits().ocr_languages).split("+")
    return lang if lang in allowed else None


def choose_language(cleaned: Image.Image, configured: str | None, page: int, source: str) -> str:
    """One tesseract language for the page.

    A single model per pass: a second one ("deu+eng") costs another model load and a fallback pass
    over doubtful words, and tesseract favours the first language anyway. The Latin-script models
    read each other's names, IBANs and figures; what the wrong one loses is accents and umlauts,
    which is why the language is probed rather than fixed.
    """
    allowed = (configured or limits().ocr_languages).split("+")
    if len(allowed) == 1:
        return allowed[0]
    primary = _TESSERACT_LANG.get(probe_language(cleaned, page, source), "eng")
    return primary if primary in allowed else allowed[0]


def _unrotate(x: float, y: float, angle: float, width: float, height: float) -> tuple[float, float]:
    """Map a point of the deskewed image back onto the original image."""
    if not angle:
        return x, y
    theta = math.radians(angle)
    cx, cy = width / 2, height / 2
    dx, dy = x - cx, y - cy
    # cv2 rotates counter-clockwise by ``angle`` in image coordinates; undo it.
    return (
        cx + dx * math.cos(theta) - dy * math.sin(theta),
        cy + dx * math.sin(theta) + dy * math.cos(theta),
    )


def _unflatten(points: list[tuple[float, float]], matrix: np.ndarray) -> list[tuple[float, float]]:
    """Points of the flattened sheet mapped back onto the photograph (:func:`flatten_sheet`)."""
    import cv2

    mapped = cv2.perspectiveTransform(np.array([points], dtype=np.float64), matrix)[0]
    return [(float(x), float(y)) for x, y in mapped]


# A page read upside down gives few words tesseract is sure of: fewer than this many, or than this
# share of its words, sends it to tesseract's orientation detection (a page read upright gives
# 60-90% at 0.8 or more), as do word boxes standing on end (a page turned by a quarter).
_FEW_SURE_WORDS = 10
_SURE_SHARE = 0.4
_ORIENTATION_CONFIDENCE = 2.0  # tesseract's own measure; a page it cannot tell scores under 1


def _sideways(words: list[Word]) -> bool:
    """Whether most words of three or more letters are taller than wide: tesseract reads a page
    turned by a quarter in its own rotated blocks, word by word, but its boxes stand on end."""
    long = [w for w in words if len(w.text) >= 3]
    return bool(long) and sum(w.bottom - w.top > w.x1 - w.x0 for w in long) > len(long) / 2


def _sure(words: list[Word]) -> int:
    """How many words tesseract is sure of (0.8 or more) and that hold a letter or figure pair."""
    return sum(1 for w in words if w.confidence >= 0.8 and sum(c.isalnum() for c in w.text) >= 2)


def upright_turn(image: Image.Image) -> int:
    """The clockwise turn (90, 180 or 270 degrees) that sets the page's text upright, by
    tesseract's orientation detection; 0 where it is upright or tesseract cannot tell."""
    import pytesseract

    try:
        report = pytesseract.image_to_osd(
            image.convert("L"), config="--psm 0", timeout=limits().ocr_timeout_s
        )
    except (pytesseract.TesseractError, RuntimeError):
        return 0  # too little text to tell, or past the time limit: read as it is
    turn = re.search(r"Rotate: (\d+)", report)
    confidence = re.search(r"Orientation confidence: ([\d.]+)", report)
    if turn is None or confidence is None or float(confidence.group(1)) < _ORIENTATION_CONFIDENCE:
        return 0
    value = int(turn.group(1)) % 360
    return value if value in (90, 180, 270) else 0


def _turned_back(
    word: Word, turn: int, size: tuple[int, int], scale: float, offset: tuple[float, float]
) -> Word:
    """``word`` read on the picture turned clockwise by ``turn``, with its provenance box on the
    picture as given (``size``: its pixels); the layout box stays on the upright page."""
    width, height = size

    def back(x: float, y: float) -> tuple[float, float]:
        u, v = (x - offset[0]) / scale, (y - offset[1]) / scale
        if turn == 180:
            u, v = width - u, height - v
        elif turn == 90:
            u, v = v, height - u
        else:
            u, v = width - v, u
        return offset[0] + u * scale, offset[1] + v * scale

    box = word.original or (word.x0, word.top, word.x1, word.bottom)
    corners = [back(x, y) for x in (box[0], box[2]) for y in (box[1], box[3])]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return replace(word, original=(min(xs), min(ys), max(xs), max(ys)))


def ocr_image(
    image: Image.Image,
    page: int,
    *,
    scale: float = 1.0,
    offset: tuple[float, float] = (0.0, 0.0),
    source: str = "",
    languages: str | None = None,
    psm: int = 3,
    deskew: bool = True,
) -> list[Word]:
    """OCR one page (or a region of one) into words; see the module docstring. A whole page
    (``deskew``) that reads poorly is checked for a sideways or upside-down scan
    (:func:`upright_turn`) and, turned upright, read again; the better reading is kept."""
    read = partial(
        _read_words,
        page=page,
        scale=scale,
        offset=offset,
        source=source,
        languages=languages,
        psm=psm,
        deskew=deskew,
    )
    words = read(image)
    sure = _sure(words)
    if not deskew or (sure >= _FEW_SURE_WORDS and sure >= _SURE_SHARE * len(words) and not _sideways(words)):
        return words
    turn = upright_turn(image)
    if not turn:
        return words
    upright = read(image.rotate(-turn, expand=True))
    if _sideways(upright) or (_sure(upright) <= sure and not _sideways(words)):
        return words
    return [_turned_back(word, turn, image.size, scale, offset) for word in upright]


def _read_words(
    image: Image.Image,
    *,
    page: int,
    scale: float,
    offset: tuple[float, float],
    source: str,
    languages: str | None,
    psm: int,
    deskew: bool,
) -> list[Word]:
    """One tesseract reading of the page as it lies (:func:`ocr_image`)."""
    ready = clean(image) if deskew else Cleaned(image.convert("L"))
    cleaned, angle, unflatten, zoom = ready.image, ready.angle, ready.unflatten, ready.zoom
    lang = (
        languages if languages and "+" not in languages else choose_language(cleaned, languages, page, source)
    )
    data = tesseract(cleaned, lang=lang, psm=psm, data=True, page=page, source=source)
    # Boxes on the page at the picture's own resolution (an enlarged page's pixels divided back).
    width, height = cleaned.size[0] / zoom, cleaned.size[1] / zoom
    words = []
    for i, text in enumerate(data["text"]):
        text = text.strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        left, top, w, h = (data[key][i] / zoom for key in ("left", "top", "width", "height"))
        corners = [_unrotate(x, y, angle, width, height) for x in (left, left + w) for y in (top, top + h)]
        if unflatten is not None:
            corners = _unflatten(corners, unflatten)
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        original = (
            offset[0] + min(xs) * scale,
            offset[1] + min(ys) * scale,
            offset[0] + max(xs) * scale,
            offset[1] + max(ys) * scale,
        )
        words.append(
            Word(
                text=text,
                x0=offset[0] + left * scale,
                top=offset[1] + top * scale,
                x1=offset[0] + (left + w) * scale,
                bottom=offset[1] + (top + h) * scale,
                page=page,
                confidence=round(conf / 100, 3),
                original=original if angle or unflatten is not None else None,
            )
        )
    return _join_split_figures(words)


# A figure OCR cut after its decimal separator ("1256," "70"): the cents are two digits alone.
_OPEN_FIGURE = re.compile(r"\d[\d.,']*\d?[.,]")
_CENTS = re.compile(r"\d{2}(?:€|EUR|\$|£)?")


def _join_split_figures(words: list[Word]) -> list[Word]:
    """Join "1256," and "70" read as two words on one line, close together, into "1256,70"."""
    joined: list[Word] = []
    for word in words:
        prev = joined[-1] if joined else None
        if (
            prev is not None
            and _OPEN_FIGURE.fullmatch(prev.text)
            and _CENTS.fullmatch(word.text)
            and prev.x0 < word.x0
            and word.x0 - prev.x1 < 0.8 * max(word.height, prev.height)
            and abs((word.top + word.bottom) - (prev.top + prev.bottom)) < max(word.height, prev.height)
        ):
            box = None
            if prev.original is not None and word.original is not None:
                box = (prev.original[0], min(prev.original[1], word.original[1]), word.original[2],
                       max(prev.original[3], word.original[3]))  # fmt: skip
            joined[-1] = replace(
                prev,
                text=prev.text + word.text,
                top=min(prev.top, word.top),
                x1=word.x1,
                bottom=max(prev.bottom, word.bottom),
                confidence=min(prev.confidence, word.confidence),
                original=box,
            )
            continue
        joined.append(word)
    return joined


def ocr_picture(
    image: Image.Image, page: int, *, scale: float, offset: tuple[float, float], source: str = ""
) -> list[Word]:
    """OCR of a picture placed on a text page (level and clean: no deskew or binarisation).

    The language is chosen as :func:`choose_language` would, without its separate probe pass: the
    English reading *is* the probe (a small region is probed whole, in English), and it is kept
    when the words are English; only another language costs a second pass.
    """
    allowed = limits().ocr_languages.split("+")
    if len(allowed) == 1 or "eng" not in allowed:
        return ocr_image(image, page, scale=scale, offset=offset, source=source, deskew=False)
    words = ocr_image(image, page, scale=scale, offset=offset, source=source, deskew=False, languages="eng")
    language = words_language(words) or "eng"
    if language == "eng":
        return words
    return ocr_image(image, page, scale=scale, offset=offset, source=source, deskew=False, languages=language)


@dataclass(frozen=True)
class OcrJob:
    """One page image to OCR, with the page number and the mapping to the caller's coordinates."""

    image: Image.Image
    page: int
    scale: float = 1.0


def ocr_pages(jobs: Iterable[OcrJob], source: str, languages: str | None = None) -> list[list[Word]]:
    """OCR the pages of one document, results in the order of ``jobs``.

    The first page goes alone and its words settle the document's language, so later pages skip the
    language probe (one tesseract run per page); they then run two at a time: tesseract is a
    separate process and the image clean-up releases the GIL, so two threads use two cores. ``jobs``
    is consumed lazily in the calling thread (a PDF renderer is not thread-safe), with at most two
    pages waiting, so a long scan is never held in memory whole.
    """
    iterator = iter(jobs)
    first = next(iterator, None)
    if first is None:
        return []
    results = [ocr_image(first.image, first.page, scale=first.scale, source=source, languages=languages)]
    known = words_language(results[0], languages) or languages

    def run(job: OcrJob) -> list[Word]:
        return ocr_image(job.image, job.page, scale=job.scale, source=source, languages=known)

    pending: deque[Future[list[Word]]] = deque()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ocr") as pool:
        for job in iterator:
            pending.append(pool.submit(run, job))
            if len(pending) >= 2:
                results.append(pending.popleft().result())
        results += [future.result() for future in pending]
    return results
