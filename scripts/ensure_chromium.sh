#!/usr/bin/env bash
# Make sure the system's headless Chromium and its driver are installed (Debian
# packages chromium + chromium-driver). Nothing here downloads a browser build:
# as root it uses apt-get, otherwise it says what to run.
set -euo pipefail
if command -v chromedriver >/dev/null && { command -v chromium >/dev/null || command -v chromium-browser >/dev/null; }; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing chromium and chromium-driver with apt-get ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  exit 0
fi
echo "make check-html needs the system Chromium and its driver:" >&2
echo "  sudo apt-get install chromium chromium-driver   (Debian/Ubuntu)" >&2
exit 1
