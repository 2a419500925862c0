#!/usr/bin/env bash
# The dashboard's browser test needs Chromium (/usr/bin/chromium, or $SAGE_CHROMIUM). `npm test` runs this first
# so that the README's test command passes on a fresh machine: it installs Debian's chromium when it is missing
# (as root, or through sudo without a password), quietly, and does nothing when it is there.
set -euo pipefail
browser="${SAGE_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then exit 0; fi
if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "ensure-chromium: $browser is missing and this user cannot install it (not root, no password-less sudo)." >&2
  echo "ensure-chromium: install it with 'apt-get install chromium' or point SAGE_CHROMIUM at a Chromium binary." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $browser is missing and there is no apt-get to install it; set SAGE_CHROMIUM to a Chromium binary." >&2
  exit 1
fi
echo "ensure-chromium: installing Debian's chromium for the dashboard's browser test" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq chromium >/dev/null
if [ ! -x "$browser" ]; then
  echo "ensure-chromium: apt-get installed chromium, but $browser is still missing" >&2
  exit 1
fi
