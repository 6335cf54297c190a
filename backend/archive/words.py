"""The words of case files and exports: the one message catalogue per language
(``pwa/js/locales/<lang>.js``, read by ``backend.warnings.evidence``), dates written out in the
reader's language (2026年12月6日 14:05), and never a bare key: a word the catalogue lacks reads as
the catalogue's own fallback for its family."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from backend.kernel.timeutil import local
from backend.warnings.evidence import catalogue, pick_lang, say


@dataclass(frozen=True)
class Words:
    lang: str = "zh-CN"

    @classmethod
    def of(cls, lang: str | None) -> Words:
        return cls(pick_lang(lang))

    def __call__(self, key: str, **values: Any) -> str:
        return say(self.lang, key, **values)

    def pick(self, family: str, value: object, fallback: str = "other") -> str:
        """The word for ``value`` of a family (``level.high``), else the family's fallback word."""
        words = catalogue(self.lang)
        key = f"{family}.{value}"
        return self(key) if key in words else self(f"{family}.{fallback}")

    def day(self, value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = local(value).date()
        return self("archive.fmt.day", y=value.year, m=value.month, d=value.day)

    def stamp(self, value: datetime | None) -> str:
        if value is None:
            return ""
        at = local(value)
        return self("archive.fmt.stamp", y=at.year, m=at.month, d=at.day, time=f"{at:%H:%M}")

    def period(self, key: str) -> str:
        """A warning's period as people read it: 2026-11 → 2026年11月, 2026-11-05 → 2026年11月5日;
        any other key as it is (a rule's own period name)."""
        parts = key.split("-")
        if len(parts) in (2, 3) and all(p.isdigit() for p in parts) and len(parts[0]) == 4:
            if len(parts) == 2 and 1 <= int(parts[1]) <= 12:
                return self("archive.fmt.month", y=int(parts[0]), m=int(parts[1]))
            if len(parts) == 3:
                try:
                    return self.day(date(int(parts[0]), int(parts[1]), int(parts[2])))
                except ValueError:
                    return key
        return key

    def yes_no(self, value: bool) -> str:
        return self("common.yes" if value else "common.no")
