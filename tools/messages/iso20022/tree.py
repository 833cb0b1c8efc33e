"""Namespace-agnostic element access that remembers each element's XPath.

ISO 20022 documents come with a default namespace, a prefix (``pacs:``, ``camt:``) or none, and the
namespace carries a version we ignore. :class:`Node` therefore matches children by local name only, and
builds an XPath such as ``/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt`` as it walks, so
every extracted value can say where it came from.
"""

from __future__ import annotations

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


_UNSET: object = object()


@lru_cache(maxsize=1024)
def _steps(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


def _group(el: Element) -> dict[str, list[Element]]:
    """Children of ``el`` by local name, each list in document order."""
    groups: dict[str, list[Element]] = {}
    for child in el:
        name = local_name(child.tag)
        same = groups.get(name)
        if same is None:
            groups[name] = [child]
        else:
            same.append(child)
    return groups


class Node:
    """An element plus its XPath. ``find``/``findall`` take ``/``-separated local names.

    A mapper asks the same element for many children by name (``BICFI``, ``BIC``, ``AnyBIC``, ``Nm``...),
    so a node groups its children by local name on the first request and keeps the child nodes it
    hands out: later requests are dictionary hits and return the same child objects, whose own groups
    are then kept too. Nodes assume the tree is not modified while they are in use.
    """

    __slots__ = ("_groups", "_named", "_text", "el", "path")

    def __init__(self, el: Element, path: str) -> None:
        self.el = el
        self.path = path
        self._groups: dict[str, list[Element]] | None = None
        self._named: dict[str, list[Node]] | None = None
        self._text: object = _UNSET

    @property
    def name(self) -> str:
        return local_name(self.el.tag)

    def _step(self, name: str, index: int) -> str:
        if name in REPEATING or index > 1:
            return f"{self.path}/{name}[{index}]"
        return f"{self.path}/{name}"

    def _nodes(self, name: str) -> list[Node]:
        """The (shared, never mutated) list of child nodes named ``name``."""
        named = self._named
        if named is None:
            named = self._named = {}
        elif name in named:
            return named[name]
        groups = self._groups
        if groups is None:
            groups = self._groups = _group(self.el)
        elements = groups.get(name)
        nodes = (
            [Node(child, self._step(name, index)) for index, child in enumerate(elements, 1)]
            if elements
            else []
        )
        named[name] = nodes
        return nodes

    def children(self, name: str) -> list[Node]:
        return list(self._nodes(name))

    def child(self, name: str) -> Node | None:
        named = self._named
        nodes = named.get(name) if named is not None else None
        if nodes is None:
            nodes = self._nodes(name)
        return nodes[0] if nodes else None

    def child_text(self, name: str) -> str | None:
        """``child(name).text`` when that child exists, else None, without making the child's node."""
        named = self._named
        nodes = named.get(name) if named is not None else None
        if nodes is not None:
            return nodes[0].text if nodes else None
        groups = self._groups
        if groups is None:
            groups = self._groups = _group(self.el)
        elements = groups.get(name)
        return (elements[0].text or "").strip() or None if elements else None

    def find(self, path: str) -> Node | None:
        """First node along ``path`` (e.g. ``"FinInstnId/BICFI"``), following first matches."""
        node: Node | None = self
        for name in _steps(path):
            if node is None:
                return None
            node = node.child(name)
        return node

    def findall(self, path: str) -> list[Node]:
        """Every node matching ``path``, across all repetitions of each step."""
        nodes = [self]
        for name in _steps(path):
            nodes = [child for node in nodes for child in node._nodes(name)]
        return nodes

    @property
    def text(self) -> str | None:
        """The element's own text, stripped; None when empty."""
        value = self._text
        if value is _UNSET:
            value = self._text = (self.el.text or "").strip() or None
        return value  # type: ignore[return-value]

    def attr(self, name: str) -> str | None:
        for key, value in self.el.attrib.items():
            if local_name(key) == name:
                return value.strip() or None
        return None
