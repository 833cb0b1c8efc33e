"""A page's picture made ready for tesseract.

Contract: :func:`clean` takes a PIL image of a page (a scan, a photo, an image file) and returns
:class:`Cleaned`: a black-and-white picture with the sheet seen square-on (:func:`flatten_sheet`),
its light evened out (:func:`even_light`), small print enlarged (:func:`text_zoom`), turned level
(:func:`deskew_angle`) and table rules erased (:func:`remove_rules`), with what it takes to map its
pixels back onto the picture given. A scan at scanning resolution, lit evenly, is only denoised,
levelled and thresholded. Used by :mod:`~.ocr`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


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
    for _ in range(3):
        if kept.sum() < 2 * terms.shape[1]:
            return None
        fitted = terms @ np.linalg.lstsq(terms[kept], values[kept], rcond=None)[0]
        kept = values > 0.9 * fitted
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


def _black_and_white(gray: np.ndarray) -> bool:
    """Whether the print is pure black, as on a fax or a 1-bit scan: a tenth or more of the pixels
    that are not pure white are pure black (faxes of the real invoices, stretched square: 14-73%;
    grey scans, photos and small JPEG images of them: at most 5%). There is no grey speckle or
    ringing there for a median filter to remove, and there are strokes a pixel wide that it would
    (those faxes: 99 of 116 fields with the filter, 103 without)."""
    import cv2

    inked = int(cv2.countNonZero(255 - gray))  # pixels that are not pure white
    black = gray.size - int(cv2.countNonZero(gray))
    return inked > 0 and black >= 0.1 * inked


@dataclass(frozen=True)
class Cleaned:
    """A page ready for tesseract, and how to map its pixels back onto the picture given: divide
    by ``zoom``, turn back by ``angle`` (``ocr._unrotate``), then through ``unflatten`` (the
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
    smooth = gray if _black_and_white(gray) else cv2.medianBlur(gray, 3)
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
