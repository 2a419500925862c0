#!/usr/bin/env bash
# The shared-state tests start a real redis-server (Debian package redis-server) on a free port: install it
# when it is missing. Called by `npm test` before the test suites; harmless when it is already there.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
echo "installing redis-server (shared-state tests)"
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
# Debian's package starts a system-wide server on 6379; the tests start their own, so it is not needed.
($SUDO systemctl disable --now redis-server >/dev/null 2>&1 || $SUDO service redis-server stop >/dev/null 2>&1 || true)
command -v redis-server >/dev/null
