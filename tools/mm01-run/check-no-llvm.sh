#!/bin/sh
# Fails when the binary $1 depends, directly or through its libraries, on
# LLVM, MLIR or clang (GPU machines have none installed).
bin=$1
deps=$(ldd "$bin" 2>&1) || { echo "FAIL: ldd $bin: $deps"; exit 1; }
bad=$(printf '%s\n' "$deps" | grep -E 'lib(LLVM|MLIR|clang)')
if [ -n "$bad" ]; then
  echo "FAIL: $bin depends on LLVM/MLIR:"
  printf '%s\n' "$bad"
  exit 1
fi
echo "ok: $bin depends on no LLVM/MLIR library"
