"""Logging: human lines or JSON lines, with secrets scrubbed from every record."""

from __future__ import annotations

import json
import logging
import sys

from bot import secrets


class RedactingFilter(logging.Filter):
    """Render the message once, scrub registered secrets and URL paths, keep it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = secrets.redact(record.getMessage())
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = secrets.redact(self.formatException(record.exc_info))
        return json.dumps(out)


def setup_logging(level: str = "INFO", as_json: bool = False, *, verbose: bool = False) -> None:
    """Our own loggers at `level`; libraries (alembic, web3, ccxt, aiohttp...) only say
    warnings unless `verbose`, which also turns ours to DEBUG."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    fmt = (
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.setFormatter(fmt)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    logging.getLogger("lphedge").setLevel(logging.DEBUG if verbose else level.upper())
