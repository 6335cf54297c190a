"""Channel URLs and addresses: checked before they are stored, masked whenever they are shown.

A unit's Apprise URL is a template with ``{address}`` where the person's address goes (a message
to a person must reach that person, never a group). It holds secrets (WeCom app secret, robot
tokens, SMTP password): the API shows only :func:`mask_url`, errors and logs pass :func:`scrub`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from backend.delivery.models import APPRISE_SCHEMES, DeliveryChannel
from backend.kernel.errors import Invalid
from backend.kernel.sealing import Sealer, derived_key, is_sealed
from backend.kernel.settings import Settings

PLACEHOLDER = "{address}"
_SAMPLE = {
    DeliveryChannel.wecom: "zhangsan",
    DeliveryChannel.dingtalk: "13800000000",
    DeliveryChannel.feishu: "0123456789abcdef0123",
    DeliveryChannel.email: "someone@example.com",
    DeliveryChannel.sms: "13800000000",
}
_ADDRESS = {
    DeliveryChannel.wecom: re.compile(r"^[A-Za-z0-9][A-Za-z0-9_@.\-]{0,63}$"),
    #: a mobile number (Apprise's DingTalk robot) or a DingTalk user id (the messenger feature's app)
    DeliveryChannel.dingtalk: re.compile(r"^(\+?[0-9]{5,20}|[A-Za-z0-9][A-Za-z0-9_\-]{0,63})$"),
    DeliveryChannel.feishu: re.compile(r"^[A-Za-z0-9\-]{8,80}$"),
    DeliveryChannel.email: re.compile(r"^[^@\s/?#&]+@[^@\s/?#&]+\.[^@\s/?#&]+$"),
    DeliveryChannel.sms: re.compile(r"^\+?[0-9]{5,20}$"),
    DeliveryChannel.telegram: re.compile(r"^-?[0-9]{1,20}$"),
}
#: hosts that are not secrets and help an admin recognise the configuration
_SHOW_HOST = {DeliveryChannel.email, DeliveryChannel.sms, DeliveryChannel.wecom}


def is_apprise(channel: DeliveryChannel | str) -> bool:
    return DeliveryChannel(channel) in APPRISE_SCHEMES


def check_address(channel: DeliveryChannel, address: str) -> str:
    address = address.strip()
    pattern = _ADDRESS.get(channel)
    if pattern is None or not pattern.match(address):
        raise Invalid(
            f"this is not a {channel.value} address",
            code="invalid_address",
            extra={"field": "address", "channel": channel.value},
        )
    return address


def sms_number(phone: str) -> str | None:
    """A directory phone (``138 0013 8000``, ``138-0013-8000``) as an SMS address, if it is one."""
    number = re.sub(r"[\s\-()]", "", phone)
    return number if _ADDRESS[DeliveryChannel.sms].match(number) else None


def fill(url: str, address: str) -> str:
    return url.replace(PLACEHOLDER, quote(address, safe="@.+"))


#: a unit's WeCom / DingTalk policy may name one of the messenger feature's own apps instead of an
#: Apprise URL: ``probity-wecom://app/<id>`` (two-way cards, sent by ``notifications/messenger.py``)
NATIVE_SCHEMES = {DeliveryChannel.wecom: "probity-wecom", DeliveryChannel.dingtalk: "probity-dingtalk"}
_NATIVE = re.compile(r"^(probity-wecom|probity-dingtalk)://app/([0-9]{1,12})$")


def native_url(channel: DeliveryChannel | str, app_id: int) -> str:
    return f"{NATIVE_SCHEMES[DeliveryChannel(channel)]}://app/{app_id}"


def native_app(url: str | None) -> int | None:
    """The messenger app a policy's URL names, or ``None`` for an Apprise URL."""
    found = _NATIVE.match(url or "")
    return int(found.group(2)) if found else None


def check_url(channel: DeliveryChannel, url: str) -> str:
    """A usable Apprise URL for ``channel`` (the URL itself is never echoed in the error)."""
    url = url.strip()
    if native_app(url) is not None and url.startswith(NATIVE_SCHEMES.get(channel, "-") + "://"):
        return url
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    allowed = APPRISE_SCHEMES.get(channel)
    if allowed is None:
        raise Invalid(
            f"the {channel.value} channel takes no URL", code="channel_takes_no_url", extra={"field": "url"}
        )
    if scheme not in allowed:
        raise Invalid(
            f"a {channel.value} URL starts with {' or '.join(s + '://' for s in allowed)}",
            code="unknown_channel_url",
            extra={"field": "url"},
        )
    if url.count(PLACEHOLDER) != 1:
        raise Invalid(
            "the URL must hold {address} exactly once, where the person's address goes",
            code="address_placeholder_required",
            extra={"field": "url"},
        )
    if _quietly_instantiate(fill(url, _SAMPLE[channel])) is None:
        raise Invalid(
            f"this {channel.value} URL is not understood (check the service's URL format)",
            code="unknown_channel_url",
            extra={"field": "url"},
        )
    return url


