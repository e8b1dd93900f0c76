#!/usr/bin/env bash
# Side-by-side prefill benchmark on a GPU machine: mm01's compiler-generated
# lightning prefill kernels vs fla chunk_simple_gla, lightning-attn (if its
# wheel is in .whl/) and an HF-style PyTorch block loop (see prefill_bench.py).
# Run from anywhere:   bash test/benchmarks/run_prefill_bench.sh [--shapes a,b]
# Launcher + cubins: $MM01_PREFILL_BINDIR (with mm01-gpu-lightning-prefill and
# b_h{8,64}_d128_auto.bin.mlir, optionally b_h{8,64}_d128_bf16state.bin.mlir
# for the bf16-state-update row), else .lpbin/ (copies carried to a lent
# machine), else build/test/gpu/. A full run takes ~3 minutes on an H200.
# Python peers: importable already, or wheels in .whl/ (installed to /tmp/site).
# Results: $OUT (default /tmp/mm01-prefill-bench-out).
set -o pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/mm01-prefill-bench-out}
mkdir -p "$OUT"
cd "$(dirname "$0")/../.."
if ! python3 -c "import fla" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site .whl/*.whl 2>&1 | tee "$OUT/pip.log" || exit 1
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
BINDIR=
for d in "$MM01_PREFILL_BINDIR" .lpbin build/test/gpu; do
  [ -n "$d" ] && [ -x "$d/mm01-gpu-lightning-prefill" ] && [ -e "$d/b_h8_d128_auto.bin.mlir" ] && { BINDIR=$d; break; }
done
[ -n "$BINDIR" ] || { echo "launcher/cubins not found (build: ninja -C build mm01-gpu-lightning-prefill)"; exit 1; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv 2>&1 | tee "$OUT/nvidia-smi.txt"
python3 test/benchmarks/prefill_bench.py --launcher "$BINDIR/mm01-gpu-lightning-prefill" \
  --bindir "$BINDIR" --out "$OUT" "$@" 2>&1 | tee "$OUT/bench.log"
