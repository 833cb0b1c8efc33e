"""The procedure corpus (corpora/procedures) and the retrieval question set obey docs/playbook.md.

These tests read the Markdown files directly (front matter, numbered headings, the one ``playbook``
block) so that a malformed procedure fails here, before the index or the agent ever sees it.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.catalog import ACTIONS, TOOL_NAMES, TRUSTED_SOURCES

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "corpora" / "procedures"
REFERENCE = ROOT / "corpora" / "reference"
RETRIEVAL = ROOT / "evals" / "datasets" / "retrieval.jsonl"

FRONT_MATTER_KEYS = (
    "doc_id",
    "title",
    "version",
    "effective_date",
    "owner",
    "exception_codes",
    "message_types",
    "rails",
)
CASE_ROOTS = frozenset({"case", "payment", "remittance", "policy"})
POLICIES = yaml.safe_load((ROOT / "corpora" / "policies.yaml").read_text(encoding="utf-8"))
# Codes the contract names plus the coverage list of the corpus issue: each needs a procedure.
REQUIRED_CODES = frozenset(
    {
        "AC01", "AC03", "AC04", "AC06", "AG01", "AM04", "AM05", "AM09", "BE01", "BE04", "RR03", "RC01",
        "RR01", "RR02", "RR04", "FF01", "MS03", "CUST", "DUPL", "TECH", "FRAD",
        "REMITTANCE_MISMATCH", "UNAPPLIED_CASH", "INVESTIGATION_QUERY", "RECALL_REQUEST", "UNKNOWN",
    }
)  # fmt: skip
# Fields a repair may change. Amount, currency and value date are deliberately absent.
REPAIRABLE_FIELDS = frozenset(
    {
        "payment.creditor.account.iban", "payment.creditor.name", "payment.creditor.address_lines",
        "payment.creditor.country", "payment.creditor_agent.bic", "payment.intermediary_agent.bic",
        "payment.debtor.name", "payment.debtor.address_lines", "payment.debtor.country",
    }
)  # fmt: skip
_ALLOWED_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(.*)$")
_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w.+-]*)")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")
_TOOL_MENTION = re.compile(r"(?:\b[Rr]un|\b[Cc]all|\b[Uu]se|\b[Uu]sing|\b[Tt]ools?:)\s+`([a-z_]+)`")


@dataclass
class Doc:
    path: Path
    meta: dict[str, Any]
    sections: list[str] = field(default_factory=list)
    prose: str = ""
    playbooks: list[str] = field(default_factory=list)

    @property
    def doc_id(self) -> str:
        return str(self.meta.get("doc_id"))

    @cached_property
    def playbook(self) -> dict[str, Any] | None:
        return yaml.safe_load(self.playbooks[0]) if self.playbooks else None


def parse_doc(path: Path) -> Doc:
    """Front matter, section ids (number, or heading text) outside fences, prose, playbook blocks."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path.name}: no front matter"
    end = text.index("\n---\n", 4)
    doc = Doc(path=path, meta=yaml.safe_load(text[4:end]))
    fence: str | None = None
    is_playbook = False
    block: list[str] = []
    prose: list[str] = []
    for line in text[end + 5 :].splitlines():
        if fence is not None:
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                if is_playbook:
                    doc.playbooks.append("\n".join(block))
                fence, block = None, []
            elif is_playbook:
                block.append(line)
            else:
                prose.append(line)
            continue
        match = _FENCE.match(line.strip())
        if match:
            fence, is_playbook = match.group(1), match.group(2).lower() == "playbook"
            continue
        prose.append(line)
        heading = _HEADING.match(line)
        if heading:
            label = heading.group(2).strip()
            numbered = _NUMBERED.match(label)
            doc.sections.append(numbered.group(1) if numbered else label)
    doc.prose = "\n".join(prose)
    return doc


@pytest.fixture(scope="module")
def docs() -> dict[str, Doc]:
    parsed = [parse_doc(p) for p in sorted(PROCEDURES.glob("*.md"))]
    by_id = {d.doc_id: d for d in parsed}
    assert len(by_id) == len(parsed), "duplicate doc_id"
    return by_id


@pytest.fixture(scope="module")
def reference_docs() -> dict[str, Doc]:
    if not REFERENCE.is_dir():
        return {}
    return {d.doc_id: d for d in (parse_doc(p) for p in sorted(REFERENCE.glob("*.md")))}


def playbooks(docs: dict[str, Doc]) -> list[tuple[str, dict[str, Any]]]:
    return [(d.doc_id, pb) for d in docs.values() if (pb := d.playbook) is not None]


