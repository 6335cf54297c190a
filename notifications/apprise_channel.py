"""WeCom, DingTalk, Feishu, e-mail and the SMS gateway through Apprise 2.x.

``Apprise.async_notify`` returns an ``AppriseResult``: one ``NotifyResult`` per service, each with
its status and captured log entries; those are read for the per-target failure reason. Apprise does
not give HTTP codes, so a failure is retried (the service may be down) until the channel's tries run
out, then the next channel takes over. Each message carries its dedup key where the scheme has a
place for it (:func:`backend.delivery.channels.with_dedup_key`): a message sent again after a
crash carries the same key, so a JSON gateway can drop the repeat. The filled URL holds secrets:
it never leaves this module except inside Apprise, and errors are scrubbed before they are stored.
Apprise and urllib3 write request URLs (tokens, secrets in the query) into their DEBUG logs:
:data:`LOG_SCRUB` replaces every secret of a URL this sender used before a handler sees the record.
"""

from __future__ import annotations

import logging
import time

from apprise import Apprise, AppriseAsset, NotifyType
from apprise.result import AppriseResultStatus

from backend.delivery.channels import scrub, with_dedup_key
from backend.delivery.claimed import Job, Outcome, TargetResult
from backend.delivery.payloads import Message

NAMES = {
    "wecom": "WeCom",
    "dingtalk": "DingTalk",
    "feishu": "Feishu",
    "email": "e-mail",
    "sms": "SMS gateway",
}
TYPES = {"high": NotifyType.FAILURE, "medium": NotifyType.WARNING}


class SecretScrub(logging.Filter):
    """Replaces the secrets of the channel URLs in use in the records of the loggers it is on."""

    #: the loggers that write request URLs (Apprise's plugins, urllib3 under requests) and the
    #: worker's own, whose failure records carry the exception (which may quote a channel URL)
    LOGGERS = ("apprise", "urllib3.connectionpool", "requests", "probity.delivery")

    def __init__(self) -> None:
        super().__init__()
        self.secrets: list[str] = []

    def learn(self, secrets: list[str]) -> None:
        if any(s not in self.secrets for s in secrets):
            self.secrets = sorted(set(self.secrets) | set(secrets), key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            clean = scrub(message, self.secrets, limit=None)
            if clean != message:
                record.msg, record.args = clean, None
            if record.exc_info and not record.exc_text:
                # the traceback as handlers would write it, secrets replaced (they reuse exc_text)
                record.exc_text = scrub(
                    logging.Formatter().formatException(record.exc_info), self.secrets, limit=None
                )
        return True

    def install(self) -> SecretScrub:
        for name in self.LOGGERS:
            logger = logging.getLogger(name)
            if self not in logger.filters:
                logger.addFilter(self)
        return self


LOG_SCRUB = SecretScrub().install()


class AppriseSender:
    def __init__(self, *, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.asset = AppriseAsset(async_mode=True)

    async def send(self, jobs: list[Job], message: Message) -> list[Outcome]:
        job = jobs[0]
        name = NAMES.get(job.channel, job.channel)
        if not job.url:
            reason = "no address on this channel" if not job.address else "the unit has no usable policy"
            return [Outcome(j, "failed", [TargetResult(name, "failed", None, reason)]) for j in jobs]
        LOG_SCRUB.learn(job.secrets)
        apobj = Apprise(asset=self.asset)
        if not apobj.add(with_dedup_key(job.url, message.tag)):
            tried = TargetResult(name, "failed", None, "the channel URL is not understood")
            return [Outcome(j, "failed", [tried]) for j in jobs]
        started = time.perf_counter()
        result = await apobj.async_notify(
            body=message.text(),
            title=message.title,
            notify_type=TYPES.get(message.level or "", NotifyType.INFO),
            timeout=self.timeout,
            log_level=logging.WARNING,
        )
        ms = int((time.perf_counter() - started) * 1000)
        tries: list[TargetResult] = []
        for service in result:
            if service:
                tries.append(TargetResult(str(service.name)[:80], "sent", None, None, ms))
                continue
            errors = [entry.message for entry in service.logs()]
            reason = errors[-1] if errors else service.status.name.lower()
            tries.append(TargetResult(str(service.name)[:80], "retry", None, str(reason), ms))
        if not tries:
            tries.append(
                TargetResult(name, "retry", None, f"nothing was sent ({result.status.name.lower()})", ms)
            )
        ok = result.status == AppriseResultStatus.SUCCESS
        return [Outcome(j, "sent" if ok else "retry", list(tries)) for j in jobs]
