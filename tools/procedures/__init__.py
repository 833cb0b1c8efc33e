"""The one procedure model: procedure Markdown parsed once into typed objects, and the global policies.

Retrieval (:mod:`tools.retrieval`), the agent (:mod:`agents.playbook`) and the UI
(:mod:`app.services.procedures`) all read procedures through this package; see :mod:`.model` for
the objects, :mod:`.parse` for the file format, :mod:`.policies` for the rules that hold everywhere
and :mod:`.corpus` for loading and caching.
"""

from tools.procedures.corpus import (
    Corpus,
    default_corpus,
    default_corpus_dirs,
    get_procedure,
    load_procedures,
    parse_procedure,
    procedure_files,
)
from tools.procedures.model import (
    ChangeSpec,
    Citation,
    DecisionRow,
    DecisionTable,
    Playbook,
    Procedure,
    Rule,
    Section,
    Step,
)
from tools.procedures.parse import parse_playbook, parse_procedure_text
from tools.procedures.policies import Policies, default_policies, load_policies

__all__ = [
    "ChangeSpec",
    "Citation",
    "Corpus",
    "DecisionRow",
    "DecisionTable",
    "Playbook",
    "Policies",
    "Procedure",
    "Rule",
    "Section",
    "Step",
    "default_corpus",
    "default_corpus_dirs",
    "default_policies",
    "get_procedure",
    "load_policies",
    "load_procedures",
    "parse_playbook",
    "parse_procedure",
    "parse_procedure_text",
    "procedure_files",
]
