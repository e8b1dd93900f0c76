"""Writes the fixture's prompt and continuation as .npy files for mm01-run.

  fixture_inputs.py REFERENCE.npz OUTDIR
writes OUTDIR/ids.npy (int64 [2, 600]), OUTDIR/forced.npy (the reference
continuation, int64 [2, 16]) and single-sequence variants ids0.npy, ids1.npy.
"""
import os
import sys

import numpy as np

ref = np.load(sys.argv[1])
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
ids = ref["input_ids"]
np.save(os.path.join(out, "ids.npy"), ids)
np.save(os.path.join(out, "forced.npy"), ref["generated_ids"])
for b in range(ids.shape[0]):
    np.save(os.path.join(out, "ids%d.npy" % b), ids[b:b + 1])
