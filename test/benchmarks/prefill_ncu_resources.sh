#!/bin/bash
# ncu resource figures (speed of light, shared memory, pipes, stalls) of the
# lightning prefill chunk kernels (_out, _states) at B1 H D128 (H = 8 by
# default), T tokens of random inputs, one launch of each after 3, at the
# clocks the GPU runs (ncu --clock-control none):
#   OUT=dir bash test/benchmarks/prefill_ncu_resources.sh LAUNCHER CUBIN [T [H]]
# LAUNCHER: build/test/gpu/mm01-gpu-lightning-prefill; CUBIN: a plan of
# mm01-test-lightning-prefill-kernel (e.g. build/test/gpu/b_h8_d128_auto.bin.mlir).
# Writes OUT/details_{_out,_states}.txt (ncu's details page) and
# OUT/raw_{_out,_states}.txt (the raw metrics on shared memory, pipes, issue,
# DRAM and stalls).
set -e
LAUNCHER=$(realpath "$1"); CUBIN=$(realpath "$2"); T=${3:-131072}; H=${4:-8}
OUT=${OUT:-/tmp/mm01-prefill-ncu}; mkdir -p "$OUT"
W=$(mktemp -d)
python3 - "$T" "$W" "$H" <<'PY'
import sys, numpy as np, torch
T = int(sys.argv[1]); W = sys.argv[2]; H = int(sys.argv[3]); D = 128
g = torch.Generator().manual_seed(0)
x = (torch.randn(T, H, 3 * D, generator=g) * 0.1).to(torch.bfloat16)
x.view(torch.int16).numpy().tofile(f'{W}/qkv.bin')
np.zeros((1, H, D, D), np.float32).tofile(f'{W}/s.bin')
np.array([0, T], np.int32).tofile(f'{W}/cu.bin')
PY
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
[ -n "$NCU" ] || { echo "ncu not found" >&2; exit 1; }
nvidia-smi --query-gpu=name --format=csv,noheader > "$OUT/device.txt"
for K in _out _states; do
  "$NCU" -k regex:$K --launch-skip 3 --launch-count 1 --set full --clock-control none -f -o "$W/r$K" \
    "$LAUNCHER" --io "$W:1" "$CUBIN" > "$OUT/ncu-run$K.txt" 2>&1
  "$NCU" -i "$W/r$K.ncu-rep" --page details > "$OUT/details$K.txt" 2>&1
  "$NCU" -i "$W/r$K.ncu-rep" --page raw --csv > "$W/raw$K.csv" 2>&1
  python3 - "$W/raw$K.csv" > "$OUT/raw$K.txt" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
for name, unit, value in zip(rows[0], rows[1], rows[2]):
    if any(s in name for s in ('shared', 'pipe_tensor', 'gmma', 'lsu', 'throughput', 'issue',
                               'dram__bytes', 'cycles_elapsed', 'inst_executed.sum',
                               'wavefront', 'stalled', 'registers')):
        print(f"{name} [{unit}] = {value}")
PY
done
rm -rf "$W"
grep -hE "Duration|DRAM Throughput|Issue Slots Busy" "$OUT"/details_*.txt