# --- expressions --------------------------------------------------------------------------------


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    raise AssertionError(f"not a dotted name: {ast.dump(node)}")


def condition_names(expr: str) -> set[str]:
    """The dotted names of a `when` condition; AssertionError on any syntax outside the language."""
    tree = ast.parse(expr.strip(), mode="eval")
    names: set[str] = set()

    def vet(node: ast.AST) -> None:
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                vet(value)
        elif isinstance(node, ast.UnaryOp):
            assert isinstance(node.op, ast.Not), f"unary {type(node.op).__name__} in {expr!r}"
            vet(node.operand)
        elif isinstance(node, ast.Compare):
            assert all(isinstance(op, _ALLOWED_COMPARE) for op in node.ops), f"operator in {expr!r}"
            for part in (node.left, *node.comparators):
                vet(part)
        elif isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name) and node.func.id == "len", f"call in {expr!r}"
            assert len(node.args) == 1 and not node.keywords, f"len() arguments in {expr!r}"
            vet(node.args[0])
        elif isinstance(node, ast.Name | ast.Attribute):
            names.add(dotted(node))
        elif isinstance(node, ast.Constant):
            assert isinstance(node.value, str | int | float | bool | type(None)), f"literal in {expr!r}"
        elif isinstance(node, ast.List | ast.Tuple):
            assert all(isinstance(e, ast.Constant) for e in node.elts), f"non-constant list in {expr!r}"
        else:
            raise AssertionError(f"{type(node).__name__} not allowed in {expr!r}")

    vet(tree.body)
    return names


@pytest.mark.parametrize(
    "expr",
    ["a.b and not c", "len(x.y) >= 2", "s.t in ['open', 'closed']", "a.score >= 0.85 or b == None"],
)
def test_condition_checker_accepts_the_language(expr: str) -> None:
    assert condition_names(expr)


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os')",
        "a.b.lower() == 'x'",
        "x[0] == 1",
        "lambda: 1",
        "a if b else c",
        "-a.b > 1",
        "[y for y in z]",
    ],
)
def test_condition_checker_refuses_other_syntax(expr: str) -> None:
    with pytest.raises(AssertionError):
        condition_names(expr)


# --- front matter and structure -----------------------------------------------------------------


def test_at_least_forty_procedures(docs: dict[str, Doc]) -> None:
    assert len(docs) >= 40


def test_front_matter_complete_and_valid(docs: dict[str, Doc]) -> None:
    for doc in docs.values():
        meta = doc.meta
        missing = [k for k in FRONT_MATTER_KEYS if k not in meta]
        assert not missing, f"{doc.path.name}: missing {missing}"
        assert re.fullmatch(r"SOP-[A-Z0-9]+(-[A-Z0-9]+)*", doc.doc_id), doc.doc_id
        assert doc.path.name == f"{doc.doc_id}.md", f"{doc.path.name} holds {doc.doc_id}"
        assert isinstance(meta["title"], str) and len(meta["title"]) > 10
        assert re.fullmatch(r"\d+\.\d+", str(meta["version"])), f"{doc.doc_id}: version {meta['version']}"
        assert isinstance(meta["effective_date"], date), f"{doc.doc_id}: effective_date not a date"
        assert isinstance(meta["owner"], str) and meta["owner"]
        for key in ("exception_codes", "message_types", "rails"):
            assert isinstance(meta[key], list), f"{doc.doc_id}: {key} must be a list"
        assert meta["message_types"] and meta["rails"], (
            f"{doc.doc_id}: message_types and rails must name something"
        )


def test_procedures_are_sectioned_and_sized(docs: dict[str, Doc]) -> None:
    for doc in docs.values():
        assert "1" in doc.sections and doc.sections.index("1") < len(doc.sections), doc.doc_id
        assert any("." in s and s[0].isdigit() for s in doc.sections), f"{doc.doc_id}: no subsections"
        words = len(doc.prose.split()) + sum(len(b.split()) for b in doc.playbooks)
        assert 400 <= words <= 1200, f"{doc.doc_id}: {words} words"


