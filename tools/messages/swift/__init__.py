"""SWIFT MT (FIN) messages: ``parse_fin`` reads them, ``write_mt103`` / ``write_mt199`` write them.

See :mod:`tools.messages.swift.parser` for the reading contract and
:mod:`tools.messages.swift.writer` for the writing contract.
"""

from __future__ import annotations

from tools.messages.swift.parser import parse_fin
from tools.messages.swift.writer import write_mt103, write_mt199

__all__ = ["parse_fin", "write_mt103", "write_mt199"]
