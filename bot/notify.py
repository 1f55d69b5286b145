"""Alerts to every channel apprise speaks (`ops.notify_urls`: json://, slack://, mailto://...).

Apprise URLs carry their tokens in the host and path (`slack://T/B/C`, `discord://id/token`),
so a channel is only ever named as `ops.notify_urls[i] (slack)`, what apprise says about a
failure is scrubbed of every part of that URL before it is logged, and the URL's long pieces
(tokens) are registered for redaction, for the HTTP libraries' debug lines. Apprise's own
logger prints URLs, so it is cut off from the root handlers. All channels are sent at once, in
apprise's worker threads, under one deadline: a dead mail server never holds a tick long.
"""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import apprise

from bot import secrets
from bot.errors import ConfigError

log = logging.getLogger("lphedge.notify")
TITLE = "lphedge"
TOKEN_CHARS = 16  # URL pieces this long are taken for tokens and scrubbed from every log line


def _quiet_apprise() -> None:
    """Keep apprise's records (URLs with tokens) off our handlers; `send` reads what it
    captured per call instead. A NullHandler, or Python's last-resort handler prints them."""
    lg = logging.getLogger("apprise")
    lg.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in lg.handlers):
        lg.addHandler(logging.NullHandler())


def _pieces(url: str, shortest: int) -> list[str]:
    """`url` and its host, user, password, path segments and query values, longest first."""
    pieces = {url, *re.split(r"[/:@?&=#]+", url.partition("://")[2])}
    return sorted((p for p in pieces if len(p) >= shortest), key=len, reverse=True)


def _scrub(text: str, url: str) -> str:
    """`text` (what apprise said about `url`) without any piece of `url`."""
    for piece in _pieces(url, 3):
        text = text.replace(piece, "***")
    return secrets.redact(" ".join(text.split()))


def _add(ap: apprise.Apprise, url: str) -> bool:
    """`ap.add(url)`; the first one loads apprise's plugins, whose e-mail plugin imports
    `imghdr` (deprecated, with a shim for Pythons without it): that warning is theirs."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        return bool(ap.add(url))


@dataclass(frozen=True, slots=True)
class _Channel:
    label: str
    url: str
    apprise: apprise.Apprise


class Notifier:
    """Sends one text to every configured channel; never raises for a channel that fails."""

    def __init__(self, urls: Sequence[str], *, timeout_s: float = 5.0) -> None:
        _quiet_apprise()
        for url in urls:  # tokens are long; words of a path are not (they stay readable)
            secrets.register(*_pieces(url, TOKEN_CHARS))
        self.timeout_s = timeout_s
        self._channels: list[_Channel] = []
        for i, url in enumerate(urls):
            label = f"ops.notify_urls[{i}] ({url.partition('://')[0] or '?'})"
            ap = apprise.Apprise()
            if not _add(ap, url):
                raise ConfigError(f"{label}: not a URL apprise can send to (see its docs)")
            self._channels.append(_Channel(label, url, ap))

    def __len__(self) -> int:
        return len(self._channels)

    async def send(self, text: str, *, warning: bool = False) -> int:
        """Send `text` everywhere at once; the number of channels that took it."""
        kind = apprise.NotifyType.WARNING if warning else apprise.NotifyType.INFO
        sent = await asyncio.gather(*(self._one(c, text, kind) for c in self._channels))
        return sum(sent)

    async def _one(self, channel: _Channel, text: str, kind: apprise.NotifyType) -> bool:
        try:
            result = await asyncio.wait_for(
                channel.apprise.async_notify(
                    body=text, title=TITLE, notify_type=kind, timeout=self.timeout_s
                ),
                self.timeout_s + 1,
            )
        except Exception as err:  # a plugin's own bug must not fail the tick either
            log.warning("alert to %s failed: %s", channel.label, type(err).__name__)
            return False
        if result:
            return True
        said = "; ".join(_scrub(e.message, channel.url) for e in result.logs())
        log.warning("alert to %s failed (%s): %s", channel.label, result.status.name, said or "-")
        return False
