#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UBSan (-DPIPELINE_SANITIZE=ON) in
# build-asan/ and runs the whole C++ test suite under it (the TensorFlow
# conformance tests run in the Release build: TF is what they exercise). Any sanitizer report
# fails the test that triggered it (halt_on_error).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"
# clang -O0 -g1 (line tables): CI's time is this build's compile. One heavy test
# file (tests/export_graph_test.cpp) takes 56 s with gcc -O1 -g1 under
# ASan+UBSan, 31 s with clang -O1 -g1 and 11 s with clang -O0 -g1; the tests
# themselves spend their time in oneDNN, which is not instrumented either way.
# Every report still has file:line.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O0 -g1 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O0 -g1 -DNDEBUG" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DPIPELINE_SANITIZE=ON -DPIPELINE_TF_TESTS=OFF
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# Tests time out at 1500 s each under ASan (the default 1500 s too, stated here).
ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 1500
