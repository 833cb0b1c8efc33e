"""ISO 20022 XML: safe parsing to the canonical model, CBPR+ usage-rule findings, pacs.008 writing.

Public interface:

- :func:`parse_xml` (``data: bytes, source: str) -> Extraction``): any version of pacs.008/009/004/002,
  camt.052/053/054/056/029 and pain.001, with or without AppHdr and envelope. Raises only
  :class:`~tools.errors.ParseError` / :class:`~tools.errors.UnsafeInputError`.
- :func:`parse_xml_all`: one Extraction per statement block (multi-statement camt files).
- :func:`write_pacs008` (``payment: Payment) -> bytes``): a pacs.008.001.08 document that re-parses to
  the same payment fields.
- :func:`check_cbpr`: the CBPR+ usage-rule subset as findings (also applied by ``parse_xml`` to
  messages whose header names a ``swift.cbprplus`` business service).
"""

from __future__ import annotations

from tools.messages.iso20022.cbpr import RULES, CbprRule, check_cbpr
from tools.messages.iso20022.parse import parse_xml, parse_xml_all
from tools.messages.iso20022.safe import MAX_XML_BYTES
from tools.messages.iso20022.writer import write_pacs008

__all__ = [
    "MAX_XML_BYTES",
    "RULES",
    "CbprRule",
    "check_cbpr",
    "parse_xml",
    "parse_xml_all",
    "write_pacs008",
]
