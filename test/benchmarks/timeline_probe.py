"""Per-block timeline of the split lightning prefill.

A cubin with the probe (here, with LLVM; the test pass's probe-timeline
option, split wgmma plans only):
  build/bin/mm01-opt /dev/null "--pass-pipeline=builtin.module(
    mm01-test-lightning-prefill-kernel{heads=8 dim=128 max-batch=8
    max-tokens=524288 wgmma=1 probe-timeline=1},nvvm-attach-target{
    chip=sm_90a features=+ptx80 O=3},gpu.module(convert-scf-to-cf,
    convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1},canonicalize,cse),
    reconcile-unrealized-casts,gpu-module-to-binary{format=bin
    toolkit=/usr/local/cuda})" -o tl.bin.mlir
On a GPU (one timed --io run, then one more call that writes the records):
  python3 test/benchmarks/timeline_probe.py inputs /tmp/tl/t32k 8 32768
  mm01-gpu-lightning-prefill --io /tmp/tl/t32k:1 --timeline /tmp/tl/t32k.tl tl.bin.mlir
  python3 test/benchmarks/timeline_probe.py analyze /tmp/tl/t32k.tl
Records (64 bytes of u64 %globaltimer ns, per block lin = x + y*gridDim.x
< 4096): local states [start, -, end, smid]; outputs [start, the state
warpgroup saw its head's scan count, end, smid, griddepcontrol.wait
returned, first scan item done, all items done]; the outputs' first chunk
(after the scanned slot is read) in a third region. The report gives µs
from the first block's start, the hand-over's steps over the outputs
blocks, and each SM's mean outputs-block duration (first chunk to end).
"""
import os
import sys

import numpy as np


def inputs(d, heads, tokens):
    import torch
    D = 128
    os.makedirs(d, exist_ok=True)
    g = torch.Generator(device="cuda")
    g.manual_seed(1)
    qkv = (torch.rand(tokens, heads, 3 * D, device="cuda", generator=g) * 2 - 1).to(torch.bfloat16)
    s0 = torch.rand(1, heads, D, D, device="cuda", generator=g) * 2 - 1
    qkv.view(torch.int16).cpu().numpy().tofile(d + "/qkv.bin")
    s0.cpu().numpy().tofile(d + "/s.bin")
    np.array([0, tokens], dtype=np.int32).tofile(d + "/cu.bin")


def analyze(path):
    a = np.fromfile(path, dtype=np.uint64).reshape(-1, 8)
    st, out, go = a[:4096], a[4096:8192], a[3 * 4096:4 * 4096, 0]
    sv, ov = st[:, 0] > 0, out[:, 0] > 0
    t0 = int(min(st[sv, 0].min(), out[ov, 0].min()))

    def us(x):
        return (x.astype(np.int64) - t0) / 1e3

    # Working outputs blocks: those that reached their first chunk (plans
    # without a wait or a scan in the outputs kernel leave those columns 0).
    act = np.nonzero(ov & (go > 0))[0]
    if not sv.any() or len(act) == 0:
        print(f"{path}: no local-states or no working outputs blocks recorded "
              "(a plan built with probe-timeline=1?)")
        return
    print(f"{path}: {sv.sum()} local-states blocks (median end {np.median(us(st[sv, 2])):.1f} µs, "
          f"last {us(st[sv, 2]).max():.1f} µs), {len(act)} working outputs blocks")
    for name, col in [("start", out[act, 0]), ("wait returned", out[act, 4]),
                      ("first item done", out[act, 5]), ("items done", out[act, 6]),
                      ("counts seen", out[act, 1]), ("first chunk", go[act]),
                      ("end", out[act, 2])]:
        v = us(col[col > 0])
        if len(v) == 0:
            print(f"  {name:16s} – (not in this plan)")
            continue
        print(f"  {name:16s} min {v.min():7.1f}  median {np.median(v):7.1f}  max {v.max():7.1f}")
    # Outputs blocks' speed by SM (first chunk to end).
    per_sm = {}
    for i in act:
        if go[i] > 0:
            per_sm.setdefault(int(out[i, 3]), []).append((int(out[i, 2]) - int(go[i])) / 1e3)
    print("  first chunk to end by SM: " +
          " ".join(f"{sm}:{np.mean(v):.1f}" for sm, v in sorted(per_sm.items())))


if __name__ == "__main__":
    if sys.argv[1] == "inputs":
        inputs(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        for p in sys.argv[2:]:
            analyze(p)
