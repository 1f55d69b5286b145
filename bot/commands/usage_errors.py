"""Usage errors as one line: a flag's value of the wrong type, a missing or unknown option.

Typer draws these as a usage line, a hint and a boxed panel (six lines on stderr). Every
other bad input here is one line naming the flag with exit 2, so click's usage errors are
printed the same way; `--help` still shows the usage and the options.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from typer._click import exceptions as click_errors
from typer.core import TyperGroup
from typer.exceptions import Abort


def _say(markup: str) -> None:
    from rich.console import Console  # only when there is an error: rich costs 30 ms

    Console(stderr=True).print(markup, highlight=False, soft_wrap=True)


def usage_line(err: click_errors.UsageError) -> str:
    """`<what>; see lphedge <command> --help`, on one line."""
    text = " ".join(err.format_message().split()).removesuffix(".")
    ctx = err.ctx
    hint = f"; see {ctx.command_path} --help" if ctx is not None else ""
    return f"{text}{hint}"


class OneLineUsageErrors(TyperGroup):
    """A typer group that prints click's usage errors as one `error:` line, exit 2."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except click_errors.NoArgsIsHelpError as err:
            sys.exit(err.exit_code)  # the help is already printed
        except click_errors.UsageError as err:
            from rich.markup import escape

            _say(f"[red]error:[/red] {escape(usage_line(err))}")
            sys.exit(err.exit_code)
        except click_errors.ClickException as err:
            err.show()
            sys.exit(err.exit_code)
        except Abort:
            _say("Aborted.")
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)
