"""Hooks: what a domain runs at a moment another domain announces, wired at start-up.

A domain that announces a moment declares a :class:`HookPoint` (``backend.warnings.service.VERIFIED``:
after a verification, in its transaction; ``backend.calendar.service.CALENDAR_CHANGED``: after the
working calendar's overrides change) and runs ``REGISTRY(point)`` there. A feature that reacts
declares ``HOOKS = [Hook(point, function), …]`` in ``backend/<feature>/hooks.py``.

Nothing is registered when a module is imported: :func:`compose` finds every feature's ``hooks.py``
(as controllers and jobs are found, ``backend.kernel.discovery``) and registers its hooks, once
however often it is called. Every entry point that does work calls it before it starts: the app
factory, the ``probity`` command group, the worker, scheduler and bot processes. So the same
rules hold whichever process a change comes through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

#: the processes ``probity serve --role`` can start (``all``: every part in one process)
ROLES = ("all", "api", "worker", "scheduler", "bot")


class HookPoint(Generic[F]):
    """A named moment; ``F`` is the signature its hooks are called with."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"HookPoint({self.name!r})"


@dataclass(frozen=True)
class Hook(Generic[F]):
    point: HookPoint[F]
    run: F


def _label(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


class Registry:
    """Hooks by point, in the order registered; filled by :func:`compose` only."""

    def __init__(self) -> None:
        self._by_point: dict[str, list[Callable[..., Awaitable[Any]]]] = {}
        #: the roles composed so far in this process
        self.roles: set[str] = set()

    def register(self, hook: Hook[Any]) -> bool:
        """Add ``hook``; False (and nothing added) when it is there already."""
        hooks = self._by_point.setdefault(hook.point.name, [])
        if any(_label(h) == _label(hook.run) for h in hooks):
            return False
        hooks.append(hook.run)
        return True

    def __call__(self, point: HookPoint[F]) -> tuple[F, ...]:
        return tuple(self._by_point.get(point.name, ()))  # type: ignore[arg-type]

    def labels(self) -> dict[str, list[str]]:
        """{point name: [module.function, …]} — what runs where, for diagnostics and tests."""
        return {name: [_label(h) for h in hooks] for name, hooks in self._by_point.items() if hooks}

    @property
    def empty(self) -> bool:
        return not any(self._by_point.values())

    def clear(self) -> None:
        self._by_point.clear()
        self.roles.clear()


REGISTRY = Registry()


def compose(role: str = "all") -> Registry:
    """Register every feature's ``HOOKS`` on :data:`REGISTRY` (idempotent) for a process of ``role``.

    Every role gets every hook: they are domain rules (a verification through the bot raises linked
    warnings as one through the API does), not parts of a process."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    from backend.kernel.discovery import feature_modules

    for module in feature_modules("hooks"):
        for hook in module.HOOKS:
            REGISTRY.register(hook)
    REGISTRY.roles.add(role)
    return REGISTRY
