#!/usr/bin/env bash
# Installs everything pipeline builds and tests with, from Debian 12's packages.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential cmake pkg-config ca-certificates python3 \
  libyaml-cpp-dev libdnnl-dev ocl-icd-opencl-dev opencl-headers libprotobuf-dev protobuf-compiler libfmt-dev doctest-dev \
  zlib1g-dev libcurl4-openssl-dev libssl-dev libsnappy-dev \
  clang libclang-rt-14-dev libomp-14-dev \
  dataset-fashion-mnist \
  chromium \
  debootstrap git
# ocl-icd-opencl-dev, opencl-headers: Debian's oneDNN is built with the OpenCL GPU runtime, so its
#   dnnl-config.cmake calls find_package(OpenCL) and fails without them (recommends are off).
# debootstrap: scripts/fresh-root.sh proves the README on a new minimal Debian 12 root.
# libomp-14-dev: the fuzz build (scripts/fuzz.sh) compiles with clang, whose OpenMP runtime is libomp.
# chromium: tests/report_browser_test.cpp renders `pipeline report` output in headless Chromium.

# The conformance tools (tests/tf/: real TensorFlow loads our exports) live in a
# virtual environment at the repository root, .venv/ (ignored by git), with
# pinned versions. torch is pinned exactly: an unpinned torch pulls a CUDA build
# of several GB. pip runs only when a pinned version is missing. Without PyPI the
# TF tests are skipped by name; with CI=true a missing TensorFlow fails here.
$SUDO apt-get install -y -q --no-install-recommends python3-venv python3-pip
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv"
PY_PINS=(tensorflow-cpu==2.21.0 tensorboard tensorflow-serving-api==2.21.0 numpy pytest torch==2.13.0)
venv_ok() {
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "${PY_PINS[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, _, want = pin.partition("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        sys.exit(1)
    if want and have.split("+")[0] != want:
        sys.exit(1)
PY
}
if venv_ok; then
  echo "install-deps: $VENV already has ${PY_PINS[*]}"
else
  venv_failed=""
  { [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"; } &&
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PY_PINS[@]}" || venv_failed=1
  if [ -n "$venv_failed" ] || ! venv_ok; then
    if [ "${CI:-}" = "true" ]; then
      echo "install-deps: error: could not install ${PY_PINS[*]} into $VENV (CI=true requires TensorFlow)" >&2
      exit 1
    fi
    echo "install-deps: warning: could not install ${PY_PINS[*]} into $VENV (no PyPI?);" \
         "the TensorFlow conformance tests (tests/tf/) will be reported as skipped" >&2
  fi
fi
