"""Safe XML loading: the only place where ISO 20022 bytes become an element tree.

Contract: :func:`load_xml` returns the root element of ``data`` or raises
:class:`~tools.errors.UnsafeInputError` (DTDs, entity declarations, external references, inputs over
:data:`MAX_XML_BYTES`) or :class:`~tools.errors.ParseError` (not well-formed, bad encoding). Parsing goes
through ``defusedxml`` so entity expansion ("billion laughs") and external entities are never resolved.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder
from xml.etree.ElementTree import ParseError as ExpatParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from tools.errors import ParseError, UnsafeInputError

MAX_XML_BYTES = 10 * 1024 * 1024  # payment messages are kilobytes; 10 MB leaves room for big statements


class _Parser(DefusedXMLParser):
    """defusedxml's parser (DTD, entity and external-reference guards unchanged), with the per-element
    callbacks wired more directly to the C tree builder.

    defusedxml builds on the pure-Python ``XMLParser``, whose start and end callbacks cost more than
    the rest of the parse: they expand each name through a method and a ``try``, copy each attribute
    list into a dict and call the builder through an attribute lookup. Here expat hands attributes
    over as a dict already, names are expanded through a local memo (``ns}Name`` -> ``{ns}Name``, the
    same expansion), and the end callback is the builder's own ``end``, which ignores the tag it is
    given, so the tree is the one ``defusedxml.ElementTree.fromstring`` builds.
    """

    def __init__(self) -> None:
        builder = TreeBuilder()
        super().__init__(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        names: dict[str, str] = {}
        start = builder.start

        def expand(name: str) -> str:
            full = names[name] = "{" + name if "}" in name else name
            return full

        def on_start(tag: str, attrib: dict[str, str]) -> Any:
            name = names.get(tag) or expand(tag)
            if attrib:
                for key in attrib:
                    if "}" in key:  # a namespaced attribute (xsi:schemaLocation): expand every key
                        attrib = {(names.get(k) or expand(k)): v for k, v in attrib.items()}
                        break
            return start(name, attrib)

        expat = self.parser
        expat.ordered_attributes = 0
        expat.StartElementHandler = on_start
        expat.EndElementHandler = builder.end


def load_xml(data: bytes, source: str) -> Element:
    """Parse ``data`` without resolving DTDs or entities; see the module contract."""
    if len(data) > MAX_XML_BYTES:
        raise UnsafeInputError(
            f"XML input of {len(data)} bytes is over the {MAX_XML_BYTES}-byte limit", source=source
        )
    if not data.strip():
        raise ParseError("empty XML input", source=source)
    try:
        parser = _Parser()
        parser.feed(data)
        root: Element = parser.close()
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
