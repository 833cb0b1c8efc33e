"""The exception-repair agent: a LangGraph graph from a case to a guarded proposal and a human decision.

Public faces: :mod:`agents.graph` (the compiled ``graph``), :class:`agents.runner.TriageRunner`
(start / resume / get_state over a checkpointer) and :func:`agents.models.load_chat_model`.
"""
