"""The OpenAPI spec fuzzed with schemathesis against the running bot's API: whatever a
client sends, no 5xx, and every response fits the schema the spec promises.

schemathesis runs as its own CLI (`st run`), as a user would run it against their bot: its
pytest plugin does not load under this pytest. Every check it has is on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.conftest import CONTROL_TOKEN, RunningBot

pytestmark = pytest.mark.slow


def test_no_request_breaks_the_api(running_bot: RunningBot, tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("st")
    done = subprocess.run(
        [
            str(st),
            "run",
            f"{running_bot.url}/api/v1/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "30",
            "--seed",
            "1",
            "--header",
            f"Authorization: Bearer {CONTROL_TOKEN}",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    tail = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    assert "No issues found" in done.stdout or "passed" in done.stdout, tail
    assert running_bot.proc.poll() is None, running_bot.stderr()  # the bot runs on
