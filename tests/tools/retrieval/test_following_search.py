"""A long-running process's search follows promotions and rollbacks of the retriever without a restart.

The opener stands in for ``open_search`` (which would read the pointer and open that model's index);
the pointer itself is the real one (tools/retrieval/active_model.py) in a fresh data directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.errors import ValidationError
from tools.retrieval.active_model import ActiveModel, active_model_name, set_active
from tools.retrieval.minilm import MODEL_NAME
from tools.retrieval.search import FollowingSearch


@dataclass
class _Search:
    model_name: str
    queries: list[str] = field(default_factory=list)

    def search(self, query: str, **_kwargs: Any) -> list[str]:
        self.queries.append(query)
        return [self.model_name]


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _opener(opened: list[_Search], *, fail: list[bool] | None = None) -> Any:
    def open_active() -> _Search:
        if fail and fail[0]:
            raise ValidationError("no usable index", source="index")
        opened.append(_Search(active_model_name()))
        return opened[-1]

    return open_active


def _promote(version: int) -> None:
    set_active(ActiveModel(name=f"retriever/v{version}", version=version, path="/nowhere"))


def test_promotion_and_rollback_are_served_after_the_next_check(tool_config: Any, tmp_path: Path) -> None:
    tool_config(data_dir=tmp_path)
    clock, opened = _Clock(), list[_Search]()
    search = FollowingSearch(_opener(opened), check_seconds=2.0, clock=clock)
    assert search.search("ac01") == [MODEL_NAME]

    _promote(2)
    clock.now += 1.0
    assert search.search("ac01") == [MODEL_NAME]  # not checked yet: no stat on every query
    clock.now += 1.5
    assert search.search("ac01") == ["retriever/v2"]
    assert search.model_name == "retriever/v2"  # other attributes reach the current search
    clock.now += 5
    search.search("ac04")
    assert len(opened) == 2 and search.reloads == 1  # an unchanged pointer opens nothing

    set_active(None)  # rollback to the shipped model
    clock.now += 5
    assert search.search("ac01") == [MODEL_NAME]
    assert search.reloads == 2


def test_a_model_that_fails_to_open_leaves_the_old_one_serving(tool_config: Any, tmp_path: Path) -> None:
    tool_config(data_dir=tmp_path)
    clock, opened, fail = _Clock(), list[_Search](), [False]
    search = FollowingSearch(_opener(opened, fail=fail), check_seconds=2.0, clock=clock)
    _promote(3)
    fail[0] = True
    clock.now += 3
    assert search.search("ac01") == [MODEL_NAME]
    fail[0] = False
    clock.now += 3
    assert search.search("ac01") == ["retriever/v3"]  # tried again at the next check


def test_a_served_reranker_reopens_the_search(tool_config: Any, tmp_path: Path) -> None:
    """`repairdesk model train reranker` (on a gate pass) and `rollback reranker` write or remove
    the re-ranker file: a running service re-opens its search at the next check, as for a promotion."""
    from tools.retrieval.rerank import reranker_path

    tool_config(data_dir=tmp_path)
    clock, opened = _Clock(), list[_Search]()
    search = FollowingSearch(_opener(opened), check_seconds=2.0, clock=clock)
    search.search("ac01")
    path = reranker_path(MODEL_NAME)
    path.parent.mkdir(parents=True)
    path.write_text("{}", encoding="utf-8")
    clock.now += 3.0
    search.search("ac01")
    assert search.reloads == 1 and len(opened) == 2
    path.unlink()
    clock.now += 3.0
    search.search("ac01")
    assert search.reloads == 2
