"""Compares an mm01-run dump with a reference .npz and fails past a bound.

  compare.py REF.npz OUT.npz [--logits TOL] [--hidden TOL]
             [--generated-ids] [--generated-logits TOL] [--batch-row B]
             [--bf16-factor F]

Prints one line per check ("<name> max abs err <e> (bound <tol>)") and exits
1 if any bound is exceeded, the arrays differ in shape, or anything is NaN.
--bf16-factor F sets every float bound to F * ref['hf_bf16_logits_max_abs_err'].
--batch-row B compares OUT (a single-sequence run) with row B of REF.
"""
import argparse
import sys

import numpy as np

p = argparse.ArgumentParser()
p.add_argument("ref")
p.add_argument("out")
p.add_argument("--logits", type=float)
p.add_argument("--hidden", type=float)
p.add_argument("--generated-ids", action="store_true")
p.add_argument("--generated-logits", type=float)
p.add_argument("--batch-row", type=int)
p.add_argument("--bf16-factor", type=float)
a = p.parse_args()

ref, out = np.load(a.ref), np.load(a.out)
failed = False


def ref_array(name):
    r = ref[name]
    if a.batch_row is not None and name != "hidden_states":
        r = r[a.batch_row:a.batch_row + 1]
    return r


def check(name, tol, got, want):
    global failed
    if a.bf16_factor is not None:
        tol = a.bf16_factor * float(ref["hf_bf16_logits_max_abs_err"])
    if got.shape != want.shape:
        print("%s: shape %s, expected %s" % (name, got.shape, want.shape))
        failed = True
        return
    if not np.all(np.isfinite(got)):
        print("%s: non-finite values" % name)
        failed = True
        return
    err = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
    ok = err <= tol
    failed |= not ok
    print("%s max abs err %.3e (bound %.1e) %s" % (name, err, tol, "ok" if ok else "FAIL"))


if a.logits is not None or a.bf16_factor is not None:
    check("logits", a.logits or 0, out["logits"], ref_array("logits"))
if a.hidden is not None:
    # The reference holds the first sequence's hidden states: [L+1, T, d].
    row = a.batch_row or 0
    got = out["hidden_states"][:, 0 if a.batch_row is not None else row]
    want = ref["hidden_states"]
    for layer in range(want.shape[0]):
        check("hidden_states[%d]" % layer, a.hidden, got[layer], want[layer])
if a.generated_ids:
    got, want = out["generated_ids"], ref_array("generated_ids")
    same = got.shape == want.shape and bool(np.all(got == want))
    failed |= not same
    print("generated_ids %s" % ("equal" if same else "DIFFER:\n%s\n%s" % (got, want)))
if a.generated_logits is not None:
    check("generated_logits", a.generated_logits, out["generated_logits"],
          ref_array("generated_logits"))
sys.exit(1 if failed else 0)
