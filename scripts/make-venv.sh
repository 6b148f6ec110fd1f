#!/usr/bin/env bash
# Makes the virtual environment for the TensorFlow conformance suite (tests/tf/)
# and the bench peers; scripts/install-deps.sh calls it.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# The conformance tools (tests/tf/: real TensorFlow loads our exports) live in a
# virtual environment at the repository root, .venv/ (ignored by git), with
# pinned versions. torch is pinned exactly: an unpinned torch pulls a CUDA build
# of several GB. pip runs only when a pinned version is missing. Without PyPI the
# TF tests are skipped by name; with CI=true a missing TensorFlow fails here.
$SUDO apt-get install -y -q --no-install-recommends python3-venv python3-pip
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv"
PY_PINS=(tensorflow-cpu==2.21.0 tensorboard tensorflow-serving-api==2.21.0 numpy pytest check-jsonschema==0.39.0)
# torch only for the bench peer, and only a CPU build: from the wheels pip
# already knows locally (these machines hold torch 2.13.0+cpu), else from
# PyTorch's CPU index; never PyPI's default torch, a CUDA build of several GB.
TORCH_PIN=torch==2.13.0
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
if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-index "$TORCH_PIN" 2>/dev/null ||
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --index-url https://download.pytorch.org/whl/cpu \
      "$TORCH_PIN" 2>/dev/null ||
    echo "install-deps: note: no CPU build of $TORCH_PIN found; pipeline bench runs without the PyTorch peer" >&2
fi
