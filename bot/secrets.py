"""Keep secrets out of logs, ledger rows and error messages.

An RPC URL often carries an API key in its path or query (`.../v3/<key>`), so we only
ever show its scheme and host. Exchange keys are held in `SecretStr` and registered here
so any text can be scrubbed before it leaves the process.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

_lock = threading.Lock()
_registered: set[str] = set()


def register(*values: str | None) -> None:
    """Remember secret values so `redact` removes them from any text."""
    with _lock:
        for value in values:
            if value and len(value) >= 4:
                _registered.add(value)


def redact(text: str) -> str:
    """Replace every registered secret and URL credentials/paths in `text`."""
    with _lock:
        secrets = sorted(_registered, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return _URL.sub(lambda m: safe_url(m.group(0)), text)


_URL = re.compile(r"\b(?:https?|wss?)://[^\s'\"<>]+")


def safe_url(url: str) -> str:
    """`https://user:key@host/v3/abc?k=1` -> `https://host/…`: scheme and host only."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<url>"
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    tail = "/…" if (parts.path not in ("", "/") or parts.query) else ""
    return f"{parts.scheme}://{host}{port}{tail}"