def _quietly_instantiate(url: str) -> object | None:
    """Apprise's loader logs a bad URL's parts in full: keep that out of the logs."""
    from apprise import Apprise

    logger = logging.getLogger("apprise")
    was, logger.disabled = logger.disabled, True
    try:
        return Apprise.instantiate(url)
    finally:
        logger.disabled = was


def secrets_of(url: str | None) -> list[str]:
    """The parts of a URL that may be secret: user info, host, path segments, query values."""
    if not url:
        return []
    parts = urlsplit(url.replace(PLACEHOLDER, ""))
    found: list[str] = []
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        found += [unquote(p) for p in userinfo.split(":")]
    found.append(netloc.split(":", 1)[0])
    found += [unquote(s) for s in parts.path.split("/")]
    found += [v for _, v in parse_qsl(parts.query)]
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


def scrub(text: str | None, secrets: Iterable[str], *, limit: int | None = 500) -> str | None:
    if text is None:
        return None
    for secret in secrets:
        text = text.replace(secret, "***")
        quoted = quote(secret, safe="")
        if quoted != secret:
            text = text.replace(quoted, "***")
    return text if limit is None else text[:limit]


def mask_url(channel: DeliveryChannel, url: str | None) -> str | None:
    if not url:
        return None
    if native_app(url) is not None:
        return url
    parts = urlsplit(url.replace(PLACEHOLDER, "ADDRESS"))
    netloc = parts.netloc
    userinfo = ""
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
    host = netloc if channel in _SHOW_HOST else "***"
    rest = "/***" if (parts.path.strip("/") or parts.query) else ""
    return f"{parts.scheme}://{'***@' if userinfo else ''}{host}{rest}"


#: how each Apprise scheme carries a message's dedup key, so a receiver can drop a repeat: JSON
#: gateways as a header (``Idempotency-Key``) and a field of the body (``dedup_key``), e-mail as a
#: header (Apprise writes its own ``Message-ID``); WeCom, DingTalk and Feishu through Apprise have
#: no place for it
_DEDUP_PARAMS = {
    "json": ("+Idempotency-Key", ":dedup_key"),
    "jsons": ("+Idempotency-Key", ":dedup_key"),
    "mailto": ("+X-Probity-Dedup-Key",),
    "mailtos": ("+X-Probity-Dedup-Key",),
}


def with_dedup_key(url: str, key: str) -> str:
    """``url`` with the message's dedup key where its scheme can carry one (unchanged elsewhere)."""
    scheme = url.split("://", 1)[0].lower()
    names = _DEDUP_PARAMS.get(scheme)
    if not names:
        return url
    base, _, fragment = url.partition("#")
    extra = "&".join(f"{quote(name, safe='+:')}={quote(key, safe='')}" for name in names)
    joined = f"{base}{'&' if '?' in base else '?'}{extra}"
    return f"{joined}#{fragment}" if fragment else joined


# --- channel URLs at rest ----------------------------------------------------------------
#: the label of the key that seals channel URLs (they hold the services' secrets)
SEAL_LABEL = b"probity/channel-secrets/v1"
_SEALERS: dict[str, Sealer] = {}


def _sealer(settings: Settings) -> Sealer:
    secret = settings.secret_key.get_secret_value()
    sealer = _SEALERS.get(secret)
    if sealer is None:
        sealer = _SEALERS[secret] = Sealer(derived_key(settings, SEAL_LABEL))
    return sealer


def _row(unit_id: int, channel: str) -> str:
    return f"channel_config:{unit_id}:{channel}"


def seal_url(settings: Settings, unit_id: int, channel: str, url: str) -> str:
    """A unit's channel URL as it is stored: sealed (AES-256-GCM) and bound to its row."""
    return _sealer(settings).seal(url, _row(unit_id, channel))


def open_url(settings: Settings, unit_id: int, channel: str, stored: str | None) -> str | None:
    """The URL a stored value holds (a value stored before sealing is returned as it is)."""
    if not stored or not is_sealed(stored):
        return stored
    return str(_sealer(settings).open(stored, _row(unit_id, channel)))
