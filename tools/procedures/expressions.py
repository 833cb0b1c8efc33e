"""The playbook's expression language (docs/playbook.md), evaluated from Python's ``ast``, never ``eval``.

Two forms:
- a *path*: ``payment.creditor.account.iban``, ``ssi.iban``, ``dups.duplicates.0.ref``. The first
  segment is a root of the :class:`Scope`; later segments index dicts, lists (integers) or map over
  a list of dicts (``remittance.lines.invoice_number`` is the list of the lines' numbers). A missing
  name resolves to ``None``.
- a *condition* (``when``): dotted names, literals, ``and``/``or``/``not``, comparisons
  (``== != < <= > >= in``, ``not in``), ``len(x)`` and list or tuple literals. Anything else is refused
  when the playbook is parsed, so a procedure cannot smuggle code into the agent.

Comparisons never raise: an ordering against ``None`` is false, and numbers compare with numeric
strings as decimals (tool results carry amounts as strings, as the contract does).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from tools.errors import ValidationError

_PATH = re.compile(r"^[A-Za-z_][\w-]*(\.[\w-]+)*$")
_TEMPLATE = re.compile(r"\{([A-Za-z_][\w.-]*)\}")


class ExpressionError(ValidationError):
    """A `when`, path or template that the playbook language does not allow."""

    code = "playbook_error"


class Scope:
    """Named roots (``case``, ``payment``, ``remittance`` and step ids) that paths resolve against."""

    def __init__(self, roots: Mapping[str, Any]) -> None:
        self.roots: dict[str, Any] = dict(roots)

    def set(self, name: str, value: Any) -> None:
        self.roots[name] = value

    def resolve(self, path: str) -> Any:
        """The value at a dotted path, or ``None`` when any part of it is missing."""
        head, *rest = path.split(".")
        return walk(self.roots.get(head), rest)


def walk(value: Any, segments: list[str]) -> Any:
    for segment in segments:
        if value is None:
            return None
        if isinstance(value, Mapping):
            value = value.get(segment)
        elif isinstance(value, list):
            if segment.lstrip("-").isdigit():
                index = int(segment)
                value = value[index] if -len(value) <= index < len(value) else None
            else:
                # Map over a list of records, flattening one level and dropping absent values.
                mapped: list[Any] = []
                for item in value:
                    got = walk(item, [segment])
                    if isinstance(got, list):
                        mapped.extend(v for v in got if v is not None)
                    elif got is not None:
                        mapped.append(got)
                value = mapped
        else:
            return None
    return value


def is_path(text: str) -> bool:
    return bool(_PATH.match(text))


def path_root(text: str) -> str:
    return text.split(".", 1)[0]


def resolve_value(spec: Any, scope: Scope) -> Any:
    """An argument or change value: ``"=literal"``, a number/bool literal, a path, or a list/dict of them."""
    if isinstance(spec, bool | int | float) or spec is None:
        return spec
    if isinstance(spec, str):
        if spec.startswith("="):
            return spec[1:]
        if not is_path(spec):
            raise ExpressionError(f"{spec!r} is neither a dotted path nor an '=literal'")
        return scope.resolve(spec)
    if isinstance(spec, list):
        values: list[Any] = []
        for item in spec:
            got = resolve_value(item, scope)
            if isinstance(got, list):
                values.extend(v for v in got if v is not None)
            elif got is not None:
                values.append(got)
        return values
    if isinstance(spec, dict):
        return {k: resolve_value(v, scope) for k, v in spec.items()}
    raise ExpressionError(f"unsupported value {spec!r}")


def render(template: str, scope: Scope) -> str:
    """Fill ``{dotted.name}`` placeholders; an absent value renders as ``n/a``."""

    def _sub(match: re.Match[str]) -> str:
        value = scope.resolve(match.group(1))
        if value is None or value == []:
            return "n/a"
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)

    return _TEMPLATE.sub(_sub, template)


# --- conditions -------------------------------------------------------------------------------

_WORDS: dict[str, Any] = {"true": True, "false": False, "null": None, "none": None}
_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)


@lru_cache(maxsize=2048)
def compile_condition(text: str) -> ast.expr:
    """Parse and vet a condition once; raises :class:`ExpressionError` naming what is not allowed."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse condition {text!r}: {exc.msg}") from exc
    _vet(tree.body, text)
    return tree.body


