#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests when it is missing and we may install
# packages (root with apt-get, as on CI). Elsewhere the browser tests skip and say why.
set -u
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "browser: installing chromium for the browser tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null \
    || echo "browser: could not install chromium; browser tests will skip" >&2
else
  echo "browser: /usr/bin/chromium missing; browser tests will skip" >&2
fi
exit 0
