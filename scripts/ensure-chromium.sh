#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests (tests/web/).
# Playwright for Python drives it; its own browser download is never used (no network for it).
#
#   scripts/ensure-chromium.sh        installs the `chromium` package when missing (root or sudo)
#
# Exits 0 when Chromium is there afterwards. When it cannot be installed it says why and exits
# 1 under CI (the browser tests must run there) and 0 elsewhere (they skip, saying why).
set -euo pipefail

CHROMIUM=/usr/bin/chromium
[[ -x "$CHROMIUM" ]] && exit 0

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else return 1
  fi
}

echo "ensure-chromium: $CHROMIUM is missing; installing Debian's chromium package" >&2
if command -v apt-get >/dev/null 2>&1 \
  && as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
  && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core >/dev/null; then
  [[ -x "$CHROMIUM" ]] && exit 0
fi
echo "ensure-chromium: could not install chromium (needs apt-get and root)" >&2
[[ -n "${CI:-}" ]] && exit 1
exit 0
