#!/usr/bin/env bash
# Installs everything pipeline builds and tests with, from Debian 12's packages.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential cmake pkg-config ca-certificates python3 \
  libyaml-cpp-dev libdnnl-dev libprotobuf-dev protobuf-compiler libfmt-dev doctest-dev \
  zlib1g-dev libcurl4-openssl-dev libssl-dev libsnappy-dev \
  clang libclang-rt-14-dev \
  dataset-fashion-mnist \
  chromium
# chromium: tests/report_browser_test.cpp renders `pipeline report` output in headless Chromium.
