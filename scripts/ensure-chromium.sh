#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the report's browser test (`make test`).
# Playwright's own browser download cannot work offline, so the test drives /usr/bin/chromium.
# Installs it with apt-get when running as root (serialised with other installs through
# /tmp/apt.lock when flock is available); otherwise says what to run and fails.
set -euo pipefail

CHROMIUM="${DEFROST_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: $CHROMIUM is missing and this is not root; install it with: sudo apt-get install -y chromium" >&2
  exit 1
fi

echo "ensure-chromium: installing Debian's chromium for the report's browser test"
export DEBIAN_FRONTEND=noninteractive
install_chromium() {
  apt-get install -y --no-install-recommends chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }
}
if command -v flock >/dev/null 2>&1; then
  exec 9>/tmp/apt.lock
  flock 9
fi
install_chromium

if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: apt-get finished but $CHROMIUM is still missing" >&2
  exit 1
fi
