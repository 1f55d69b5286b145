"""CLI sub-commands, one module each; `bot.cli` registers them by hand."""
