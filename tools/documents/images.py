"""Image reader: PNG, JPEG, TIFF (multi-page) and other raster formats PIL knows, through OCR.

Contract: :func:`load_frames` returns the image's frames as PIL images after checking the pixel limit
*before* decoding (decompression bombs raise :class:`InputTooLargeError`); :func:`read_image` OCRs
each frame into a :class:`Page` with coordinates in pixels of the original image.
"""

from __future__ import annotations

import io

from PIL import Image, ImageSequence, UnidentifiedImageError

from tools.documents.layout import Page
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


def read_image(data: bytes, source: str) -> list[Page]:
    from tools.documents.ocr import OcrJob, ocr_pages

    frames = load_frames(data, source)
    found = ocr_pages([OcrJob(frame, index + 1) for index, frame in enumerate(frames)], source)
    return [
        Page(index + 1, float(frame.width), float(frame.height), "px", "ocr", words)
        for index, (frame, words) in enumerate(zip(frames, found, strict=True))
    ]
