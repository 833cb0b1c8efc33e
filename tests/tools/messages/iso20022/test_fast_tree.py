"""The speed-ups of the ISO 20022 reader must not change what it reads.

``load_xml`` wires defusedxml's parser straight to the C tree builder, and :class:`Node` keeps its
children grouped by name. These tests compare both against the plain ways: the tree against
``defusedxml.ElementTree.fromstring`` (same elements, tags, attributes and text, or the same
exception), and node look-ups against a direct scan of the element's children.
"""

from __future__ import annotations

import random
from pathlib import Path
from xml.etree.ElementTree import Element, tostring

import defusedxml.ElementTree as defused_et
import pytest

from tools.errors import ParseError
from tools.messages.iso20022.safe import load_xml
from tools.messages.iso20022.tree import REPEATING, Node, local_name


def _reference(data: bytes) -> Element:
    root: Element = defused_et.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    return root


def _samples(iso_dir: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted(iso_dir.rglob("*.xml"))]


def test_tree_matches_defusedxml_on_samples(iso_dir: Path) -> None:
    samples = _samples(iso_dir)
    assert samples
    for data in samples:
        ours = load_xml(data, "sample")
        assert tostring(ours) == tostring(_reference(data))


@pytest.mark.parametrize(
    "data",
    [
        b'<a:Doc xmlns:a="urn:a" xmlns:x="urn:x" x:k="1" plain="2"><a:B x:k="3">t</a:B><C/></a:Doc>',
        b"<Doc><B Ccy='EUR'> 12.5 </B><B/>tail<!-- note --><?pi x?></Doc>",
        b'<?xml version="1.0" encoding="ISO-8859-1"?><Doc>\xe9</Doc>',
        '<?xml version="1.0" encoding="UTF-16"?><Doc>\u00e9</Doc>'.encode("utf-16"),
    ],
)
def test_tree_matches_defusedxml_on_namespaces_and_encodings(data: bytes) -> None:
    assert tostring(load_xml(data, "x")) == tostring(_reference(data))


def test_mutated_samples_read_or_fail_alike(iso_dir: Path) -> None:
    rnd = random.Random(7)
    for data in rnd.sample(_samples(iso_dir), 20):
        for _ in range(15):
            cut = rnd.randrange(len(data))
            mutated = (
                data[:cut]
                + rnd.choice([b"<", b">", b"&amp;", b"&x;", b"<!DOCTYPE d>", b""])
                + data[cut + 3 :]
            )
            try:
                expected = tostring(_reference(mutated))
            except Exception:  # malformed or refused: ours must refuse it too, as a typed error
                with pytest.raises(ParseError):
                    load_xml(mutated, "m")
                continue
            assert tostring(load_xml(mutated, "m")) == expected


def _scan(el: Element, name: str) -> list[Element]:
    return [child for child in el if local_name(child.tag) == name]


def test_node_lookups_match_a_direct_scan(iso_dir: Path) -> None:
    for data in _samples(iso_dir)[:40]:
        root = Node(load_xml(data, "s"), "/")
        stack = [root]
        while stack:
            node = stack.pop()
            names = {local_name(c.tag) for c in node.el} | {"Nope"}
            for name in names:
                expected = _scan(node.el, name)
                found = node.children(name)
                assert [n.el for n in found] == expected
                assert node.child(name) is (found[0] if found else None)  # the same node each time
                assert node.child_text(name) == (found[0].text if found else None)
                for index, child in enumerate(found, 1):
                    indexed = index > 1 or name in REPEATING
                    assert child.path == (
                        f"{node.path}/{name}[{index}]" if indexed else f"{node.path}/{name}"
                    )
            stack.extend(n for name in names for n in node.children(name))
