#!/usr/bin/env bash
# Installs the build and test dependencies from Debian 12's packages (run as root or with sudo).
# Nothing else is downloaded: Eigen, stb_image, cxxopts, nlohmann/json and Catch2 v2 are all
# header-only Debian packages found by CMake.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  g++ make cmake pkg-config \
  libeigen3-dev libstb-dev libcxxopts-dev nlohmann-json3-dev catch2
