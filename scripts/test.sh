#!/usr/bin/env bash
# Build mm01 and run every test (lit + unit; GPU tests skip without a GPU).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MM01_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh" --build
ctest --test-dir "$build" --output-on-failure -j2
