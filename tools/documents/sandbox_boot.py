"""Imported once by the document sandbox's fork server, so that each forked child starts warm.

One thread per native library: a child works on one document, and thread pools created here would
only reserve address space under the child's memory limit.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_THREAD_LIMIT"):
    os.environ.setdefault(_name, "1")

import tools.documents.sandbox  # noqa: E402  (the child's entry point)
import tools.extract  # noqa: E402

try:  # the readers: imported lazily elsewhere, eagerly here
    import cv2  # noqa: F401
    import pdfplumber  # noqa: F401
    import pypdfium2  # noqa: F401

    import tools.documents.extractor
    import tools.documents.ocr
    import tools.documents.pdf
    import tools.documents.render
    import tools.messages.iso20022
    import tools.messages.swift  # noqa: F401
except ImportError:  # pragma: no cover - a missing reader fails in the child with its typed error
    pass
