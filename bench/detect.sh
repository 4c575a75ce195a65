#!/usr/bin/env bash
# Detection precision and recall over many random plans (SN_DETECT_SEEDS of
# them per file) on generated and stories260K models in F32, F16, BF16,
# Q8_0, Q4_K (and llama.cpp's Q4_K_M), per encrypted row and column.
#   bench/detect.sh [BUILD_DIR] [SEEDS]
set -euo pipefail
build=${1:-build}
SN_DETECT_SEEDS=${2:-40} "$build/test_detect" | grep -v '^/'
