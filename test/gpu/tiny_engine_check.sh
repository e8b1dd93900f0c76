#!/bin/sh
# The minimax-tiny engine (bf16) on a GPU against HF's float32 reference:
#   1. prefill of both 600-token prompts, then 16 decode steps fed the
#      reference continuation (--force-ids): prefill logits and every step's
#      logits within 2 x hf_bf16_logits_max_abs_err;
#   2. the same prompts with different lengths (600 and 377 tokens) in one
#      batch: each sequence's logits within the same bound;
#   3. decode through the CUDA graph and eagerly give identical dumps;
#   4. the benchmark report (time to first token, tokens/s).
# usage: tiny_engine_check.sh MM01_RUN ENGINE FIXTURE_DIR RUNNER_INPUTS_DIR
# Exit 77 without a CUDA device.
run=$1 engine=$2 fixture=$3 inputs=$4
dir=$(mktemp -d /tmp/mm01-tiny-engine-XXXXXX)
trap 'rm -rf "$dir"' EXIT
ref="$fixture/reference.npz"
python3 "$inputs/fixture_inputs.py" "$ref" "$dir" || exit 1

out=$("$run" "$engine" --input-ids "$dir/ids.npy" --force-ids "$dir/forced.npy" \
  --dump "$dir/forced.npz" -v 2>&1)
rc=$?
echo "$out"
if [ $rc -ne 0 ]; then
  echo "$out" | grep -q "no CUDA device" && { echo "SKIP: no CUDA device"; exit 77; }
  exit 1
fi
echo "== prefill + forced decode vs the float32 reference"
python3 "$inputs/compare.py" "$ref" "$dir/forced.npz" --bf16-factor 2 \
  --generated-logits 0 || exit 1

echo "== greedy decode (bf16 may choose another token at a near-tie: reported, not checked)"
"$run" "$engine" --input-ids "$dir/ids.npy" --generate 16 --dump "$dir/greedy.npz" || exit 1
python3 - "$ref" "$dir/greedy.npz" <<'PY'
import sys, numpy as np
ref, out = np.load(sys.argv[1]), np.load(sys.argv[2])
same = (out["generated_ids"] == ref["generated_ids"])
print("greedy ids equal to the reference: %d of %d" % (same.sum(), same.size))
PY

echo "== mixed lengths 600, 377 in one batch"
"$run" "$engine" --input-ids "$dir/ids.npy" --prompt-lengths 600,377 \
  --dump "$dir/mixed.npz" || exit 1
python3 - "$ref" "$dir/mixed.npz" 600 377 <<'PY' || exit 1
import sys, numpy as np
ref, out = np.load(sys.argv[1]), np.load(sys.argv[2])
lengths = [int(x) for x in sys.argv[3:]]
bound = 2 * float(ref["hf_bf16_logits_max_abs_err"])
got = out["logits"]
ok = True
for b, L in enumerate(lengths):
    g = got[b, :L].astype(np.float64)
    w = ref["logits"][b, :L].astype(np.float64)
    err = float(np.max(np.abs(g - w))) if np.all(np.isfinite(g)) else float("inf")
    print("sequence %d (%d tokens) logits max abs err %.3e (bound %.1e) %s"
          % (b, L, err, bound, "ok" if err <= bound else "FAIL"))
    ok &= err <= bound
sys.exit(0 if ok else 1)
PY

echo "== decode: CUDA graph vs eager"
"$run" "$engine" --input-ids "$dir/ids.npy" --force-ids "$dir/forced.npy" \
  --dump "$dir/eager.npz" --no-graph || exit 1
cmp "$dir/forced.npz" "$dir/eager.npz" && echo "identical" || { echo "FAIL: graph and eager dumps differ"; exit 1; }

echo "== benchmark"
"$run" "$engine" --input-ids "$dir/ids.npy" --benchmark --benchmark-steps 64 || exit 1
echo "ok"
