#!/usr/bin/env bash
# Installs what building mwcdc needs on Debian: cmake and a C toolchain for the bundled
# librdkafka, OpenSSL, SASL and libcurl headers, pkg-config, zlib. Does nothing when all are
# present. librdkafka 2.12's bundled build includes <curl/curl.h> even with WITH_CURL=0
# (rdkafka_conf.c, under `#ifdef WITH_OAUTHBEARER_OIDC`, which the build defines as 0), so
# the headers are needed although libcurl is never linked.
set -euo pipefail

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
dpkg -s libsasl2-dev >/dev/null 2>&1 || need+=(libsasl2-dev)
dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(zlib1g-dev)
dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 || need+=(libcurl4-openssl-dev)
if ((${#need[@]})); then
    echo "build-deps.sh: installing ${need[*]}" >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
fi
