"""Find feature modules by name instead of listing them in a central file.

``feature_modules("controller")`` imports every ``backend/<feature>/controller.py``; the same for
``models``, ``cli``, ``demo`` and ``jobs``. Adding a feature adds a folder, never a line elsewhere.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import backend

ROOT = Path(backend.__path__[0])


def feature_modules(name: str, *, exclude: frozenset[str] = frozenset()) -> list[ModuleType]:
    """Modules ``backend.<feature>.<name>``, ordered by their ``ORDER`` (default 100), then name."""
    found = []
    for info in pkgutil.iter_modules(backend.__path__):
        if (
            info.ispkg
            and info.name not in exclude | {"kernel"}
            and (ROOT / info.name / f"{name}.py").exists()
        ):
            found.append(importlib.import_module(f"backend.{info.name}.{name}"))
    return sorted(found, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))
