"""Operator actions, whoever asks: the CLI, the REST API or a Telegram chat.

Each action is one ledger event naming the caller (`by`: `cli:alice`, `api:phone`,
`telegram:123456`) and the reason, so the audit trail reads the same whichever door was
used. With `ledger.checkpoint_key` set the event is witnessed in the checkpoint file, so the
running bot signs over it instead of alerting on a tail it did not write. Halts and resumes
reach a running bot through the ledger (it reads them each tick); a bot in the same process
is also woken to act at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.config_sections import LedgerSettings
from bot.domain import events as ev
from bot.ledger.checkpointer import write_witness
from bot.ledger.hashing import to_json_value
from bot.operator import OPERATOR
from bot.ports import LedgerReader

PARAMS_RELOADED = "params_reloaded"
"""An operator changed the running strategy's params (events table only)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who acted: `channel` (cli, api, telegram) and the name the channel knows them by."""

    channel: str
    name: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.name}"


def halt_payload(reason: str, flatten: bool, by: Caller) -> dict[str, Any]:
    return {**ev.to_payload(ev.Halt(reason, OPERATOR, flatten)), "by": str(by)}


def resume_payload(reason: str, by: Caller) -> dict[str, Any]:
    return {"reason": reason, "source": OPERATOR, "by": str(by)}


def params_payload(
    strategy: str,
    previous: Mapping[str, Any],
    params: Mapping[str, Any],
    config_params: Mapping[str, Any],
    reason: str,
    by: Caller,
) -> dict[str, Any]:
    """`params` the full set now running; `config_params` what the config said then (a
    restart keeps the reload only while the config still says that)."""
    changed = sorted(k for k in {*previous, *params} if previous.get(k) != params.get(k))
    return {
        "strategy": strategy,
        "previous": dict(previous),
        "params": dict(params),
        "changed": changed,
        "config_params": dict(config_params),
        "reason": reason,
        "source": OPERATOR,
        "by": str(by),
    }


def record(
    ledger: Any, cfg: LedgerSettings, kind: str, payload: Mapping[str, Any], now_ms: int
) -> tuple[int, str]:
    """Append an operator's event and witness it when checkpoints are kept: the event's
    seq and what was said about the witness ("" when none is kept)."""
    seq: int = ledger.append(kind, payload, ts_ms=now_ms)
    if cfg.checkpoint_key is None or cfg.checkpoint_file is None:
        return seq, ""
    key = cfg.checkpoint_key.get_secret_value().encode("utf-8")
    try:
        write_witness(ledger, cfg.checkpoint_file, key, seq, now_ms)
    except OSError as err:
        return seq, f"; not witnessed in {cfg.checkpoint_file}: {err.strerror}"
    return seq, f"; witnessed in {cfg.checkpoint_file}"


def reloaded_params(
    ledger: LedgerReader, strategy: str, config_params: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The params an operator last set for `strategy`, while the config still says what it
    said then; None when there is no reload or the config changed since (the config wins)."""
    last = ledger.last(PARAMS_RELOADED)
    if last is None or last.payload.get("strategy") != strategy:
        return None
    if last.payload.get("config_params") != to_json_value(dict(config_params)):
        return None
    params = last.payload.get("params")
    return dict(params) if isinstance(params, Mapping) else None
