"""Blocks 1, 2 and 3 of a FIN message: addresses, message type, direction and user header.

Block 1 ``F01BANKBEBBAXXX0000000000``: application, service, the 12-character logical terminal
address of the local party (sender of an input message, receiver of an output message), session
and sequence. Block 2 ``I103BANKDEFFXXXXN`` (input: type, receiver address, priority) or
``O1031200...`` (output: type, input time, MIR whose address is the sender, output date/time).

Contract: :func:`read_header` never raises; problems become findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tools.messages.swift.blocks import RawMessage
from tools.messages.swift.builder import Collector

# Only the leading, mandatory parts decide and are read (the rest is optional or free): block 1
# application, service, logical terminal; block 2 input: type, receiver; output: type, input time,
# MIR (date, logical terminal of the sender, session, sequence).
_BLOCK1 = re.compile(r"[A-Z]\d{2}([A-Z0-9]{12})")
_INPUT = re.compile(r"I(\d{3})([A-Z0-9]{12})")
_OUTPUT = re.compile(r"O(\d{3})\d{4}\d{6}([A-Z0-9]{12})\d{4}\d{6}")
_UETR = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@dataclass(slots=True)
class Header:
    message_type: str | None = None
    sender_bic: str | None = None
    receiver_bic: str | None = None
    direction: str | None = None  # "I" input (to SWIFT) or "O" output (from SWIFT)
    validation_flag: str | None = None  # block 3 field 119: STP, REMIT, COV, ...
    uetr: str | None = None
    mur: str | None = None  # block 3 field 108


def lt_to_bic(address: str) -> str:
    """Logical terminal address (BIC8 + terminal code + branch) to a BIC; XXX branches drop."""
    branch = address[9:12]
    return address[:8] + ("" if branch == "XXX" else branch)


def read_header(msg: RawMessage, out: Collector) -> Header:
    head = Header()
    local: str | None = None
    if msg.block1:
        m = _BLOCK1.match(msg.block1)
        if m is None:
            out.finding("BLOCK_FORMAT", "warning", f"basic header {msg.block1[:30]!r} is malformed")
        else:
            local = lt_to_bic(m.group(1))
    if msg.block2:
        b2 = msg.block2
        # each pattern starts with its direction letter: try only the one that can match
        mi = _INPUT.match(b2) if b2[0] == "I" else None
        mo = _OUTPUT.match(b2) if mi is None and b2[0] == "O" else None
        if mi is not None:
            head.direction, head.message_type = "I", mi.group(1)
            head.sender_bic, head.receiver_bic = local, lt_to_bic(mi.group(2))
        elif mo is not None:
            head.direction, head.message_type = "O", mo.group(1)
            head.sender_bic, head.receiver_bic = lt_to_bic(mo.group(2)), local
        else:
            out.finding("BLOCK_FORMAT", "warning", f"application header {b2[:40]!r} is malformed")
            if len(b2) >= 4 and b2[1:4].isdigit():
                head.message_type = b2[1:4]
            head.sender_bic = local
    else:
        head.sender_bic = local
    for key, value in msg.block3:
        if key == "119":
            head.validation_flag = value.strip()
        elif key == "121":
            head.uetr = value.strip()
            if not _UETR.fullmatch(head.uetr):
                out.finding(
                    "FIELD_FORMAT",
                    "error",
                    f"block 3 field 121: {head.uetr!r} is not a UUID v4 in lower case",
                    "payment.uetr",
                )
        elif key == "108":
            head.mur = value.strip()
    return head
