#!/usr/bin/env bash
# Side-by-side decode benchmark on a GPU machine: mm01's compiler-generated
# lightning decode kernel vs fla's fused_recurrent_simple_gla (see
# decode_bench.py). Run from the repository root:
#   bash test/benchmarks/run_decode_bench.sh
# Launcher + cubin: $MM01_DECODE_LAUNCHER / $MM01_DECODE_CUBIN, else
# .benchbin/ (copies carried to a lent machine), else build/test/gpu/.
# fla: importable already, or wheels in .whl/ (installed to /tmp/site).
# Results: $OUT (default /tmp/mm01-decode-bench-out).
set -o pipefail
export NCCL_NVLS_ENABLE=0 PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/mm01-decode-bench-out}
mkdir -p "$OUT"
cd "$(dirname "$0")/../.."
if ! python3 -c "import fla" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site .whl/*.whl 2>&1 | tee "$OUT/pip.log" || exit 1
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
pick() { for f in "$@"; do [ -n "$f" ] && [ -e "$f" ] && { echo "$f"; return; }; done; }
LAUNCHER=$(pick "$MM01_DECODE_LAUNCHER" .benchbin/mm01-gpu-lightning-decode build/test/gpu/mm01-gpu-lightning-decode)
CUBIN=$(pick "$MM01_DECODE_CUBIN" .benchbin/lightning_decode_c64_t256.bin.mlir build/test/gpu/lightning_decode_c64_t256.bin.mlir)
[ -n "$LAUNCHER" ] && [ -n "$CUBIN" ] || { echo "launcher or cubin not found (build: ninja -C build mm01-gpu-lightning-decode)"; exit 1; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv 2>&1 | tee "$OUT/nvidia-smi.txt"
# The other tilings built beside the default (columns per block x threads),
# timed beside it.
VARIANTS=()
for v in c16_t128:16:128 c32_t128:32:128; do
  f="$(dirname "$CUBIN")/lightning_decode_${v%%:*}.bin.mlir"
  [ -e "$f" ] && VARIANTS+=(--variant "$f:${v#*:}")
done
python3 test/benchmarks/decode_bench.py --launcher "$LAUNCHER" --cubin "$CUBIN" "${VARIANTS[@]}" --out "$OUT" "$@" 2>&1 | tee "$OUT/bench.log"
