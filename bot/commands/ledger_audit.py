"""`lphedge ledger verify [--checkpoint FILE]` and `lphedge ledger checkpoint`: the chain,
the append-only triggers, and the signed checkpoints that anchor the tail.

Exit codes: 0 intact, 1 tampered (first line names the first problem, then the others),
2 bad input (no such ledger or checkpoint file, no key, a bad `--through`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from bot import secrets
from bot.clock import SystemClock
from bot.commands.common import fail, settings_from
from bot.errors import ConfigError, InputError
from bot.ledger import checkpoint_file
from bot.ledger.checkpoints import Audit, Checkpoint, audit, checkpointed_seqs, sign
from bot.ledger.store import Ledger
from bot.ledger.verify import VerifyResult

CheckpointOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoint",
        help="Checkpoint file (JSON lines) to hold the ledger against; key from "
        "ledger.checkpoint_key (config or LPHEDGE_LEDGER__CHECKPOINT_KEY).",
    ),
]


@dataclass(frozen=True, slots=True)
class Findings:
    """Everything one audit found: the chain, the triggers, and the checkpoints (if asked)."""

    chain: VerifyResult
    missing_triggers: list[str]
    checkpoints: Audit | None

    def problems(self, *, vouching: bool = False) -> list[str]:
        """Every sign of tampering, first one first; `vouching` (an operator about to sign
        the tail) leaves out events a writer refused to sign: that is what they review."""
        out = []
        if not self.chain.ok:
            out.append(f"broken at seq {self.chain.broken_seq}: {self.chain.reason}")
        if self.checkpoints is not None:
            out.extend(self.checkpoints.problems)
            if not vouching:
                out.extend(self.checkpoints.disowned)
        out.extend(
            f"append-only trigger {name} is missing or disabled (dropped by hand?)"
            for name in self.missing_triggers
        )
        return out


def checkpoint_key(config: Path | None, path: Path | None) -> bytes:
    """The HMAC key from the config or env; exit 2 when it is not set."""
    settings = settings_from(config, {"ledger": {"checkpoint_file": path}})
    key = settings.ledger.checkpoint_key
    if key is None:
        fail(
            ConfigError(
                "ledger.checkpoint_key is not set (config or LPHEDGE_LEDGER__CHECKPOINT_KEY): "
                "checkpoints cannot be checked or signed without it"
            )
        )
    secrets.register(key.get_secret_value())
    return key.get_secret_value().encode("utf-8")


def examine(ledger: Ledger, lines: list[tuple[int, str]] | None, key: bytes) -> Findings:
    chain = ledger.verify()
    missing = ledger.missing_triggers()
    if lines is None:
        return Findings(chain, missing, None)
    facts = ledger.facts(checkpointed_seqs(lines))
    return Findings(chain, missing, audit(lines, key, facts))


def report(findings: Findings) -> None:
    """Print the verdict; exit 1 when anything was tampered with."""
    problems = findings.problems()
    if problems:
        typer.echo(problems[0])
        for problem in problems[1:]:
            typer.echo(f"  also: {problem}")
        raise typer.Exit(1)
    chain, cps = findings.chain, findings.checkpoints
    line = f"ok: {chain.events_checked} events (tip {chain.tip_hash})"
    if cps is not None:
        last = f", the last at seq {cps.last.seq}" if cps.last else ""
        line += f"; {cps.checked} checkpoints verified{last}"
    typer.echo(line)
    for warning in cps.warnings if cps else ():
        typer.echo(f"warning: {warning}")


def _signed(ledger: Ledger, chain: VerifyResult, through: int, key: bytes) -> Checkpoint:
    facts = ledger.facts([through])
    return sign(
        Checkpoint(
            ledger=facts.first_hash or chain.tip_hash,
            where=ledger.describe(),
            seq=through,
            count=through,
            tip_hash=facts.hashes[through],
            ts_ms=_now_ms(),
            run_id="operator",
        ),
        key,
    )


def _now_ms() -> int:
    return SystemClock().now_ms()


def sign_through(ledger: Ledger, path: Path, key: bytes, through: int | None) -> None:
    """Vouch for the ledger up to seq `through`: refused on any tampering, and unless the
    operator names the seq they reviewed."""
    lines = checkpoint_file.read_lines(path) if path.exists() else []
    findings = examine(ledger, lines, key)
    if findings.problems(vouching=True):
        typer.echo("refused, the ledger or its checkpoints were tampered with:")
        report(findings)
    assert findings.checkpoints is not None
    for note in findings.checkpoints.disowned:
        typer.echo(f"note: {note}")
    anchored = findings.checkpoints.last.seq if findings.checkpoints.last else 0
    tip = findings.chain.events_checked
    if anchored >= tip or (through is not None and through <= anchored):
        typer.echo(f"nothing to sign: the checkpoint at seq {anchored} covers seq {through or tip}")
        return
    if through is None or through > tip:
        fail(
            InputError(
                f"--through: events {anchored + 1}..{tip} are not anchored; review them "
                f"(lphedge ledger tail -n {tip - anchored}) and pass --through {tip} "
                "(or the last seq you checked) to sign them"
            )
        )
    cp = _signed(ledger, findings.chain, through, key)
    checkpoint_file.append(path, cp)
    typer.echo(f"checkpoint written to {path}: seq {cp.seq}, tip {cp.tip_hash}")
