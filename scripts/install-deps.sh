#!/usr/bin/env bash
# Installs everything pipeline builds and tests with, from Debian 12's packages.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential cmake pkg-config ca-certificates python3 \
  libyaml-cpp-dev rapidjson-dev libdnnl-dev ocl-icd-opencl-dev opencl-headers libprotobuf-dev protobuf-compiler libfmt-dev doctest-dev \
  zlib1g-dev libcurl4-openssl-dev libssl-dev libsnappy-dev \
  clang libclang-rt-14-dev libomp-14-dev \
  dataset-fashion-mnist python3-sklearn \
  chromium \
  debootstrap git ccache \
  libgrpc++-dev protobuf-compiler-grpc \
  wrk nghttp2-client \
  slurm-wlm munge openmpi-bin libopenmpi-dev
# ocl-icd-opencl-dev, opencl-headers: Debian's oneDNN is built with the OpenCL GPU runtime, so its
#   dnnl-config.cmake calls find_package(OpenCL) and fails without them (recommends are off).
# debootstrap: scripts/fresh-root.sh proves the README on a new minimal Debian 12 root.
# libomp-14-dev: the fuzz build (scripts/fuzz.sh) compiles with clang, whose OpenMP runtime is libomp.
# rapidjson-dev: the one JSON library (common/json_value.h reads, common/json.h writes); header-only.
# python3-sklearn: scikit-learn's bundled CSV files (breast_cancer.csv, boston_house_prices.csv) that
#   configs/tabular_*.yaml read, and the scikit-learn of bench/tabular_baseline.py.
# chromium: tests/report_browser_test.cpp renders `pipeline report` output in headless Chromium.
# ccache: CMakeLists.txt uses it when present; CI's fresh-root check shares its cache.
# libgrpc++-dev, protobuf-compiler-grpc: `pipeline serve`'s gRPC API (TF Serving's PredictionService/ModelService; grpc_cpp_plugin).
# wrk, nghttp2-client (h2load): bench/serve.py's REST and gRPC load (tests/tf/serve_bench_smoke.py runs it).
# openmpi-bin, libopenmpi-dev: data-parallel training (mpirun -np N pipeline run; tests/mpi/).
# slurm-wlm, munge: `pipeline sweep --launcher slurm`; tests/slurm/ runs on a one-node cluster (scripts/slurm-up.sh).

# The virtual environment of the TensorFlow conformance tests and the bench
# peers (.venv/; CI=true fails without TensorFlow, elsewhere they are skipped).
bash "$(dirname "$0")/make-venv.sh"

