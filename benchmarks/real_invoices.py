"""Real invoices side by side: RepairDesk and invoice2data 1.0.1 (its own 215 templates) on the same PDFs.

Sets: ``../shared/data/invoices/real`` (15 PDFs, hand-checked JSON) and
``../shared/data/invoices/invoice2data`` (4 PDFs, invoice2data's own expected JSON). Fields: amount,
currency, invoice number, issue and due date, IBAN, issuer (by the expected name's containment).
Speed: each document is read by both tools in turn (same machine state), ``repeat`` passes with
the order alternating, caches keyed by a document's content emptied before every call on both
sides (a pass must not read the previous pass's text from a cache); each document's time is its
median over the passes, and the figure is the median over documents of pages per second, in wall
time and in CPU time (children included: pdftotext), with the ratio RepairDesk / invoice2data.
invoice2data reads through ``pdftotext`` (poppler-utils), its default and the input its templates
are written for; without the binary its pdfplumber input is used and the report says so.

Called by ``benchmarks/documents.py`` (``--real``, on by default).
"""

from __future__ import annotations

import json
import logging
import resource
import shutil
import statistics
import time
from collections import Counter
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

FIELDS = ["amount", "currency", "invoice_number", "date", "date_due", "iban", "issuer"]


def _ours(data: bytes, name: str) -> dict[str, Any]:
    from tools.extract import extract_bytes

    [extraction] = extract_bytes(data, name)
    return _fields_of(extraction.remittance)


def _theirs(path: Path, templates: list[Any], module: Any) -> dict[str, Any]:
    from invoice2data import extract_data

    try:
        result = extract_data(str(path), templates=templates, input_module=module) or {}
    except Exception:
        result = {}
    return {key: result.get(key) for key in FIELDS}


def _norm_name(text: Any) -> str:
    from tools.documents.normalize import fold

    return " ".join("".join(c if c.isalnum() or c == "&" else " " for c in fold(str(text))).split())


def right(field: str, want: Any, got: Any) -> bool:
    if got is None or got == "":
        return False
    if field == "amount":
        try:
            return Decimal(str(want)) == Decimal(str(got))
        except InvalidOperation:
            return False
    if field in {"date", "date_due"}:
        value = got.date() if isinstance(got, datetime) else got
        return isinstance(value, date) and value.isoformat() == str(want)
    if field == "issuer":
        return _norm_name(want) in _norm_name(got)
    if field == "iban":
        return str(want).replace(" ", "") == str(got).replace(" ", "")
    return str(want).strip() == str(got).strip()


