"""Evidence functions for the agent's tools (docs/playbook.md, "Tool catalogue"); plain Python.

One module per concern: ``iban`` (validation, BIC derivation), ``banks`` (BIC and bank-name look-up),
``customers`` (customers and accounts), ``ssi`` (standing settlement instructions), ``names``
(beneficiary-name matching with homoglyph detection), ``duplicates``, ``invoices`` and
``subset_sum`` (remittance matching), ``recall`` (recall windows), ``codes`` (reason codes),
``investigation`` (MT199 / camt drafts), ``common`` (argument parsing). Each tool function returns a
JSON-ready dict with a stable ``ref`` when it found something, and raises only
:mod:`tools.errors` types for bad arguments. ``tools/agent_tools.py`` wraps them for LangChain.
"""
