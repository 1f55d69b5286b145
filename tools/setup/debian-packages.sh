#!/usr/bin/env bash
# Install the Debian packages the tests use, or say in one line which one is missing and why.
# Called by `make install-system` (once, behind a stamp file); safe to run again.
set -euo pipefail

# command  package  why the tests need it
REQUIRED=(
  "chromium|chromium|the HTML report is checked in headless Chromium (tests/report/test_browser.py)"
  "docker-compose|docker-compose|docker/compose.yaml is validated with docker-compose config (tests/ops/test_docker.py)"
)

missing=()
for entry in "${REQUIRED[@]}"; do
  IFS='|' read -r cmd pkg why <<<"$entry"
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg|$why")
done
[ ${#missing[@]} -eq 0 ] && exit 0

pkgs=()
for entry in "${missing[@]}"; do pkgs+=("${entry%%|*}"); done

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  for entry in "${missing[@]}"; do
    echo "make: Debian package '${entry%%|*}' is missing: ${entry#*|}; install it: sudo apt-get install -y ${entry%%|*}" >&2
  done
  exit 1
fi

echo "make: installing Debian packages the tests use: ${pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${pkgs[@]}" >/dev/null

for entry in "${REQUIRED[@]}"; do
  IFS='|' read -r cmd pkg why <<<"$entry"
  if ! command -v "$cmd" >/dev/null 2>&1; then
    echo "make: apt-get installed '$pkg' but '$cmd' is still not on PATH; $why" >&2
    exit 1
  fi
done