def test_every_code_claimed_once_and_routed_by_index(docs: dict[str, Doc]) -> None:
    claims: dict[str, list[str]] = {}
    for doc in docs.values():
        for code in doc.meta["exception_codes"]:
            claims.setdefault(code, []).append(doc.doc_id)
    assert {c: ids for c, ids in claims.items() if len(ids) > 1} == {}
    assert REQUIRED_CODES - claims.keys() == set(), "codes without a procedure"
    index = docs["SOP-INDEX"]
    assert index.meta["exception_codes"] == []
    rows = re.findall(r"^\|\s*`?([A-Z0-9_]+)`?\s*\|[^\n]*?\b(SOP-[A-Z0-9-]+)\b", index.prose, re.M)
    routed = dict(rows)
    for code, (doc_id,) in claims.items():
        assert routed.get(code) == doc_id, (
            f"SOP-INDEX routes {code} to {routed.get(code)}, claimed by {doc_id}"
        )
    for doc_id in set(re.findall(r"\bSOP-[A-Z0-9]+(?:-[A-Z0-9]+)*\b", index.prose)):
        assert doc_id in docs, f"SOP-INDEX names unknown {doc_id}"


def test_every_coded_procedure_carries_a_playbook(docs: dict[str, Doc]) -> None:
    for doc in docs.values():
        assert len(doc.playbooks) <= 1, doc.doc_id
        if doc.meta["exception_codes"]:
            assert doc.playbooks, f"{doc.doc_id} claims codes but has no playbook block"


# --- playbook schema ----------------------------------------------------------------------------


def check_path(value: Any, roots: set[str], where: str) -> None:
    if isinstance(value, bool | int | float):
        return
    if isinstance(value, list):  # a list of paths resolves to the flattened list of their values
        for item in value:
            check_path(item, roots, where)
        return
    assert isinstance(value, str), f"{where}: {value!r}"
    if value.startswith("="):
        return
    assert re.fullmatch(r"[A-Za-z_]\w*(\.\w+)*", value), f"{where}: bad path {value!r}"
    assert value.split(".")[0] in roots, f"{where}: unknown root in {value!r}"


def test_playbooks_follow_the_schema(docs: dict[str, Doc]) -> None:
    assert len(playbooks(docs)) >= 30
    for doc_id, pb in playbooks(docs):
        assert pb["version"] == 1, doc_id
        roots = set(CASE_ROOTS)
        tools: dict[str, str] = {}
        for step in pb["steps"]:
            where = f"{doc_id} step {step.get('id')}"
            assert set(step) <= {"id", "tool", "args", "when"}, where
            assert re.fullmatch(r"[a-z][a-z0-9_]*", step["id"]) and step["id"] not in roots, where
            assert step["tool"] in TOOL_NAMES, f"{where}: unknown tool {step['tool']}"
            assert isinstance(step["args"], dict) and step["args"], where
            for value in step["args"].values():
                check_path(value, roots, where)
            if "when" in step:
                assert condition_names(step["when"]) and all(
                    n.split(".")[0] in roots for n in condition_names(step["when"])
                ), where
            roots.add(step["id"])
            tools[step["id"]] = step["tool"]
        rules = pb["rules"]
        assert rules and rules[-1].get("otherwise") is True, f"{doc_id}: last rule must be otherwise"
        assert sum(1 for r in rules if "otherwise" in r) == 1, doc_id
        for n, rule in enumerate(rules):
            where = f"{doc_id} rule {n}"
            assert rule["action"] in ACTIONS, where
            assert isinstance(rule.get("rationale"), str) and rule["rationale"], where
            if "when" in rule:
                for name in condition_names(rule["when"]):
                    assert name.split(".")[0] in roots, f"{where}: unknown root in {name}"
            for name in _PLACEHOLDER.findall(rule["rationale"]):
                assert name.split(".")[0] in roots, f"{where}: rationale names {name}"
            confidence = rule.get("confidence")
            assert isinstance(confidence, float) and 0.5 <= confidence <= 0.97, f"{where}: confidence"
            assert "four_eyes_above" not in rule, f"{where}: name a four-eyes policy threshold instead"
            if "four_eyes" in rule:
                assert rule["four_eyes"] in POLICIES["four_eyes"]["thresholds"], f"{where}: four_eyes"
            assert isinstance(rule.get("row"), int) and rule["row"] >= 1, f"{where}: no decision-table row"
            changes = rule.get("changes", [])
            assert bool(changes) == (rule["action"] == "repair"), f"{where}: changes iff repair"
            for change in changes:
                assert change["field"] in REPAIRABLE_FIELDS, f"{where}: field {change['field']}"
                root = change["value"].split(".")[0]
                assert root in tools and tools[root] in TRUSTED_SOURCES, (
                    f"{where}: untrusted value {change['value']}"
                )
                if tools[root] == "validate_iban":
                    assert change["value"] == f"{root}.bic", (
                        f"{where}: validate_iban supplies only its derived BIC"
                    )
                evidence = change["evidence"]
                assert evidence.split(".")[0] == root and evidence.endswith(".ref"), (
                    f"{where}: evidence {evidence}"
                )


