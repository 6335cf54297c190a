"""WeCom, DingTalk, Feishu, e-mail and the SMS gateway through Apprise 2.x.

``Apprise.async_notify`` returns an ``AppriseResult``: one ``NotifyResult`` per service, each with
its status and captured log entries; those are read for the per-target failure reason. Apprise does
not give HTTP codes, so a failure is retried (the service may be down) until the channel's tries run
out, then the next channel takes over. The filled URL holds secrets: it never leaves this module
except inside Apprise, and errors are scrubbed before they are stored.
"""

from __future__ import annotations

import logging
import time

from apprise import Apprise, AppriseAsset, NotifyType
from apprise.result import AppriseResultStatus

from backend.delivery.outbox import Job, Outcome, TargetResult
from backend.delivery.payloads import Message

NAMES = {
    "wecom": "WeCom",
    "dingtalk": "DingTalk",
    "feishu": "Feishu",
    "email": "e-mail",
    "sms": "SMS gateway",
}
TYPES = {"high": NotifyType.FAILURE, "medium": NotifyType.WARNING}


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
        apobj = Apprise(asset=self.asset)
        if not apobj.add(job.url):
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
