"""`python -m bot`: the `lphedge` command."""

from bot.cli import app

app(prog_name="lphedge")
