#!/bin/sh
# mm01-run ENGINE on a GPU: the toy engine (written by the runtime test
# binary) with prompts of different lengths, decoded through the CUDA graph
# and eagerly (the dumps must be identical: same kernels, same GEMM
# algorithms), then the benchmark report. Exit 77 without a device.
run=$1 test=$2 ptx=$3
dir=$(mktemp -d /tmp/mm01-run-engine-XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$test" --has-device
case $? in
  0) ;;
  77|127) echo "SKIP: no CUDA device"; exit 77 ;;
  *) exit 1 ;;
esac
"$test" --write-engine "$dir" "$ptx" || exit 1
"$run" "$dir/toy.mm01" --input-ids "$dir/ids.npy" --prompt-lengths 8,3,5 --generate 6 \
  --dump "$dir/graph.npz" -v || exit 1
"$run" "$dir/toy.mm01" --input-ids "$dir/ids.npy" --prompt-lengths 8,3,5 --generate 6 \
  --dump "$dir/eager.npz" --no-graph || exit 1
cmp "$dir/graph.npz" "$dir/eager.npz" || { echo "FAIL: graph and eager dumps differ"; exit 1; }
"$run" "$dir/toy.mm01" --input-ids "$dir/ids.npy" --prompt-lengths 8,3,5 \
  --benchmark --benchmark-steps 16 > "$dir/bench.txt" || exit 1
cat "$dir/bench.txt"
for field in ttft prefill decode device; do
  grep -q "^$field " "$dir/bench.txt" || { echo "FAIL: no '$field' in the report"; exit 1; }
done
# Refusals with one line each.
out=$("$run" "$dir/toy.mm01" --input-ids "$dir/ids.npy" --dtype=bf16 2>&1) && exit 1
echo "$out" | grep -q "^mm01-run: error: --dtype applies to the CPU target" || { echo "FAIL: $out"; exit 1; }
out=$("$run" "$dir/toy.mm01" --input-ids "$dir/ids.npy" --generate 60 2>&1) && exit 1
echo "$out" | grep -q "exceed the engine's max context 64" || { echo "FAIL: $out"; exit 1; }
echo "ok"