def _truth(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    truth = data[0] if isinstance(data, list) else data
    return {k: truth[k] for k in FIELDS if k in truth}


def _pages(data: bytes) -> int:
    from tools.documents.pdfium import close_document, open_document, page_count

    document = open_document(data)
    try:
        return page_count(document)
    finally:
        close_document(document)


def _fresh() -> None:
    """Empty the caches keyed by a document's content on both sides (invoice2data keeps each file's
    text and each date string it parsed; RepairDesk each folded word), so every timed call reads
    its document as a new upload would. Caches of the tools themselves (compiled patterns,
    templates) stay warm on both sides, as in a running service."""
    import invoice2data.input as readers
    from invoice2data.extract import _dates
    from invoice2data.input import pdftotext

    from tools.documents import normalize

    for cached in (
        getattr(readers, "_cached_to_text", None),
        getattr(pdftotext, "_words", None),
        getattr(_dates, "parse_date", None),
        normalize._fold_word,
    ):
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()


def _cpu() -> float:
    """CPU seconds of this process and its waited-for children (pdftotext runs as one), from
    ``getrusage`` (microseconds; ``os.times`` counts in 10 ms ticks, a whole document's time)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


TOOLS = ("repairdesk", "invoice2data")


def _time_set(paths: list[Path], templates: list[Any], module: Any, repeat: int) -> dict[str, Any]:
    """Field counts (from the first pass; both tools are deterministic) and each document's median
    wall and CPU seconds over ``repeat`` passes. Each pass reads every document with both tools
    in turn, the order alternating between passes so neither always runs on the warmer cache."""
    counts: dict[str, Counter[str]] = {tool: Counter() for tool in TOOLS}
    wall: dict[str, list[list[float]]] = {tool: [[] for _ in paths] for tool in TOOLS}
    cpu: dict[str, list[list[float]]] = {tool: [[] for _ in paths] for tool in TOOLS}
    datas = [path.read_bytes() for path in paths]
    truths = [_truth(path.with_suffix(".json")) for path in paths]
    for number in range(repeat):
        order = TOOLS if number % 2 == 0 else TOOLS[::-1]
        for index, (path, data) in enumerate(zip(paths, datas, strict=True)):
            for tool in order:
                _fresh()
                start, used = time.perf_counter(), _cpu()
                got = _ours(data, path.name) if tool == "repairdesk" else _theirs(path, templates, module)
                wall[tool][index].append(time.perf_counter() - start)
                cpu[tool][index].append(_cpu() - used)
                if number == 0:
                    for field, want in truths[index].items():
                        counts[tool][f"{field}:total"] += 1
                        counts[tool][field] += right(field, want, got.get(field))
    return {"counts": counts, "wall": wall, "cpu": cpu, "pages": [_pages(data) for data in datas]}


def _rates(seconds: list[list[float]], pages: list[int]) -> tuple[float, float]:
    """(median over documents of pages/s, total pages / total seconds), each document's time
    being its median over the passes."""
    medians = [statistics.median(times) for times in seconds]
    per_document = [n / t for n, t in zip(pages, medians, strict=True)]
    return statistics.median(per_document), sum(pages) / sum(medians)


def _fields_of(remittance: Any) -> dict[str, Any]:
    if remittance is None:
        return {}
    return {
        "amount": remittance.total_amount,
        "currency": remittance.currency,
        "invoice_number": remittance.invoice_number,
        "date": remittance.invoice_date,
        "date_due": remittance.due_date,
        "iban": remittance.iban,
        "issuer": remittance.payee.name if remittance.payee else None,
    }


def einvoice_pages(folder: Path, *, scans: bool = False) -> Counter[str]:
    """The printed pages of e-invoice PDFs (ZUGFeRD, Factur-X, XRechnung) read WITHOUT their
    embedded XML, scored against that XML (read exactly by :mod:`tools.documents.einvoice`): a
    large set of designed layouts with truth nobody here wrote. Prints the per-field table and
    returns the counts (``<field>`` right, ``<field>:total``). A PDF without an e-invoice
    attachment is skipped and counted (``skipped``). The XML is the truth for what the page
    should show; where a page prints another figure (the amount still to pay after a deposit
    against the XML's grand total, say) the reading counts as wrong. With ``scans``, each PDF of at
    most two pages is read as a scanner would return it (:func:`as_scan`): designed layouts with
    exact truth through the OCR path."""
    from tools.documents.einvoice import einvoice_of, read_einvoice
    from tools.documents.service import extract_document, read_pages

    counts: Counter[str] = Counter()
    for path in sorted(folder.rglob("*.pdf")):
        data, attached = path.read_bytes(), list[tuple[str, bytes]]()
        try:
            pages = read_pages(data, path.name, attached)
            found = einvoice_of(attached)
            if found is None or (scans and len(pages) > 2):
                counts["skipped"] += 1
                continue
            truth = _fields_of(read_einvoice(found[1], path.name).remittance)
            if scans:
                data = as_scan(data, path.name)
            [extraction] = extract_document(data, path.name)  # no attachment list: the page alone
        except Exception as exc:  # a file either reader refuses: counted, the run goes on
            print(f"    {path.name}: {type(exc).__name__}: {exc}")
            counts["errors"] += 1
            continue
        ours = _fields_of(extraction.remittance)
        for field, want in truth.items():
            if want is None or want == "":
                continue
            value = want.isoformat() if isinstance(want, date) else want
            counts[f"{field}:total"] += 1
            counts[field] += right(field, value, ours.get(field))
    how = "as 250-dpi scans" if scans else "without their XML"
    _print_fields(
        f"e-invoice pages read {how} ({folder}): {counts['skipped']} without XML"
        f"{' or over two pages' if scans else ''} skipped, {counts['errors']} refused",
        counts,
    )
    return counts


def _print_fields(heading: str, counts: Counter[str]) -> None:
    """``heading``, then each field's share right (``<field>`` of ``<field>:total``) and all of them."""
    print(f"  {heading}")
    for field in FIELDS:
        n = counts[f"{field}:total"]
        if n:
            print(f"    {field:<16}{counts[field] / n:>13.0%}   (n={n})")
    total = sum(counts[f"{field}:total"] for field in FIELDS)
    correct = sum(counts[field] for field in FIELDS)
    if total:
        print(f"    {'all fields':<16}{correct / total:>13.1%}   ({correct} of {total})")


def run(shared: Path, repeat: int = 1, extra: list[Path] | None = None) -> dict[str, dict[str, float]]:
    """Print the side-by-side table for each set; returns each set's speed figures (pages/s:
    ``<tool>_wall``, ``<tool>_cpu``, medians over documents) for callers that check them."""
    logging.getLogger("invoice2data").setLevel(logging.CRITICAL)
    from invoice2data.extract.loader import read_templates

    if shutil.which("pdftotext"):
        from invoice2data.input import pdftotext as module

        reader = "pdftotext"
    else:
        from invoice2data.input import pdfplumber as module  # type: ignore[no-redef]

        reader = "pdfplumber (pdftotext not installed)"
    templates = read_templates()
    print(
        f"real invoices: RepairDesk vs invoice2data 1.0.1 ({len(templates)} templates, input {reader}), "
        f"{repeat} pass(es), caches keyed by content emptied before each call"
    )
    # Folders of PDFs with invoice2data-style JSON beside them, by name (shared sets) or path.
    folders = [shared / "invoices" / "real", shared / "invoices" / "invoice2data", *(extra or [])]
    every = [p for folder in folders for p in sorted(folder.glob("*.pdf")) if p.with_suffix(".json").exists()]
    for path in every:  # warm-up: imports, templates and compiled patterns on both sides
        _ours(path.read_bytes(), path.name)
        _theirs(path, templates, module)
    figures: dict[str, dict[str, float]] = {}
    for folder_path in folders:
        folder = folder_path.name if folder_path.parent == shared / "invoices" else str(folder_path)
        paths = [p for p in sorted(folder_path.glob("*.pdf")) if p.with_suffix(".json").exists()]
        result = _time_set(paths, templates, module, repeat)
        counts = result["counts"]
        print(f"  {folder}: {len(paths)} PDFs, {sum(result['pages'])} pages")
        print(f"    {'field':<16}" + "".join(f"{tool:>14}" for tool in TOOLS))
        for field in FIELDS:
            total = counts["repairdesk"][f"{field}:total"]
            if total:
                row = "".join(f"{counts[t][field] / total:>13.0%} " for t in TOOLS)
                print(f"    {field:<16}{row}  (n={total})")
        overall = []
        for tool in TOOLS:
            counter = counts[tool]
            total = sum(v for k, v in counter.items() if k.endswith(":total"))
            correct = sum(v for k, v in counter.items() if not k.endswith(":total"))
            overall.append(f"{correct / total:>13.1%} ")
        print(f"    {'all fields':<16}{''.join(overall)}")
        speed: dict[str, float] = {}
        for kind in ("wall", "cpu"):
            medians, overall_rates = [], []
            for tool in TOOLS:
                median, total_rate = _rates(result[kind][tool], result["pages"])
                speed[f"{tool}_{kind}"] = median
                medians.append(f"{median:>13.1f} ")
                overall_rates.append(f"{total_rate:>13.1f} ")
            ratio = speed[f"repairdesk_{kind}"] / speed[f"invoice2data_{kind}"]
            print(f"    {'pages/s ' + kind:<16}{''.join(medians)}  ratio {ratio:.2f} (median of documents)")
            print(f"    {'  overall':<16}{''.join(overall_rates)}  (all pages / all seconds)")
        figures[folder] = speed
    return figures


def _as_jpeg(image: Any, quality: int) -> Any:
    """``image`` after a round trip through JPEG at ``quality`` (its artefacts kept)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer)


def _pdf_of(images: list[Any], dpi: int, quality: int | None = None) -> bytes:
    """The pictures as the pages of one PDF (no text layer), dated at a fixed moment so the same
    pictures give the same bytes (Pillow would write the time of the call); ``quality``: Pillow's
    JPEG quality for pictures it compresses itself."""
    import io

    out = io.BytesIO()
    moment = time.gmtime(946684800)  # 2000-01-01
    images[0].save(
        out,
        format="PDF",
        save_all=True,
        append_images=images[1:],
        resolution=dpi,
        creationDate=moment,
        modDate=moment,
        **({} if quality is None else {"quality": quality}),
    )
    return out.getvalue()


def _light_ramp(height: int, width: int, direction: float) -> tuple[Any, Any, Any]:
    """(xs, ys, ramp) over a picture: each pixel's coordinates, and how far along ``direction``
    (radians) it lies, from 0 on the bright side to 1 on the far side."""
    import math

    import numpy as np

    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = xs / width * math.cos(direction) + ys / height * math.sin(direction)
    return xs, ys, (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)


def _rendered(data: bytes, dpi: float, *, grey: bool = True) -> list[Any]:
    """Every page of a text PDF as a picture at ``dpi``, in grey or in colour."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        return [page.render(scale=dpi / 72, grayscale=grey).to_pil() for page in document]
    finally:
        document.close()


def _chances(seed: str) -> tuple[Any, Any]:
    """What a copy draws from ``seed`` (a file's name, so a run is repeatable): turns, corners and
    light (a ``random.Random``), and sensor noise (a numpy generator)."""
    import random
    import zlib

    import numpy as np

    return random.Random(seed), np.random.default_rng(zlib.crc32(seed.encode()))


def _tiff_of(frames: list[Any], **options: Any) -> bytes:
    """The pictures as the frames of one TIFF (``options``: Pillow's, e.g. compression, dpi)."""
    import io

    out = io.BytesIO()
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:], **options)
    return out.getvalue()


