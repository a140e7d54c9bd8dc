#!/usr/bin/env bash
# Installs the build and test dependencies from Debian 12's packages (run as root or with sudo).
# Nothing else is downloaded: Eigen, stb_image, cxxopts, nlohmann/json and Catch2 v2 are
# header-only Debian packages found by CMake; OpenBLAS (its OpenMP build) is the GEMM backend
# (CMake option STRASSEN_GEMM, docs/benchmarks.md). clang is for the fuzz targets (below).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# clang, libclang-rt-14-dev (libFuzzer and clang's sanitizer runtimes; clang does not pull it in
# without recommends) and libomp-dev (clang's OpenMP): the fuzz targets of tests/fuzz, which the
# ctest `fuzz.smoke` builds and runs for a few seconds each (tools/run_fuzzers.sh). GCC's ASan
# and UBSan runtimes, for -DSTRASSEN_SANITIZE, come with g++.
$SUDO apt-get install -y -q --no-install-recommends \
  g++ make cmake pkg-config \
  libeigen3-dev libopenblas-openmp-dev libstb-dev libcxxopts-dev nlohmann-json3-dev catch2 \
  clang libclang-rt-14-dev libomp-dev
