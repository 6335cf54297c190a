"""The words of messenger cards and pages: the ``card.`` entries of the one catalogue per language
(:data:`backend.delivery.payloads.TEXTS`), zh-CN first."""

from __future__ import annotations

from backend.delivery.payloads import MONTHS, TEXTS

__all__ = ["MONTHS", "refusal", "t"]


def t(language: str, key: str, **values: object) -> str:
    texts = TEXTS.get(language, TEXTS["zh"])
    return texts.get(f"card.{key}", key).format(**values)


def refusal(language: str, code: str) -> str:
    texts = TEXTS.get(language, TEXTS["zh"])
    return texts.get(f"card.{code}") or texts["card.refused_other"]
