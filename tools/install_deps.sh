#!/usr/bin/env bash
# Installs the build and test dependencies from Debian 12's packages (run as root or with sudo).
# Nothing else is downloaded: Eigen, stb_image, cxxopts, nlohmann/json and Catch2 v2 are
# header-only Debian packages found by CMake; OpenBLAS (its OpenMP build) is the GEMM backend
# (CMake option STRASSEN_GEMM, docs/benchmarks.md).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  g++ make cmake pkg-config \
  libeigen3-dev libopenblas-openmp-dev libstb-dev libcxxopts-dev nlohmann-json3-dev catch2