def _vet(node: ast.AST, text: str) -> None:
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _vet(value, text)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
        _vet(node.operand, text)
    elif isinstance(node, ast.Compare):
        if not all(isinstance(op, _COMPARE) for op in node.ops):
            raise ExpressionError(f"comparison operator not allowed in {text!r}")
        _vet(node.left, text)
        for comparator in node.comparators:
            _vet(comparator, text)
    elif isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1):
            raise ExpressionError(f"only len(x) may be called in {text!r}")
        if node.keywords:
            raise ExpressionError(f"keyword arguments not allowed in {text!r}")
        _vet(node.args[0], text)
    elif isinstance(node, ast.Attribute):
        _dotted(node, text)
    elif isinstance(node, ast.Name):
        return
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, str | int | float | bool | type(None)):
            raise ExpressionError(f"literal {node.value!r} not allowed in {text!r}")
    elif isinstance(node, ast.List | ast.Tuple):
        for element in node.elts:
            _vet(element, text)
    else:
        raise ExpressionError(f"{type(node).__name__} not allowed in condition {text!r}")


def _dotted(node: ast.expr, text: str) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value, text)}.{node.attr}"
    raise ExpressionError(f"only dotted names may be used in {text!r}")


def evaluate(text: str, scope: Scope) -> Any:
    """The value of a condition in ``scope`` (use :func:`truthy` for its truth)."""
    return _eval(compile_condition(text), scope, text)


def truthy(value: Any) -> bool:
    return bool(value)


def _eval(node: ast.expr, scope: Scope, text: str) -> Any:
    if isinstance(node, ast.BoolOp):
        is_and = isinstance(node.op, ast.And)
        result: Any = None
        for value_node in node.values:
            result = _eval(value_node, scope, text)
            if truthy(result) != is_and:
                return result
        return result
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, scope, text)
        if isinstance(node.op, ast.Not):
            return not truthy(operand)
        number = _number(operand)
        return -number if number is not None else None
    if isinstance(node, ast.Compare):
        left = _eval(node.left, scope, text)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, scope, text)
            if not _compare(op, left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        arg = _eval(node.args[0], scope, text)
        return len(arg) if isinstance(arg, list | tuple | dict | str) else 0
    if isinstance(node, ast.Name) and node.id in _WORDS and node.id not in scope.roots:
        return _WORDS[node.id]  # YAML authors write true/false/null; treat them as literals
    if isinstance(node, ast.Attribute | ast.Name):
        return scope.resolve(_dotted(node, text))
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        return [_eval(element, scope, text) for element in node.elts]
    raise ExpressionError(f"{type(node).__name__} not allowed in condition {text!r}")


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    if isinstance(op, ast.In | ast.NotIn):
        if isinstance(right, str):
            found = isinstance(left, str) and left in right
        elif isinstance(right, list | tuple | dict):
            found = left in right
        else:
            found = False
        return found if isinstance(op, ast.In) else not found
    # Numbers against numeric strings compare as decimals; two strings compare as strings.
    if not (isinstance(left, str) and isinstance(right, str)):
        lnum, rnum = _number(left), _number(right)
        if lnum is not None and rnum is not None:
            left, right = lnum, rnum
    if isinstance(op, ast.Eq):
        return bool(left == right)
    if isinstance(op, ast.NotEq):
        return bool(left != right)
    try:
        if isinstance(op, ast.Lt):
            return bool(left < right)
        if isinstance(op, ast.LtE):
            return bool(left <= right)
        if isinstance(op, ast.Gt):
            return bool(left > right)
        return bool(left >= right)
    except TypeError:  # None or mixed types: an ordering that cannot hold is false
        return False