def test_prose_and_playbook_agree(docs: dict[str, Doc]) -> None:
    for doc_id, pb in playbooks(docs):
        prose = docs[doc_id].prose
        for step in pb["steps"]:
            assert f"`{step['tool']}`" in prose, f"{doc_id}: the prose never names `{step['tool']}`"
        for rule in pb["rules"]:
            assert f"`{rule['action']}`" in prose, (
                f"{doc_id}: the prose never names action `{rule['action']}`"
            )
            named = [rule["four_eyes"]] if "four_eyes" in rule else []
            for threshold in [POLICIES["four_eyes"]["thresholds"][n] for n in named]:
                assert f"{int(threshold):,}" in prose, (
                    f"{doc_id}: four-eyes threshold {threshold} not in prose"
                )


def test_tools_named_in_prose_exist(docs: dict[str, Doc]) -> None:
    for doc in docs.values():
        for name in _TOOL_MENTION.findall(doc.prose):
            assert name in TOOL_NAMES, f"{doc.doc_id}: prose names unknown tool `{name}`"
        for table in re.findall(r"^\|\s*[Tt]ools?\s*\|.*\n(?:\|.*\n?)+", doc.prose, re.M):
            for row in re.findall(r"^\|\s*`([a-z_]+)`\s*\|", table, re.M):
                assert row in TOOL_NAMES, f"{doc.doc_id}: tools table names unknown `{row}`"


# --- safety of the rules ------------------------------------------------------------------------


def rules_of(docs: dict[str, Doc], code: str) -> list[dict[str, Any]]:
    doc = next(d for d in docs.values() if code in d.meta["exception_codes"])
    pb = doc.playbook
    assert pb is not None
    return list(pb["rules"])


def test_no_rule_changes_amount_currency_or_date(docs: dict[str, Doc]) -> None:
    for doc_id, pb in playbooks(docs):
        for rule in pb["rules"]:
            for change in rule.get("changes", []):
                assert not re.search(r"amount|currency|value_date|charge_bearer", change["field"]), doc_id


def test_beneficiary_account_repairs_need_a_matching_ssi(docs: dict[str, Doc]) -> None:
    for doc_id, pb in playbooks(docs):
        tools = {s["id"]: s["tool"] for s in pb["steps"]}
        for rule in pb["rules"]:
            for change in rule.get("changes", []):
                if change["field"] == "payment.creditor.account.iban":
                    root = change["value"].split(".")[0]
                    assert tools[root] == "get_ssi", doc_id
                    assert f"{root}.name_score >= policy.ssi.min_name_score" in rule["when"], (
                        f"{doc_id}: SSI name match missing"
                    )
                    assert rule.get("four_eyes") == "standard", f"{doc_id}: account repair without four-eyes"
    assert POLICIES["ssi"]["min_name_score"] == 0.85
    assert POLICIES["four_eyes"]["thresholds"]["standard"] == 250000


def test_closed_and_blocked_accounts_repair_only_to_an_open_ssi_account(docs: dict[str, Doc]) -> None:
    for code in ("AC04", "AC06"):
        for rule in rules_of(docs, code):
            if rule["action"] == "repair":
                assert "status == 'open'" in rule["when"], code
        assert rules_of(docs, code)[-1]["action"] == "return", f"{code}: fallback must be a return"


def test_sanctions_and_regulatory_hits_are_escalated_never_repaired(docs: dict[str, Doc]) -> None:
    for code in ("AM07", "RR04", "FRAD"):
        assert {r["action"] for r in rules_of(docs, code)} == {"escalate"}, code
    # The sanctions screen is one global policy that the agent applies before any procedure rule
    # (tests/agents/test_policies.py runs it); no playbook repeats it, and every decision table
    # that states it names the policy.
    assert POLICIES["sanctions"]["action"] == "escalate"
    for doc_id, pb in playbooks(docs):
        for n, rule in enumerate(pb["rules"]):
            assert "sanction" not in rule.get("when", "").lower(), f"{doc_id} rule {n}: a copy of the policy"
    for doc in docs.values():
        for evidence, _action in decision_rows(doc):
            if evidence.lower().startswith("sanction"):
                assert "policy `sanctions`" in evidence, f"{doc.doc_id}: sanctions row names no policy"


def decision_rows(doc: Doc) -> list[tuple[str, str]]:
    """(evidence, action cell) of the first table whose last header column is Action."""
    for table in re.findall(r"^\|.*\|\s*Action\s*\|\s*\n\|[-| ]+\|\s*\n((?:\|.*\n?)+)", doc.prose, re.M):
        cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table.splitlines()]
        return [(c[0], c[-1]) for c in cells if c and c[0]]
    return []


