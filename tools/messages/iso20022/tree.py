"""Namespace-agnostic element access that remembers each element's XPath.

ISO 20022 documents come with a default namespace, a prefix (``pacs:``, ``camt:``) or none, and the
namespace carries a version we ignore. :class:`Node` therefore matches children by local name only, and
builds an XPath such as ``/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt`` as it walks, so
every extracted value can say where it came from.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from xml.etree.ElementTree import Element

# Elements that may repeat in the messages we map: their XPath step always carries an index, so paths
# are stable whether a document holds one occurrence or several.
REPEATING = frozenset(
    {
        "CdtTrfTxInf",
        "TxInf",
        "TxInfAndSts",
        "OrgnlGrpInfAndSts",
        "PmtInf",
        "Undrlyg",
        "CxlDtls",
        "Stmt",
        "Rpt",
        "Ntfctn",
        "Bal",
        "Ntry",
        "NtryDtls",
        "TxDtls",
        "Ustrd",
        "Strd",
        "AdrLine",
        "RfrdDocInf",
        "StsRsnInf",
        "RtrRsnInf",
        "CxlRsnInf",
        "CxlStsRsnInf",
        "ChrgsInf",
        "RgltryRptg",
        "Dtls",
        "Inf",
        "InstrForCdtrAgt",
        "InstrForNxtAgt",
        "AddtlInf",
        "AddtlStmtInf",
        "AddtlRptInf",
        "AddtlNtfctnInf",
        "AddtlTxInf",
        "RltdPties",
        "Prtry",
    }
)


@lru_cache(maxsize=4096)  # a message uses a few dozen distinct tags; this is the parser's hot path
def local_name(tag: object) -> str:
    """``{urn:...}Name`` or ``prefix-less`` tag -> ``Name``; comments and PIs have no name."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: object) -> str:
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return ""


class Node:
    """An element plus its XPath. ``find``/``findall`` take ``/``-separated local names."""

    __slots__ = ("el", "path")

    def __init__(self, el: Element, path: str) -> None:
        self.el = el
        self.path = path

    @property
    def name(self) -> str:
        return local_name(self.el.tag)

    def _children(self, name: str) -> Iterator[tuple[int, Element]]:
        index = 0
        for child in self.el:
            if local_name(child.tag) == name:
                index += 1
                yield index, child

    def _step(self, name: str, index: int) -> str:
        if name in REPEATING or index > 1:
            return f"{self.path}/{name}[{index}]"
        return f"{self.path}/{name}"

    def children(self, name: str) -> list[Node]:
        return [Node(child, self._step(name, index)) for index, child in self._children(name)]

    def child(self, name: str) -> Node | None:
        for index, child in self._children(name):
            return Node(child, self._step(name, index))
        return None

    def find(self, path: str) -> Node | None:
        """First node along ``path`` (e.g. ``"FinInstnId/BICFI"``), following first matches."""
        node: Node | None = self
        for name in path.split("/"):
            if node is None:
                return None
            node = node.child(name)
        return node

    def findall(self, path: str) -> list[Node]:
        """Every node matching ``path``, across all repetitions of each step."""
        nodes = [self]
        for name in path.split("/"):
            nodes = [child for node in nodes for child in node.children(name)]
        return nodes

    @property
    def text(self) -> str | None:
        """The element's own text, stripped; None when empty."""
        value = (self.el.text or "").strip()
        return value or None

    def attr(self, name: str) -> str | None:
        for key, value in self.el.attrib.items():
            if local_name(key) == name:
                return value.strip() or None
        return None
