"""OCR reader: tesseract (via pytesseract) on a cleaned, deskewed page image.

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
from typing import Any

import numpy as np
from PIL import Image

from tools.documents.layout import Word
from tools.documents.limits import limits
from tools.errors import DocumentError


def deskew_angle(gray: np.ndarray) -> float:
    """The rotation (degrees) that makes text lines horizontal, by the projection-profile method.

    Text lines give sharp peaks in the row sums of ink when level; the angle with the largest
    variance of row sums wins. Done on a downscaled binary image, which keeps it to tens of ms.
    """
    import cv2

    scale = 800 / max(gray.shape)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    _, binary = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    height, width = binary.shape
    centre = (width / 2, height / 2)

    def score(angle: float) -> float:
        matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(binary, matrix, (width, height), flags=cv2.INTER_NEAREST)
        return float(np.var(rotated.sum(axis=1, dtype=np.float64)))

    best = max((a / 2 for a in range(-10, 11)), key=score)  # coarse: -5..5 in 0.5 steps
    fine = [best + a / 10 for a in range(-5, 6)]
    return max(fine, key=score)


def remove_rules(binary: np.ndarray) -> np.ndarray:
    """Erase table rules (long thin horizontal and vertical runs of ink) from a text-black image.

    Tesseract's page segmentation treats a ruled grid as one picture and skips the text inside it.
    """
    import cv2

    ink = cv2.bitwise_not(binary)
    height, width = ink.shape
    # At least 100 px (1/3 inch at 300 dpi): longer than any letter stroke, shorter than a rule.
    long_x, long_y = max(width // 25, 100), max(height // 40, 100)
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (long_x, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, long_y)))
    # A rule that is not quite level after deskewing escapes the opening near its ends, in short
    # pieces a pixel above or below its line: those pieces lead tesseract's page segmentation to
    # drop the table column beside them. Ink in a thin band along each rule, out to half a rule's
    # length past the part found, is rule too.
    along_x = cv2.dilate(horizontal, cv2.getStructuringElement(cv2.MORPH_RECT, (long_x // 2, 3)))
    along_y = cv2.dilate(vertical, cv2.getStructuringElement(cv2.MORPH_RECT, (3, long_y // 2)))
    pieces = cv2.bitwise_and(ink, cv2.bitwise_or(along_x, along_y))
    found = cv2.bitwise_or(cv2.bitwise_or(horizontal, vertical), pieces)
    rules = cv2.dilate(found, np.ones((3, 3), np.uint8))
    return cv2.bitwise_or(binary, rules)


# Uneven light: the paper's brightness is modelled as a smooth surface (a cubic in x and y) fitted
# to the brightest ink-free level of each block of the page; where it varies by more than this share
# of its brightest value, the page is divided by it before binarising. A flat scan varies by a few
# percent and is left as it is; a phone photo's light falls off by a third or more, and one global
# threshold then turns the dim side black or the bright side's faint text white.
_UNEVEN_LIGHT = 0.15
_LIGHT_BLOCKS = 48  # blocks along the page's longer side


def _light_terms(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The cubic surface's ten terms at points (x, y) in [0, 1]."""
    return np.stack([xs**i * ys**j for i in range(4) for j in range(4 - i)], axis=-1)