def as_scan(data: bytes, seed: str, dpi: int = 250, *, turn_by: float = 0.8, quality: int = 70) -> bytes:
    """A text PDF as a scanner would return it: every page rendered in grey at ``dpi``, turned by
    up to ``turn_by`` degrees, slightly blurred and JPEG-compressed (``quality``), in a PDF of
    pictures (no text layer). The turn is drawn from ``seed`` (the file's name), so a run is
    repeatable."""
    from PIL import ImageFilter

    turn, _ = _chances(seed)
    images = []
    for image in _rendered(data, dpi):
        image = image.rotate(turn.uniform(-turn_by, turn_by), fillcolor=255).filter(
            ImageFilter.GaussianBlur(0.6)
        )
        images.append(_as_jpeg(image, quality))
    return _pdf_of(images, dpi)


def as_photo(data: bytes, seed: str, dpi: int = 200) -> bytes:
    """A text PDF as a phone camera would return it: every page in grey at ``dpi``, turned by up to
    1.5 degrees, lit unevenly (the light falls off across the page in a direction drawn from
    ``seed``, to 60% at the far side, and a soft shadow takes up to another quarter), paper grey
    and ink dark grey rather than white and black, slightly blurred, with sensor noise, JPEG 60,
    in a PDF of pictures. Repeatable: everything is drawn from ``seed``."""
    import math

    import numpy as np
    from PIL import Image, ImageFilter

    draw, noise = _chances(seed)
    images = []
    for image in _rendered(data, dpi):
        image = image.rotate(draw.uniform(-1.5, 1.5), fillcolor=255).filter(ImageFilter.GaussianBlur(0.8))
        grey = np.asarray(image, dtype=np.float32)
        height, width = grey.shape
        xs, ys, ramp = _light_ramp(height, width, draw.uniform(0, 2 * math.pi))
        cx, cy, spread = draw.uniform(0, width), draw.uniform(0, height), 0.3 * width
        shadow = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * spread**2))
        light = (1.0 - 0.4 * ramp) * (1.0 - 0.25 * shadow)
        grey = (35 + grey * (215 - 35) / 255) * light + noise.normal(0, 5, grey.shape)
        images.append(_as_jpeg(Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)), 60))
    return _pdf_of(images, dpi)


