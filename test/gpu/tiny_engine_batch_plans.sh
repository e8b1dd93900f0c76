#!/bin/sh
# The minimax-tiny engine compiled for up to 40 sequences: its lightning
# decode has two kernels (docs/gpu-codegen.md, "Decode tiling"), a 16-column
# one for calls of at most 33 sequences and a 64-column one above, chosen
# per call by the launches' `when`. Both must match HF's float32 reference:
#   1. 40 sequences (the fixture's two prompts, 20 times each; decode runs
#      the 64-column kernel): prefill logits and 16 forced decode steps of
#      every sequence within 2 x hf_bf16_logits_max_abs_err of its prompt's
#      reference, and the CUDA-graph and eager dumps identical;
#   2. the two prompts alone (the 16-column kernel), the same bounds.
# usage: tiny_engine_batch_plans.sh MM01_RUN ENGINE FIXTURE_DIR RUNNER_INPUTS_DIR
# Exit 77 without a CUDA device.
run=$1 engine=$2 fixture=$3 inputs=$4
dir=$(mktemp -d /tmp/mm01-tiny-plans-XXXXXX)
trap 'rm -rf "$dir"' EXIT
ref="$fixture/reference.npz"
python3 "$inputs/fixture_inputs.py" "$ref" "$dir" || exit 1
python3 - "$dir" <<'PY' || exit 1
import sys, numpy as np
d = sys.argv[1]
for name in ("ids", "forced"):
    np.save(f"{d}/{name}40.npy", np.tile(np.load(f"{d}/{name}.npy"), (20, 1)))
PY

out=$("$run" "$engine" --input-ids "$dir/ids40.npy" --force-ids "$dir/forced40.npy" \
  --dump "$dir/b40.npz" -v 2>&1)
rc=$?
echo "$out" | tail -3
if [ $rc -ne 0 ]; then
  echo "$out" | grep -q "no CUDA device" && { echo "SKIP: no CUDA device"; exit 77; }
  exit 1
fi
echo "== 40 sequences (the 64-column decode kernel) vs the float32 reference"
python3 - "$ref" "$dir/b40.npz" <<'PY' || exit 1
import sys, numpy as np
ref, out = np.load(sys.argv[1]), np.load(sys.argv[2])
bound = 2 * float(ref["hf_bf16_logits_max_abs_err"])
ok = True
for name in ("logits", "generated_logits"):
    got, want = out[name], ref[name]
    if got.shape[0] != 40 or got.shape[1:] != want.shape[1:]:
        print("%s: shape %s, expected [40, %s]" % (name, got.shape, want.shape[1:]))
        sys.exit(1)
    err = max(float(np.max(np.abs(got[b].astype(np.float64) - want[b % 2].astype(np.float64))))
              if np.all(np.isfinite(got[b])) else float("inf") for b in range(40))
    print("%s, worst of 40 sequences: max abs err %.3e (bound %.1e) %s"
          % (name, err, bound, "ok" if err <= bound else "FAIL"))
    ok &= err <= bound
sys.exit(0 if ok else 1)
PY
"$run" "$engine" --input-ids "$dir/ids40.npy" --force-ids "$dir/forced40.npy" \
  --dump "$dir/b40_eager.npz" --no-graph > /dev/null || exit 1
cmp "$dir/b40.npz" "$dir/b40_eager.npz" && echo "CUDA graph and eager dumps identical" \
  || { echo "FAIL: graph and eager dumps differ"; exit 1; }

echo "== 2 sequences (the 16-column decode kernel) vs the float32 reference"
"$run" "$engine" --input-ids "$dir/ids.npy" --force-ids "$dir/forced.npy" \
  --dump "$dir/b2.npz" > /dev/null || exit 1
python3 "$inputs/compare.py" "$ref" "$dir/b2.npz" --bf16-factor 2 --generated-logits 0 || exit 1
echo "ok"
