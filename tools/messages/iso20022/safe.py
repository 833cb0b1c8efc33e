"""Safe XML loading: the only place where ISO 20022 bytes become an element tree.

Contract: :func:`load_xml` returns the root element of ``data`` or raises
:class:`~tools.errors.UnsafeInputError` (DTDs, entity declarations, external references, inputs over
:data:`MAX_XML_BYTES`) or :class:`~tools.errors.ParseError` (not well-formed, bad encoding). Parsing goes
through ``defusedxml`` so entity expansion ("billion laughs") and external entities are never resolved.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as ExpatParseError

import defusedxml.ElementTree as defused_et
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from tools.errors import ParseError, UnsafeInputError

MAX_XML_BYTES = 10 * 1024 * 1024  # payment messages are kilobytes; 10 MB leaves room for big statements


def load_xml(data: bytes, source: str) -> Element:
    """Parse ``data`` without resolving DTDs or entities; see the module contract."""
    if len(data) > MAX_XML_BYTES:
        raise UnsafeInputError(
            f"XML input of {len(data)} bytes is over the {MAX_XML_BYTES}-byte limit", source=source
        )
    if not data.strip():
        raise ParseError("empty XML input", source=source)
    try:
        root: Element = defused_et.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DTDForbidden as exc:
        raise UnsafeInputError(
            "XML with a document type declaration (DTD) is refused", source=source
        ) from exc
    except EntitiesForbidden as exc:
        raise UnsafeInputError(
            f"XML entity declaration {exc.name!r} is refused (entity expansion)", source=source
        ) from exc
    except ExternalReferenceForbidden as exc:
        raise UnsafeInputError(
            f"XML external reference {exc.sysid or exc.pubid!r} is refused", source=source
        ) from exc
    except DefusedXmlException as exc:
        raise UnsafeInputError(f"unsafe XML construct refused: {exc}", source=source) from exc
    except ExpatParseError as exc:
        raise ParseError(f"malformed XML: {exc}", source=source) from exc
    except (ValueError, LookupError, UnicodeError) as exc:
        # expat reports unknown encodings and some byte-level errors this way
        raise ParseError(f"unreadable XML: {exc}", source=source) from exc
    return root