def as_snapshot(data: bytes, seed: str, dpi: int = 200) -> bytes:
    """A text PDF photographed lying on a desk: every page in grey at ``dpi``, seen at a slant (each
    corner moved inwards by up to 6% of the width), on a darker ground around it, the light falling
    off across the picture to 65%, grey paper, sensor noise, slightly blurred, JPEG 65, in a PDF of
    pictures. Repeatable: everything is drawn from ``seed``."""
    import math

    import cv2
    import numpy as np
    from PIL import Image, ImageFilter

    draw, noise = _chances(seed)
    images = []
    for page in _rendered(data, dpi):
        grey = np.asarray(page, dtype=np.float32)
        height, width = grey.shape
        slant = 0.06 * width
        sheet = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
        seen = np.float32(
            [
                [0.10 * width + draw.uniform(0, slant), 0.07 * height + draw.uniform(0, slant)],
                [1.10 * width - draw.uniform(0, slant), 0.07 * height + draw.uniform(0, slant)],
                [1.10 * width - draw.uniform(0, slant), 1.08 * height - draw.uniform(0, slant)],
                [0.10 * width + draw.uniform(0, slant), 1.08 * height - draw.uniform(0, slant)],
            ]
        )
        size = (int(width * 1.2), int(height * 1.15))
        paper = 30 + grey * (215 - 30) / 255
        picture = cv2.warpPerspective(
            paper, cv2.getPerspectiveTransform(sheet, seen), size, flags=cv2.INTER_LINEAR, borderValue=70
        )
        _, _, ramp = _light_ramp(size[1], size[0], draw.uniform(0, 2 * math.pi))
        picture = picture * (1 - 0.35 * ramp) + noise.normal(0, 5, picture.shape)
        image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8))
        images.append(_as_jpeg(image.filter(ImageFilter.GaussianBlur(0.7)), 65))
    return _pdf_of(images, dpi)


