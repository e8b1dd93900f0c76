#!/usr/bin/env bash
# Side-by-side decode benchmark on a GPU machine: mm01's compiler-generated
# lightning decode kernel vs fla's fused_recurrent_simple_gla (see
# decode_bench.py). Run from the repository root:
#   bash test/benchmarks/run_decode_bench.sh
# Launcher + cubins: $MM01_DECODE_LAUNCHER / $MM01_DECODE_BINDIR, else
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
BINDIR=
for d in "$MM01_DECODE_BINDIR" .benchbin build/test/gpu; do
  [ -n "$d" ] && [ -e "$d/lightning_decode_gen_h8_d128_bf16_auto.bin.mlir" ] && { BINDIR=$d; break; }
done
LAUNCHER=${MM01_DECODE_LAUNCHER:-$BINDIR/mm01-gpu-lightning-decode}
[ -n "$BINDIR" ] && [ -x "$LAUNCHER" ] || { echo "launcher or cubins not found (build: ninja -C build mm01-gpu-lightning-decode)"; exit 1; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv 2>&1 | tee "$OUT/nvidia-smi.txt"
# Ours: the engine generator's plan per H (auto-tiles=1: the tiling the
# engine chooses, with its small-batch kernel). Beside it, fixed tilings
# of the mm01-gpu-codegen kernel (columns per block x threads).
OURS=()
for h in 8 64; do OURS+=(--ours "$BINDIR/lightning_decode_gen_h${h}_d128_bf16_auto.bin.mlir:gen"); done
VARIANTS=()
for v in c64_t256:64:256 c32_t128:32:128 c16_t128:16:128 c8_t128:8:128; do
  f="$BINDIR/lightning_decode_${v%%:*}.bin.mlir"
  [ -e "$f" ] && VARIANTS+=(--variant "$f:${v#*:}")
done
python3 test/benchmarks/decode_bench.py --launcher "$LAUNCHER" "${OURS[@]}" "${VARIANTS[@]}" --out "$OUT" "$@" 2>&1 | tee "$OUT/bench.log"
