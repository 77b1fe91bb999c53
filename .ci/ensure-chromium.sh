#!/usr/bin/env bash
# The approval page's browser test drives a real Chromium (Debian's package; playwright-core
# cannot download one here). Installs it when it is missing and this machine can: root with
# apt-get. Elsewhere it says what to do, and the browser test fails with the same advice.
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser test ..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
else
  echo "The browser test needs Chromium: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH." >&2
fi
