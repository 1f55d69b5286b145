"""The compose file users run is valid (checked with Debian's docker-compose; no engine here)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def compose_env(tmp_path: Path) -> Path:
    env = tmp_path / ".env"
    env.write_text(f"LPHEDGE_PG_PASSWORD=test-password\nLPHEDGE_ENV_FILE={env}\n")
    return env


def _config(env: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is required: `make test` installs it (Debian docker-compose)"
    return subprocess.run(
        [exe, "--env-file", str(env), "-f", str(ROOT / "docker/compose.yaml"), *extra, "config"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_compose_file_is_valid_with_bot_postgres_and_demo_profile(compose_env: Path) -> None:
    out = _config(compose_env, "--profile", "demo")
    assert out.returncode == 0, out.stderr
    for service in ("postgres:", "bot:", "demo:"):
        assert service in out.stdout
    assert "postgresql://lphedge:test-password@postgres:5432/lphedge" in out.stdout


def test_compose_refuses_to_start_without_a_database_password(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text(f"LPHEDGE_ENV_FILE={empty}\n")
    out = _config(empty)
    assert out.returncode != 0 and "LPHEDGE_PG_PASSWORD" in out.stderr


def test_images_run_as_non_root() -> None:
    for name in ("Dockerfile", "Dockerfile.demo"):
        text = (ROOT / "docker" / name).read_text()
        assert "USER lphedge" in text and "useradd" in text
