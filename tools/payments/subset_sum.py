"""Bounded subset-sum over integer amounts (minor units), counting solutions up to two.

Dynamic programming over reachable sums, pruned above the target and capped in states, so the
search is predictable however many invoices a customer has open: past the cap it reports
``truncated`` instead of running on.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_ITEMS = 30
MAX_STATES = 20_000


@dataclass(frozen=True)
class SubsetMatch:
    indices: tuple[int, ...]  # positions in the input list, ascending
    total: int
    ways: int  # 1 = unique; 2 = at least two subsets fit (ambiguous)
    truncated: bool  # the search hit a cap; an absent or unique answer is then not proven


def best_subset(
    values: list[int],
    target: int,
    tolerance: int = 0,
    *,
    max_items: int = MAX_ITEMS,
    max_states: int = MAX_STATES,
) -> SubsetMatch | None:
    """The non-empty subset of ``values`` whose sum is closest to ``target`` within ``tolerance``.

    ``ways`` counts every subset landing inside the tolerance band (capped at 2), so two different
    combinations with different sums in the band also count as ambiguous. Only the first
    ``max_items`` positive values not above ``target + tolerance`` are considered (callers order
    them by preference, e.g. oldest due date first).
    """
    high = target + tolerance
    low = max(target - tolerance, 1)
    usable = [i for i, v in enumerate(values) if 0 < v <= high]
    truncated = len(usable) > max_items
    usable = usable[:max_items]
    # sum -> (first subset found, number of subsets reaching it, capped at 2)
    states: dict[int, tuple[tuple[int, ...], int]] = {0: ((), 1)}
    for index in usable:
        value = values[index]
        for total, (subset, ways) in list(states.items()):
            new_total = total + value
            if new_total > high:
                continue
            if new_total in states:
                old_subset, old_ways = states[new_total]
                states[new_total] = (old_subset, min(2, old_ways + ways))
            elif len(states) < max_states:
                states[new_total] = ((*subset, index), ways)
            else:
                truncated = True
    in_band = [(abs(total - target), total) for total in states if low <= total <= high]
    if not in_band:
        return None
    _distance, total = min(in_band)
    subset, ways = states[total]
    all_ways = sum(states[t][1] for _d, t in in_band)
    return SubsetMatch(indices=tuple(sorted(subset)), total=total, ways=min(2, all_ways), truncated=truncated)
