"""Procedure files on disk: loading a folder and the product's own corpus, parsed once per version.

- :func:`parse_procedure` reads one file (errors name it); :func:`load_procedures` reads every ``*.md``
  file of a folder (sorted by path, ``README.md`` and files starting with ``_`` skipped) and rejects
  duplicate ``doc_id`` values.
- :func:`default_corpus` is the product's own corpus (``corpora/procedures`` and ``corpora/reference``,
  checked against ``corpora/policies.yaml``), parsed once and kept until a file or the policies
  change: its version is the files' paths and modification times. :func:`get_procedure` finds one
  of its procedures by ``doc_id`` (an unknown id raises :class:`tools.errors.NotFoundError`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from tools import config
from tools.errors import NotFoundError, ValidationError
from tools.procedures.model import Procedure
from tools.procedures.parse import parse_procedure_text
from tools.procedures.policies import Policies, default_policies, default_policies_path


def parse_procedure(path: Path, policies: Policies | None = None) -> Procedure:
    """Parse one procedure file; raises ValidationError naming the file on malformed input."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read procedure: {exc}", source=str(path)) from exc
    return parse_procedure_text(raw, source=str(path), policies=policies)


def procedure_files(directory: Path) -> list[Path]:
    """The procedure files of a folder, in a stable order (README and ``_*`` files skipped)."""
    if not directory.is_dir():
        raise ValidationError("corpus folder does not exist", source=str(directory))
    return sorted(
        p
        for p in directory.rglob("*.md")
        if p.is_file() and p.name.lower() != "readme.md" and not p.name.startswith("_")
    )


def load_procedures(directory: Path | str, policies: Policies | None = None) -> list[Procedure]:
    """Every procedure of ``directory``; duplicate doc_ids raise ValidationError naming both files."""
    procedures: list[Procedure] = []
    seen: dict[str, str] = {}
    for path in procedure_files(Path(directory)):
        procedure = parse_procedure(path, policies)
        if procedure.doc_id in seen:
            raise ValidationError(
                f"doc_id {procedure.doc_id} is also used by {seen[procedure.doc_id]}", source=str(path)
            )
        seen[procedure.doc_id] = str(path)
        procedures.append(procedure)
    return procedures


def default_corpus_dirs() -> list[Path]:
    """The product's own corpus: the procedures, then the generated reason-code reference."""
    root = config.corpora_dir()
    return [root / "procedures", root / "reference"]


@dataclass(frozen=True)
class Corpus:
    """One version of the product's corpus: its policies and procedures by ``doc_id``."""

    version: tuple[tuple[str, float], ...]
    policies: Policies
    by_id: dict[str, Procedure]

    def get(self, doc_id: str) -> Procedure:
        try:
            return self.by_id[doc_id]
        except KeyError:
            raise NotFoundError("no procedure with this doc_id", source=doc_id) from None


_lock = threading.Lock()
_current: Corpus | None = None


def corpus_version() -> tuple[tuple[str, float], ...]:
    """The paths and modification times of the policies and every corpus file."""
    files = [default_policies_path()]
    files += [p for d in default_corpus_dirs() if d.is_dir() for p in procedure_files(d)]
    return tuple((str(p), p.stat().st_mtime) for p in files if p.exists())


def default_corpus() -> Corpus:
    """The product's corpus, parsed once per version (an edited file is picked up without a restart)."""
    global _current
    version = corpus_version()
    with _lock:
        if _current is None or _current.version != version:
            policies = default_policies()
            by_id: dict[str, Procedure] = {}
            for directory in default_corpus_dirs():
                if directory.is_dir():
                    by_id.update({p.doc_id: p for p in load_procedures(directory, policies)})
            _current = Corpus(version=version, policies=policies, by_id=by_id)
        return _current


def get_procedure(doc_id: str) -> Procedure:
    """The procedure ``doc_id`` of the default corpus; NotFoundError when no procedure has that id."""
    return default_corpus().get(doc_id)
