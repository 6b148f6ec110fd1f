#!/bin/sh
# ctest's entry to one TensorFlow conformance test: run.sh SOURCE_DIR SCRIPT ARGS...
# Runs SCRIPT with the virtual environment's python (PIPELINE_VENV, default
# SOURCE_DIR/.venv, made by scripts/install-deps.sh). Without the environment
# the test exits 77, which ctest reports as skipped (SKIP_RETURN_CODE) -- unless
# CI=true, where a missing environment is a failure.
src="$1"; shift
venv="${PIPELINE_VENV:-$src/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "error: no virtual environment at $venv (CI=true requires TensorFlow; run scripts/install-deps.sh)" >&2
    exit 1
  fi
  echo "skipped: no virtual environment at $venv (scripts/install-deps.sh makes it when PyPI is reachable)"
  exit 77
fi
export PATH="$venv/bin:$PATH"
exec "$venv/bin/python" "$@"
