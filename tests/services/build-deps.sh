#!/usr/bin/env bash
# Installs what building mwcdc needs on Debian: cmake and a C toolchain for the bundled
# librdkafka, OpenSSL and SASL headers, pkg-config, zlib. Does nothing when all are present.
set -euo pipefail

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
dpkg -s libsasl2-dev >/dev/null 2>&1 || need+=(libsasl2-dev)
dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(zlib1g-dev)
if ((${#need[@]})); then
    echo "build-deps.sh: installing ${need[*]}" >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
fi