def as_turned_scan(data: bytes, seed: str) -> bytes:
    """:func:`as_scan` with every page fed into the scanner sideways or upside down: each page's
    picture turned by 90, 180 or 270 degrees, drawn from ``seed``."""
    turn, _ = _chances(seed + ":turn")
    scanned = _rendered(as_scan(data, seed), 250)
    return _pdf_of(
        [image.rotate(turn.choice([90, 180, 270]), expand=True) for image in scanned], 250, quality=70
    )


def as_fax(data: bytes) -> bytes:
    """A text PDF as a fax machine sends it in standard mode: every page black and white at 204 dpi
    across and 98 down (pixels twice as tall as wide), the frames of one Group 4 TIFF that records
    that resolution."""
    from PIL import Image

    frames = []
    for grey in _rendered(data, 204):
        grey = grey.resize((grey.width, round(grey.height * 98 / 204)), Image.Resampling.LANCZOS)
        frames.append(grey.point(lambda value: 255 if value > 150 else 0).convert("1"))
    return _tiff_of(frames, compression="group4", dpi=(204, 98))


def as_small_image(data: bytes, dpi: int = 150) -> bytes:
    """A text PDF as a small image file, as a chat app or a phone's "send smaller" passes it on:
    every page in colour at ``dpi`` (letters 10-14 pixels high), JPEG-compressed, as the frames of
    one TIFF (read as an image at its own resolution, not rendered again)."""
    frames = [page.convert("RGB") for page in _rendered(data, dpi, grey=False)]
    return _tiff_of(frames, compression="jpeg", quality=80)


# How each kind of copy is made, and how the report names it.
COPIES = {
    "scan": "250 dpi, turned by up to 0.8 degrees, blurred, JPEG 70",
    "harsh": "200 dpi, turned by up to 2.0 degrees, blurred, JPEG 50",
    "photo": "photographed: 200 dpi, turned by up to 1.5 degrees, lit unevenly, grey paper, noise, JPEG 60",
    "snapshot": "photographed on a desk: 200 dpi, at a slant, on a darker ground, lit unevenly, JPEG 65",
    "small": "a small image file: 150 dpi, colour, JPEG-compressed TIFF frames, read at their own size",
    "turned": "250-dpi scans fed in sideways or upside down (each page turned by 90, 180 or 270 degrees)",
    "fax": "a fax in standard mode: black and white, 204 x 98 dpi, Group 4 TIFF frames",
}


def copy_of(data: bytes, name: str, kind: str) -> bytes:
    """``data`` as the copy ``kind`` names (see ``COPIES``)."""
    if kind == "photo":
        return as_photo(data, name)
    if kind == "snapshot":
        return as_snapshot(data, name)
    if kind == "fax":
        return as_fax(data)
    if kind == "turned":
        return as_turned_scan(data, name)
    if kind == "small":
        return as_small_image(data)
    if kind == "harsh":
        return as_scan(data, name, 200, turn_by=2.0, quality=50)
    return as_scan(data, name)


def scanned_real(folders: list[Path], kind: str = "scan") -> Counter[str]:
    """The real invoices (PDFs with invoice2data-style JSON) read from a copy on paper (``kind``,
    one of ``COPIES``: scans, harsher scans, phone photos, photos of the sheet on a desk): real
    layouts through the OCR path. Prints the per-field table and returns the counts."""
    counts: Counter[str] = Counter()
    for folder in folders:
        for path in sorted(folder.glob("*.pdf")):
            if not path.with_suffix(".json").exists():
                continue
            got = _ours(copy_of(path.read_bytes(), path.name, kind), f"{path.stem}-{kind}.pdf")
            for field, want in _truth(path.with_suffix(".json")).items():
                counts[f"{field}:total"] += 1
                counts[field] += right(field, want, got.get(field))
    names = ", ".join(folder.name for folder in folders)
    _print_fields(f"real invoices read as scans ({names}; {COPIES[kind]})", counts)
    return counts
