#!/bin/sh
# Runs the GPU test binary; a machine without the NVIDIA driver cannot even
# load it (libcuda.so.1 missing: the dynamic loader exits 127), which is a
# skip (77) like "no device", not a failure.
"$@"
rc=$?
if [ "$rc" -eq 127 ]; then
  echo "SKIP: $1 cannot start (no libcuda.so.1: NVIDIA driver not installed)"
  exit 77
fi
exit "$rc"