def test_every_rule_names_the_decision_table_row_that_states_it(docs: dict[str, Doc]) -> None:
    for doc_id, pb in playbooks(docs):
        rows = decision_rows(docs[doc_id])
        assert rows, f"{doc_id}: a playbook without a decision table"
        for n, rule in enumerate(pb["rules"]):
            assert 1 <= rule["row"] <= len(rows), f"{doc_id} rule {n}: no row {rule['row']}"
            evidence, action = rows[rule["row"] - 1]
            assert f"`{rule['action']}`" in action, (
                f"{doc_id} rule {n} ({rule['action']}) points at row {rule['row']}: {evidence} -> {action}"
            )
            assert "policy `" not in evidence, f"{doc_id} rule {n} points at a global policy's row"


def test_wrong_amount_and_duplicates_are_never_repaired(docs: dict[str, Doc]) -> None:
    assert "repair" not in {r["action"] for r in rules_of(docs, "AM09")}
    dup_rules = rules_of(docs, "AM05")
    assert "repair" not in {r["action"] for r in dup_rules}
    returns = [r for r in dup_rules if r["action"] == "return"]
    assert returns and all(".found" in r["when"] for r in returns), "AM05 returns only on a found duplicate"


def test_repairs_have_the_documented_sources(docs: dict[str, Doc]) -> None:
    expected = {
        "RC01": ({"payment.creditor_agent.bic"}, {"lookup_bic", "validate_iban", "search_banks"}),
        "BE01": ({"payment.creditor.name"}, {"get_ssi"}),
        "BE04": ({"payment.creditor.address_lines", "payment.creditor.country"}, {"get_ssi", "get_customer"}),
        "AC01": ({"payment.creditor.account.iban"}, {"get_ssi"}),
    }
    for code, (fields, sources) in expected.items():
        doc = next(d for d in docs.values() if code in d.meta["exception_codes"])
        pb = doc.playbook
        assert pb is not None
        tools = {s["id"]: s["tool"] for s in pb["steps"]}
        changes = [c for r in pb["rules"] if r["action"] == "repair" for c in r["changes"]]
        assert changes, f"{code}: no repair rule"
        assert {c["field"] for c in changes} == fields, code
        assert {tools[c["value"].split(".")[0]] for c in changes} <= sources, code


def test_remittance_cases_never_repair(docs: dict[str, Doc]) -> None:
    for code in ("REMITTANCE_MISMATCH", "UNAPPLIED_CASH"):
        rules = rules_of(docs, code)
        actions = {r["action"] for r in rules}
        assert "repair" not in actions and {"no_action", "investigate", "request_info"} <= actions, code
        exact = [r for r in rules if "'exact'" in r.get("when", "")]
        assert exact and exact[0]["action"] == "no_action", code


# --- retrieval question set ---------------------------------------------------------------------


def test_retrieval_questions_are_well_formed(docs: dict[str, Doc], reference_docs: dict[str, Doc]) -> None:
    rows = [json.loads(line) for line in RETRIEVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 200
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["question"].lower() for r in rows}) == len(rows), "duplicate questions"
    known = {**docs, **reference_docs}
    claimed = {c for d in docs.values() for c in d.meta["exception_codes"]}
    cited: set[str] = set()
    for row in rows:
        assert set(row) == {"id", "question", "code", "gold"}, row["id"]
        assert re.fullmatch(r"r-\d{3}", row["id"]) and row["question"].strip(), row["id"]
        if row["code"] is not None:
            assert row["code"] in claimed, f"{row['id']}: code {row['code']} has no procedure"
            assert row["code"].lower() in row["question"].lower(), f"{row['id']}: code not named in question"
            owner = next(d.doc_id for d in docs.values() if row["code"] in d.meta["exception_codes"])
            # A search filtered by the code must still be able to reach a gold answer.
            assert owner in {g["doc_id"] for g in row["gold"]}, f"{row['id']}: no gold in {owner}"
        assert row["gold"], row["id"]
        for gold in row["gold"]:
            doc = known.get(gold["doc_id"])
            assert doc is not None, f"{row['id']}: unknown doc_id {gold['doc_id']}"
            assert gold["section"] in doc.sections, (
                f"{row['id']}: {gold['doc_id']} has no section {gold['section']}"
            )
            cited.add(gold["doc_id"])
    assert set(docs) - cited == set(), "procedures no question points at"
    assert sum(1 for r in rows if any(g["doc_id"] in reference_docs for g in r["gold"])) >= 25
