"""Image reader: PNG, JPEG, TIFF (multi-page) and other raster formats PIL knows, through OCR.

Contract: :func:`load_frames` returns the image's frames as PIL images after checking the pixel limit
*before* decoding (decompression bombs raise :class:`InputTooLargeError`); :func:`read_image` OCRs
each frame into a :class:`Page` with coordinates in pixels of the original image (a frame with
pixels that are not square, a fax, in pixels of the frame made square; provenance boxes always in
the frame's own pixels).
"""

from __future__ import annotations

import io
from dataclasses import replace

from PIL import Image, ImageSequence, UnidentifiedImageError

from tools.documents.layout import Page, Word
from tools.documents.limits import limits
from tools.errors import DocumentError, InputTooLargeError, UnsupportedDocumentError


def load_frames(data: bytes, source: str) -> list[Image.Image]:
    max_pixels, max_pages = limits().max_image_pixels, limits().max_pages
    # PIL warns at this size and raises DecompressionBombError at twice it; we want the error at the limit.
    Image.MAX_IMAGE_PIXELS = max_pixels // 2
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > max_pixels:
            raise InputTooLargeError(
                f"image of {image.width}x{image.height} pixels is over the limit of {max_pixels}",
                source=source,
            )
        frames = []
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index >= max_pages:
                raise DocumentError(f"image has more than {max_pages} frames", source=source)
            if frame.width * frame.height > max_pixels:
                raise InputTooLargeError(f"frame {index + 1} is over the pixel limit", source=source)
            frames.append(frame.convert("L"))
        return frames
    except Image.DecompressionBombError as exc:
        raise InputTooLargeError(f"image over the pixel limit ({exc})", source=source) from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedDocumentError("not an image format that can be read", source=source) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise DocumentError(f"corrupt or truncated image ({exc})", source=source) from exc


# A fax in standard mode is 204 x 98 dpi: each pixel twice as tall as wide, the letters squashed to
# half their height. Pixels whose sides differ by more than this ratio (and at most ``_MAX_STRETCH``)
# are made square before OCR.
_UNEVEN_PIXELS = 1.2
_MAX_STRETCH = 4.0


def pixel_stretch(frame: Image.Image) -> tuple[float, float]:
    """How much to stretch a frame across and down so its pixels are square, from the resolution
    it records (a fax: 204 x 98 dpi gives (1.0, 2.08)); (1.0, 1.0) where it records none, where
    its pixels are square enough, or where the stretched frame would pass the pixel limit."""
    dpi = frame.info.get("dpi")
    try:
        across, down = (float(v) for v in dpi) if dpi else (0.0, 0.0)
    except (TypeError, ValueError):
        return 1.0, 1.0
    if across <= 0 or down <= 0:
        return 1.0, 1.0
    ratio = max(across, down) / min(across, down)
    if ratio < _UNEVEN_PIXELS or ratio > _MAX_STRETCH:
        return 1.0, 1.0
    if frame.width * frame.height * ratio > limits().max_image_pixels:
        return 1.0, 1.0
    return (1.0, ratio) if across > down else (ratio, 1.0)


def read_image(data: bytes, source: str) -> list[Page]:
    """Each frame OCR'd into a :class:`Page`. A frame with pixels that are not square (a fax) is
    read stretched square: its layout is the stretched page's, its words' provenance boxes are
    in the frame's own pixels (where a viewer of the frame shows them)."""
    from tools.documents.ocr import OcrJob, ocr_pages

    frames = load_frames(data, source)
    stretches = [pixel_stretch(frame) for frame in frames]
    jobs = []
    for index, (frame, (across, down)) in enumerate(zip(frames, stretches, strict=True)):
        if (across, down) != (1.0, 1.0):
            size = (round(frame.width * across), round(frame.height * down))
            frame = frame.resize(size, Image.Resampling.LANCZOS)
        jobs.append(OcrJob(frame, index + 1))
    found = ocr_pages(jobs, source)
    pages = []
    for index, (job, words, (across, down)) in enumerate(zip(jobs, found, stretches, strict=True)):
        if (across, down) != (1.0, 1.0):
            words = [_squeezed_back(word, across, down) for word in words]
        pages.append(Page(index + 1, float(job.image.width), float(job.image.height), "px", "ocr", words))
    return pages


def _squeezed_back(word: Word, across: float, down: float) -> Word:
    """``word`` read on the stretched frame, with its provenance box on the frame as given."""
    x0, top, x1, bottom = word.original or (word.x0, word.top, word.x1, word.bottom)
    return replace(word, original=(x0 / across, top / down, x1 / across, bottom / down))
