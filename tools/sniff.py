"""Tell an input's type from its first bytes (never from the file name).

Its own module, with no imports, so that ``tools.extract`` (which routes to the readers) and the
document readers (which need the type too) do not import each other.
"""

from __future__ import annotations

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8")


def sniff(data: bytes) -> str:
    """Classify raw bytes: ``pdf``, ``image``, ``xml``, ``fin`` or ``text``."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if head.startswith(b"<"):
        return "xml"
    text = head.decode("latin-1")
    if text.startswith(("{1:", "{2:", "{4:", "$", "{")) or "\n:20:" in "\n" + text or ":20:" in text[:200]:
        return "fin"
    return "text"
