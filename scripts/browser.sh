#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/test_web_browser.py) when it is
# missing and we may install packages (root with apt-get, as on CI), saying what and why
# first. Elsewhere, or with NEWSWATCH_SKIP_BROWSER_INSTALL=1, nothing is installed and the
# browser tests skip and say why.
set -u
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
skip="browser tests will skip"
if [ "${NEWSWATCH_SKIP_BROWSER_INSTALL:-0}" != "0" ]; then
  echo "browser: /usr/bin/chromium missing and NEWSWATCH_SKIP_BROWSER_INSTALL is set;" \
    "not installing it; $skip" >&2
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "browser: /usr/bin/chromium missing; $skip (install Debian's chromium to run them)" >&2
  exit 0
fi

echo "browser: /usr/bin/chromium missing: installing Debian's chromium package and the" \
  "libraries it needs with apt-get, as root (up to ~170 packages, 700 MB, on a minimal" \
  "system), so that the browser tests can drive a real browser." \
  "Set NEWSWATCH_SKIP_BROWSER_INSTALL=1 to skip the install (and those tests)." >&2
export DEBIAN_FRONTEND=noninteractive
# Recommends (desktop services, extra fonts) are not needed headless; --no-upgrade leaves an
# installed chromium as it is, and `install` upgrades other packages only where chromium's
# dependencies demand a newer version. Nothing runs `apt-get upgrade`.
flags=(--no-install-recommends --no-upgrade)
if ! apt-get update -qq >/dev/null; then
  echo "browser: apt-get update failed; $skip" >&2
  exit 0
fi
# --assume-no stops before changing anything: it only prints what the install would do.
apt-get install --assume-no "${flags[@]}" chromium 2>/dev/null \
  | grep -E "newly installed|^Need to get|^After this operation" | sed 's/^/browser: apt-get: /' >&2
if apt-get install -y -qq "${flags[@]}" chromium >/dev/null; then
  echo "browser: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)" >&2
else
  echo "browser: could not install chromium; $skip" >&2
fi
exit 0
