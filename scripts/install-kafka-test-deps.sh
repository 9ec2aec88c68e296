#!/usr/bin/env bash
# Installs what the Kafka-mode tests need to build librdkafka's mock cluster launcher
# (relay/kafka/testdata/mock-kafka.c): gcc and Debian's librdkafka-dev. Idempotent: does nothing
# when both are present. Needs root (CI runs as root) and Debian apt.
set -euo pipefail
if [ -f /usr/include/librdkafka/rdkafka_mock.h ] && command -v gcc >/dev/null 2>&1; then
  echo "kafka test deps: already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends librdkafka-dev gcc libc6-dev >/dev/null
echo "kafka test deps: installed librdkafka-dev $(dpkg-query -W -f='${Version}' librdkafka-dev), $(gcc --version | head -1)"
