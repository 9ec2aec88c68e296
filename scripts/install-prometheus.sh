#!/usr/bin/env bash
# Installs Prometheus (with promtool) and Alertmanager from Debian for the metrics and alerting
# tests. Idempotent: does nothing when the binaries are already there. The packages' services are
# neither started nor needed: the tests run their own instances on loopback ports in temp dirs.
set -euo pipefail

if command -v prometheus >/dev/null && command -v promtool >/dev/null && command -v prometheus-alertmanager >/dev/null; then
  echo "prometheus, promtool and prometheus-alertmanager already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Keep the package scripts from starting the services (policy-rc.d 101 = "action forbidden").
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=""
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod +x "$POLICY"
  CREATED_POLICY=1
fi
cleanup() { if [ -n "$CREATED_POLICY" ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show prometheus >/dev/null 2>&1; then
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
fi
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null

# Where systemd runs, make sure the packaged services stay off: the tests start their own.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now prometheus prometheus-alertmanager >/dev/null 2>&1 || true
fi

prometheus --version 2>&1 | head -1
promtool --version 2>&1 | head -1
prometheus-alertmanager --version 2>&1 | head -1
