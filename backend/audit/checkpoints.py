"""Signed checkpoints of the trail, kept outside the operational database.

The chain in the database shows an edit, an insertion or a deletion in the middle, but not a
cut: someone who deletes the newest records and rewinds ``audit_chain`` (or empties both tables)
leaves a shorter chain that is whole. So the trail's head — (seq, hash of the record at seq,
time) — is written now and then to ``<data_dir>/audit/checkpoints.jsonl``, a file the database
cannot reach, one JSON line per checkpoint signed with an HMAC key derived from the secret key
(a label of its own). ``probity audit verify`` compares the database with every checkpoint:
records missing up to a checkpointed seq, or a record whose hash is not the checkpointed one, is
tampering. ``probity audit head`` prints the signed head for a witness outside the machine to
keep; ``verify --head`` checks the trail against that copy (which a cut file cannot hide).

A purge (``probity audit purge``) first writes a ``purge`` checkpoint — the first and last seq
deleted and the hash at the cut — so the trail may then start after that seq.

Lines are appended with ``O_APPEND`` and fsync'd (several processes may write; a checkpoint
only ever names committed records: the head is read from the database after commit).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.models import AuditChain
from backend.kernel.db import Database
from backend.kernel.files import append_line, private_dir
from backend.kernel.timeutil import utcnow

log = logging.getLogger(__name__)

LABEL = b"probity/audit-checkpoint/v1"
WITNESS_PREFIX = "probity-audit-head/v1"
_WITNESS = re.compile(
    re.escape(WITNESS_PREFIX) + r" seq=(\d+) hash=([0-9a-f]{64}) at=(\S+) sig=([0-9a-f]{64})"
)


def checkpoint_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), LABEL, hashlib.sha256).digest()


def checkpoint_path(data_dir: Path) -> Path:
    return data_dir / "audit" / "checkpoints.jsonl"


@dataclass(frozen=True)
class Checkpoint:
    """``head``: the record at ``seq`` had ``hash`` at time ``at``. ``purge``: records ``first``
    to ``seq`` were deleted on purpose; the record at ``seq`` had ``hash``."""

    kind: Literal["head", "purge"]
    seq: int
    hash: str
    at: str
    first: int | None = None
    sig: str = ""

    def _body(self) -> bytes:
        body = {k: v for k, v in asdict(self).items() if k != "sig" and v is not None}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def signed(self, key: bytes) -> Checkpoint:
        return replace(self, sig=hmac.new(key, self._body(), hashlib.sha256).hexdigest())

    def valid(self, key: bytes) -> bool:
        return hmac.compare_digest(self.sig, hmac.new(key, self._body(), hashlib.sha256).hexdigest())

    def line(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, sort_keys=True)

    def witness(self) -> str:
        """One line for a witness to keep (``probity audit verify --head '<line>'``)."""
        return f"{WITNESS_PREFIX} seq={self.seq} hash={self.hash} at={self.at} sig={self.sig}"

    def described(self) -> str:
        if self.kind == "purge":
            return f"the purge of records {self.first}–{self.seq} ({self.at})"
        return f"the checkpoint of {self.at}"

    @classmethod
    def head(cls, seq: int, digest: str, key: bytes, at: datetime | None = None) -> Checkpoint:
        when = (at or utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ")
        return cls("head", seq, digest, when).signed(key)

    @classmethod
    def from_witness(cls, text: str) -> Checkpoint:
        found = _WITNESS.fullmatch(text.strip())
        if found is None:
            raise ValueError(f"not a head printed by `probity audit head`: {text.strip()[:120]!r}")
        return cls("head", int(found[1]), found[2], found[3], sig=found[4])


class Checkpoints:
    """The checkpoint file of one data directory."""

    def __init__(self, path: Path, secret_key: str) -> None:
        self.path = path
        self.key = checkpoint_key(secret_key)

    @classmethod
    def in_dir(cls, data_dir: Path, secret_key: str) -> Checkpoints:
        return cls(checkpoint_path(data_dir), secret_key)

    def sign(self, checkpoint: Checkpoint) -> Checkpoint:
        return checkpoint.signed(self.key)

    def append(self, checkpoint: Checkpoint) -> None:
        private_dir(self.path.parent)
        append_line(self.path, checkpoint.line())

    def read(self) -> tuple[list[Checkpoint], list[str]]:
        """The checkpoints, and the lines not signed with this key (edited, or another key's).
        Lines that are not checkpoints at all (cut short by a crash) are skipped."""
        if not self.path.exists():
            return [], []
        good: list[Checkpoint] = []
        bad: list[str] = []
        for number, text in enumerate(self.path.read_text().splitlines(), start=1):
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
                checkpoint = Checkpoint(
                    kind=raw["kind"],
                    seq=int(raw["seq"]),
                    hash=str(raw["hash"]),
                    at=str(raw["at"]),
                    first=None if raw.get("first") is None else int(raw["first"]),
                    sig=str(raw["sig"]),
                )
            except (ValueError, KeyError, TypeError):
                # a line cut short by a crash; dropping lines hides nothing a witness's head shows
                log.warning("checkpoint file %s line %d cannot be read: skipped", self.path, number)
                continue
            if checkpoint.kind not in {"head", "purge"} or not checkpoint.valid(self.key):
                bad.append(
                    f"checkpoint file {self.path} line {number} is not signed with this secret key: "
                    "edited, or written with another key"
                )
                continue
            good.append(checkpoint)
        return good, bad

    def newest(self) -> int:
        """The highest seq any good checkpoint names (0 without any)."""
        return max((c.seq for c in self.read()[0]), default=0)


async def committed_head(session: AsyncSession) -> tuple[int, str] | None:
    """The chain head as committed (seq, hash of that record); None before the first record."""
    head = await session.get(AuditChain, 1)
    if head is None or head.seq == 0:
        return None
    return head.seq, head.last_hash


class Checkpointer:
    """Writes a head checkpoint when the trail has grown and ``every_seconds`` have passed since
    the last one (called after each flush of the trail of reads; cheap when nothing is due). With
    ``seal``, the pending records are sealed first, so the head checkpointed covers every act
    committed before."""

    def __init__(
        self,
        checkpoints: Checkpoints,
        every_seconds: float,
        seal: Callable[[Database], Awaitable[int]] | None = None,
    ) -> None:
        self.checkpoints = checkpoints
        self.every = every_seconds
        self.seal = seal
        self._last_seq = -1
        self._last_time = -float("inf")

    async def maybe(self, db: Database, *, force: bool = False) -> Checkpoint | None:
        now = time.monotonic()
        if now - self._last_time < self.every and not force:
            return None
        self._last_time = now
        if self.seal is not None:
            await self.seal(db)
        async with db.session() as session:
            head = await committed_head(session)
        if head is None or head[0] <= self._last_seq:
            return None
        checkpoint = Checkpoint.head(head[0], head[1], self.checkpoints.key)
        await asyncio.to_thread(self.checkpoints.append, checkpoint)  # fsync off the loop
        self._last_seq = head[0]
        return checkpoint


def covering(checkpoints: Sequence[Checkpoint]) -> dict[int, Checkpoint]:
    """Purge checkpoints by their last seq (the trail may start right after one)."""
    return {c.seq: c for c in checkpoints if c.kind == "purge"}
