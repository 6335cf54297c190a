"""Whose channel order and quiet hours apply to a person.

A person's own setting wins. Otherwise, for the order and for the quiet hours separately, the
nearest unit up the tree (the person's unit first) whose policy sets it; otherwise the default
order and no quiet hours. Quiet hours with equal start and end mean "none" and stop the search
(a person or a unit can turn off the quiet hours of the units above).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from backend.delivery.models import DEFAULT_ORDER, EffectivePolicy


class Rule(Protocol):
    """A person's preference or a unit's policy: either may leave any part unset."""

    @property
    def channel_order(self) -> list[str] | None: ...
    @property
    def quiet_start(self) -> str | None: ...
    @property
    def quiet_end(self) -> str | None: ...


@dataclass(frozen=True)
class Effective:
    order: list[str]
    order_from: int | None  # the unit whose order it is (None: the person's own, or the default)
    quiet_start: str | None
    quiet_end: str | None
    quiet_from: int | None

    def public(self) -> EffectivePolicy:
        return EffectivePolicy(
            channel_order=self.order,
            order_from_unit_id=self.order_from,
            quiet_start=self.quiet_start,
            quiet_end=self.quiet_end,
            quiet_from_unit_id=self.quiet_from,
        )


DEFAULT = Effective(list(DEFAULT_ORDER), None, None, None, None)


def complete_order(order: Sequence[str]) -> list[str]:
    """Known channels in the given order, each once, then the rest in the default order."""
    seen: list[str] = []
    for c in order:
        if c in DEFAULT_ORDER and c not in seen:
            seen.append(c)
    return seen + [c for c in DEFAULT_ORDER if c not in seen]


def _quiet(rule: Rule) -> tuple[str | None, str | None] | None:
    """The rule's quiet hours, (None, None) for "none", or None when it leaves them unset."""
    if rule.quiet_start is None or rule.quiet_end is None:
        return None
    if rule.quiet_start == rule.quiet_end:
        return (None, None)
    return (rule.quiet_start, rule.quiet_end)


def resolve(person: Rule | None, chain: Sequence[int], units: Mapping[int, Rule]) -> Effective:
    """The order and quiet hours for a person whose unit chain (nearest first) is ``chain``."""
    if person is None and not units:
        return DEFAULT
    order: list[str] | None = list(person.channel_order) if person and person.channel_order else None
    order_from: int | None = None
    quiet = _quiet(person) if person else None
    quiet_from: int | None = None
    for unit_id in chain:
        if order is not None and quiet is not None:
            break
        rule = units.get(unit_id)
        if rule is None:
            continue
        if order is None and rule.channel_order:
            order, order_from = list(rule.channel_order), unit_id
        if quiet is None and (found := _quiet(rule)) is not None:
            quiet, quiet_from = found, unit_id
    start, end = quiet if quiet is not None else (None, None)
    return Effective(complete_order(order or DEFAULT_ORDER), order_from, start, end, quiet_from)
