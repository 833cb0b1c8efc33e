"""Procedures as retrieval reads them: the one model of :mod:`tools.procedures`, re-exported.

Parsing lives in :mod:`tools.procedures` (shared with the agent and the UI); these names stay so
that retrieval's callers keep one import path.
"""

from tools.procedures import (
    Procedure,
    Section,
    default_corpus_dirs,
    get_procedure,
    load_procedures,
    parse_procedure,
    parse_procedure_text,
    procedure_files,
)

__all__ = [
    "Procedure",
    "Section",
    "default_corpus_dirs",
    "get_procedure",
    "load_procedures",
    "parse_procedure",
    "parse_procedure_text",
    "procedure_files",
]