def paper_light(gray: np.ndarray) -> np.ndarray | None:
    """The paper's brightness across a greyscale page, as a smooth surface the page's shape, or
    None where the light is even (see ``_UNEVEN_LIGHT``).

    Each block's paper level is its brightest value after a max filter wider than a letter's
    stroke (so text in the block does not darken it); a robust cubic fit then drops the blocks
    well below the surface (pictures, shaded bands, dense black print), three times over, so the
    light is read from the paper alone."""
    import cv2

    height, width = gray.shape
    block = max(8, max(height, width) // _LIGHT_BLOCKS)
    rows, cols = height // block, width // block
    if rows < 4 or cols < 4:
        return None
    paper = cv2.dilate(gray, np.ones((7, 7), np.uint8))
    levels = cv2.resize(paper[: rows * block, : cols * block], (cols, rows), interpolation=cv2.INTER_AREA)
    ys, xs = np.mgrid[0:rows, 0:cols].astype(np.float64)
    terms = _light_terms((xs.ravel() + 0.5) / cols, (ys.ravel() + 0.5) / rows)
    values = levels.ravel().astype(np.float64)
    kept = values > 0
    coefficients = np.zeros(terms.shape[1])
    for _ in range(3):
        if kept.sum() < 2 * terms.shape[1]:
            return None
        coefficients = np.linalg.lstsq(terms[kept], values[kept], rcond=None)[0]
        fitted = terms @ coefficients
        kept = values > 0.9 * fitted
    fitted = terms @ coefficients
    top, bottom = float(fitted.max()), float(fitted.min())
    if top <= 0 or (top - bottom) / top < _UNEVEN_LIGHT:
        return None
    # The surface at block resolution, stretched to the page: smooth, so linear interpolation holds.
    grid = np.clip(fitted.reshape(rows, cols), 1.0, None).astype(np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_LINEAR)


def even_light(gray: np.ndarray) -> np.ndarray:
    """The page with its paper made evenly bright (:func:`paper_light`); unchanged where the light
    is already even."""
    light = paper_light(gray)
    if light is None:
        return gray
    levelled = gray.astype(np.float32) * (float(light.max()) / light)
    return np.clip(levelled, 0, 255).astype(np.uint8)


# A sheet photographed on a darker ground (a desk): it is found when it covers between these shares
# of the picture (a scan is all sheet; a sheet cut by the picture's edge has no four corners) and
# its edge is an edge all round: just outside it, the ground is at most this share of the paper's
# brightness just inside, at nearly every point (light falling off across a page without a ground
# makes a boundary of one threshold, not an edge: on either side of it the paper is alike).
_SHEET_SHARE = (0.3, 0.93)
_SHEET_GROUND = 0.8
_SHEET_EDGE_POINTS = 64


def _corners_in_order(points: np.ndarray) -> np.ndarray | None:
    """Four points as top-left, top-right, bottom-right, bottom-left; None for an outline turned
    so far (near 45 degrees) that one point would take two of those places."""
    sums, differences = points.sum(axis=1), np.diff(points, axis=1).ravel()
    order = [int(sums.argmin()), int(differences.argmin()), int(sums.argmax()), int(differences.argmax())]
    if len(set(order)) < 4:
        return None
    return np.array([points[i] for i in order], dtype=np.float32)


def sheet_corners(gray: np.ndarray) -> np.ndarray | None:
    """The corners of a sheet photographed on a darker ground (top-left, top-right, bottom-right,
    bottom-left, in the picture's pixels), or None where the picture is the sheet (a scan) or no
    four-cornered sheet stands out (see ``_SHEET_SHARE`` and ``_SHEET_GROUND``)."""
    import cv2

    scale = min(1.0, 800 / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    _, mask = cv2.threshold(cv2.GaussianBlur(small, (5, 5), 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))  # the print inside
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    share = cv2.contourArea(hull) / (small.shape[0] * small.shape[1])
    if not _SHEET_SHARE[0] <= share <= _SHEET_SHARE[1]:
        return None
    outline = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if len(outline) != 4:
        return None
    corners = _corners_in_order(outline.reshape(4, 2).astype(np.float32))
    if corners is None or not _is_edge_all_round(cv2.blur(small, (5, 5)), corners):
        return None
    return corners / scale


def _is_edge_all_round(gray: np.ndarray, corners: np.ndarray) -> bool:
    """Whether the ground just outside the outline is darker than the paper just inside it (see
    ``_SHEET_GROUND``) at all but a few of ``_SHEET_EDGE_POINTS`` points spread along it."""
    height, width = gray.shape
    centre = corners.mean(axis=0)
    step = max(4.0, 0.01 * max(height, width))
    darker = 0
    for index in range(_SHEET_EDGE_POINTS):
        side, along = divmod(index * 4 / _SHEET_EDGE_POINTS, 1.0)
        start, end = corners[int(side)], corners[(int(side) + 1) % 4]
        point = start + (end - start) * (0.1 + 0.8 * along)  # clear of the corners
        normal = np.array([end[1] - start[1], start[0] - end[0]], dtype=np.float32)
        normal /= max(float(np.linalg.norm(normal)), 1e-6)
        if float(np.dot(point - centre, normal)) < 0:
            normal = -normal  # outwards
        (ix, iy), (ox, oy) = np.rint(point - step * normal), np.rint(point + step * normal)
        if not (0 <= ox < width and 0 <= oy < height and 0 <= ix < width and 0 <= iy < height):
            continue  # the ground lies past the picture's edge: no edge here
        darker += float(gray[int(oy), int(ox)]) <= _SHEET_GROUND * float(gray[int(iy), int(ix)])
    return darker >= 0.9 * _SHEET_EDGE_POINTS


def flatten_sheet(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The photographed sheet (:func:`sheet_corners`) seen square-on, its sides' lengths kept, and
    the matrix that maps its pixels back onto the picture; the picture itself and None where it
    holds no such sheet."""
    import cv2

    corners = sheet_corners(gray)
    if corners is None:
        return gray, None
    top_left, top_right, bottom_right, bottom_left = corners
    width = round(max(np.linalg.norm(top_right - top_left), np.linalg.norm(bottom_right - bottom_left)))
    height = round(max(np.linalg.norm(bottom_left - top_left), np.linalg.norm(bottom_right - top_right)))
    square = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    flat = cv2.warpPerspective(
        gray,
        cv2.getPerspectiveTransform(corners, square),
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return flat, cv2.getPerspectiveTransform(square, corners)


# Small print: tesseract reads letters best some 20-30 pixels high (a page at 300 dpi: the median
# height of its letters' ink is 18-29 px on the real invoices). A picture whose letters are smaller
# (a photo or an image sent at 100-150 dpi: 7-14 px) is enlarged towards ``_LETTER_HEIGHT``, at most
# ``_MAX_ZOOM`` times and to at most ``_MAX_ZOOMED_PIXELS``.
_SMALL_LETTERS = 15.0
_LETTER_HEIGHT = 23.0
_MAX_ZOOM = 3.0
_MAX_ZOOMED_PIXELS = 40_000_000


def letter_height(gray: np.ndarray) -> float | None:
    """The median height (pixels) of the letter-sized pieces of ink on a page, or None where
    fewer than 30 are found. Measured at half size on a large picture (the same letters, and a
    quarter of the pixels to label)."""
    import cv2

    shrink = 2 if max(gray.shape) > 2400 else 1
    small = (
        cv2.resize(gray, None, fx=1 / shrink, fy=1 / shrink, interpolation=cv2.INTER_AREA)
        if shrink > 1
        else gray
    )
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights, widths, areas = (stats[1:, k] for k in (cv2.CC_STAT_HEIGHT, cv2.CC_STAT_WIDTH, cv2.CC_STAT_AREA))
    letters = (heights >= 3) & (heights <= 0.05 * small.shape[0]) & (widths <= 3 * heights) & (areas >= 6)
    if letters.sum() < 30:
        return None
    return float(np.median(heights[letters])) * shrink


def text_zoom(gray: np.ndarray) -> float:
    """How much to enlarge the page so tesseract sees its letters at a size it reads well (see
    ``_SMALL_LETTERS``); 1.0 for a page at scanning resolution."""
    height = letter_height(gray)
    if height is None or height >= _SMALL_LETTERS:
        return 1.0
    room = (_MAX_ZOOMED_PIXELS / (gray.shape[0] * gray.shape[1])) ** 0.5
    return max(1.0, min(_LETTER_HEIGHT / height, _MAX_ZOOM, room))


@dataclass(frozen=True)
class Cleaned:
    """A page ready for tesseract, and how to map its pixels back onto the picture given: divide
    by ``zoom``, turn back by ``angle`` (:func:`_unrotate`), then through ``unflatten`` (the
    photographed sheet's perspective, :func:`flatten_sheet`) where there is one."""

    image: Image.Image
    angle: float = 0.0
    unflatten: np.ndarray | None = None
    zoom: float = 1.0


def clean(image: Image.Image) -> Cleaned:
    """Greyscale, a photographed sheet seen square-on (:func:`flatten_sheet`), uneven light evened
    out (:func:`even_light`), then either small print enlarged (:func:`text_zoom`, cubic) or print
    at scanning size denoised (a 3x3 median filter removes speckle and JPEG ringing), deskew,
    binarise (Otsu), erase table rules.

    Small print is not median-filtered: with letters 10-14 px high and strokes of a pixel or two,
    the filter erases strokes (the real invoices as 150-dpi images: 84 of 116 fields with it, 115
    enlarged without it; the cubic enlargement smooths the noise itself)."""
    import cv2

    gray, unflatten = flatten_sheet(np.asarray(image.convert("L")))
    gray = even_light(gray)
    smooth = cv2.medianBlur(gray, 3)
    zoom = text_zoom(smooth)
    gray = cv2.resize(gray, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC) if zoom > 1.0 else smooth
    angle = deskew_angle(gray)
    if abs(angle) >= 0.1:
        height, width = gray.shape
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        gray = cv2.warpAffine(
            gray, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    else:
        angle = 0.0
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return Cleaned(Image.fromarray(remove_rules(binary)), angle, unflatten, zoom)


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


def upright_turn(image: Image.Image, page: int = 1, source: str = "") -> int:
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
    settings: dict[str, Any] = {"scale": scale, "offset": offset, "source": source, "languages": languages}
    words = _read_words(image, page, psm=psm, deskew=deskew, **settings)
    sure = _sure(words)
    if not deskew or (sure >= _FEW_SURE_WORDS and sure >= _SURE_SHARE * len(words) and not _sideways(words)):
        return words
    turn = upright_turn(image, page, source)
    if not turn:
        return words
    upright = _read_words(image.rotate(-turn, expand=True), page, psm=psm, deskew=deskew, **settings)
    if _sideways(upright) or (_sure(upright) <= sure and not _sideways(words)):
        return words
    return [_turned_back(word, turn, image.size, scale, offset) for word in upright]


def _read_words(
    image: Image.Image,
    page: int,
    *,
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
