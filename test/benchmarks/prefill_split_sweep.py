"""Times mm01's lightning prefill plan for several sequence splits (segment
counts) on the prefill benchmark's shapes, in one run on one GPU: the data
behind chooseLightningPrefillTiles (the rule mm01-select-tiles applies).

  python3 test/benchmarks/prefill_split_sweep.py --launcher L --cubins DIR --out OUT

DIR holds b_h{H}_d128_s{NS}[m{MIN}][x{SHORTEST}][_TAG].bin.mlir: the kernels
of mm01-test-lightning-prefill-kernel with segments=NS (and
min-segment-tokens=MIN, default 1024; shortest-segment-tokens=SHORTEST,
default 512, 1024 = the split before the short-call rule; TAG names another
kernel family of the same plan, e.g. _wg for wgmma=1), e.g.
  mm01-opt /dev/null "--mm01-test-lightning-prefill-kernel=heads=64 dim=128
      max-batch=1 max-tokens=32768 segments=2"
      "--mm01-gpu-kernel-codegen=format=bin" -o DIR/b_h64_d128_s2.bin.mlir
With --rounds N every variant is timed N times, a round of all variants
after another, and each one's median and range are printed: differences of
a few percent need that (one H200 timed the same cubin 0.570 and 0.584 ms
within one sweep). With --overlap-ab every variant also runs with the launcher's --no-overlap
(the scan and outputs kernels launched plainly instead of overlapping the
kernel before them): what programmatic dependent launch gives.
Every variant runs on the same inputs; their outputs and final states must
agree (they differ only in where the sequence is split: fp32 state sums in a
different order, outputs rounded to bf16; a variant with the state update
rounded to bf16 throughout, state-hilo=0, agrees to bf16 grade), which is
checked against the first variant (give it the hi + lo update). Writes OUT/split-sweep.json and prints a table (ms, GB/s on the bytes
that must move, % of the copy bandwidth measured in the same run).
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prefill_bench import D, SHAPES, copy_gbps  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", required=True)
    ap.add_argument("--cubins", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default="/tmp/mm01-split-sweep")
    ap.add_argument("--shapes", default="", help="comma-separated names (default: all)")
    ap.add_argument("--extra", default="",
                    help="more shapes, comma-separated H:LEN[+LEN...] (e.g. 8:8192,8:2048+6000)")
    ap.add_argument("--overlap-ab", action="store_true",
                    help="also time each variant with the launcher's --no-overlap")
    ap.add_argument("--rounds", type=int, default=1,
                    help="time every variant this many times, one round of all variants "
                         "after another (A B C A B C ...: drift over the run spreads over "
                         "all of them), and print each one's median and range")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error(f"--rounds {args.rounds}: expected at least 1")
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.work, exist_ok=True)
    dev = torch.cuda.get_device_name()
    cg = copy_gbps()
    print(f"device: {dev}; copy bandwidth {cg:.0f} GB/s", flush=True)
    variants = {}
    for f in sorted(os.listdir(args.cubins)):
        m = re.fullmatch(r"b_h(\d+)_d128_s(\d+)(?:m(\d+))?(?:x(\d+))?(?:_(\w+))?\.bin\.mlir", f)
        if m:
            variants.setdefault(int(m.group(1)), []).append(
                (int(m.group(2)), int(m.group(3) or 1024), int(m.group(4) or 512),
                 m.group(5) or "", os.path.join(args.cubins, f)))
    gen = torch.Generator(device="cuda")
    gen.manual_seed(20261127)
    records, mismatches = [], []
    shapes = list(SHAPES)
    for e in filter(None, args.extra.split(",")):
        H, lens = e.split(":")
        lens = [int(x) for x in lens.split("+")]
        name = f"b{len(lens)}_h{H}_t{sum(lens)}"
        shapes.append((name, int(H), lens))
        if args.shapes:
            args.shapes += "," + name
    for name, H, lens in shapes:
        if (args.shapes and name not in args.shapes.split(",")) or H not in variants:
            continue
        B, T = len(lens), sum(lens)
        d = os.path.join(args.work, name)
        os.makedirs(d, exist_ok=True)
        qkv = (torch.rand(T, H, 3 * D, device="cuda", generator=gen) * 2 - 1).to(torch.bfloat16)
        s0 = torch.rand(B, H, D, D, device="cuda", generator=gen) * 2 - 1
        qkv.view(torch.int16).cpu().numpy().tofile(os.path.join(d, "qkv.bin"))
        s0.cpu().numpy().tofile(os.path.join(d, "s.bin"))
        np.array([0] + list(np.cumsum(lens)), dtype=np.int32).tofile(os.path.join(d, "cu.bin"))
        del qkv, s0
        nbytes = 4 * T * H * D * 2 + 2 * B * H * D * D * 4  # q, k, v read, o written; state in and out
        first = None
        runs = [(v, overlap, rnd) for rnd in range(args.rounds) for v in sorted(variants[H])
                for overlap in ([True, False] if args.overlap_ab else [True])]
        times = {}
        for (ns, mn, sh, tag, cubin), overlap, rnd in runs:
            cmd = [args.launcher, "--io", f"{d}:{B}", cubin] + ([] if overlap else ["--no-overlap"])
            p = subprocess.run(cmd, capture_output=True, text=True)
            r = next((json.loads(l[7:]) for l in p.stdout.splitlines() if l.startswith("RESULT ")), None)
            if r is None:
                print(p.stdout + p.stderr, flush=True)
                sys.exit(1)
            o = np.fromfile(os.path.join(d, "o.out"), dtype=np.int16).view(np.uint16).astype(np.uint32) << 16
            o = o.view(np.float32).astype(np.float64)
            s = np.fromfile(os.path.join(d, "s.out"), dtype=np.float32).astype(np.float64)
            if first is None:
                first = (o, s)
                do = ds = 0.0
            else:
                do = float(np.abs(o - first[0]).max() / np.abs(first[0]).max())
                ds = float(np.abs(s - first[1]).max() / np.abs(first[1]).max())
            gbps = nbytes / (r["ms"] * 1e-3) / 1e9
            rec = {"op": "lightning_prefill_split", "shape": name, "heads": H, "lens": lens,
                   "segments": ns, "min_segment_tokens": mn, "shortest_segment_tokens": sh,
                   "kernels": tag or "mma.sync", "overlap": overlap,
                   "round": rnd, "device": dev, "ours_ms": r["ms"], "kernel_ms": r.get("kernel_ms", []),
                   "effective_gbps": gbps, "copy_gbps": cg, "o_vs_first_max_rel": do,
                   "state_vs_first_max_rel": ds}
            records.append(rec)
            times.setdefault((ns, mn, sh, tag, overlap), []).append(r["ms"])
            print(f"{name:18s} NS={ns:3d} min={mn:5d} shortest={sh:5d} {tag or 'mma':4s} "
                  f"{'pdl' if overlap else 'plain':5s} {r['ms']:8.3f} ms  {gbps:7.0f} GB/s  "
                  f"{100 * gbps / cg:4.0f}% copy   o/first {do:.1e}  state/first {ds:.1e}  kernels "
                  + " ".join(f"{x:.3f}" for x in r.get("kernel_ms", [])), flush=True)
            # Splits change only the summation order: agreement within a
            # few bf16 ulps (outputs) and fp32-grade (state), or bf16-grade
            # for a variant whose state update is rounded to bf16 throughout
            # (the launcher's "hilo": 0; ~1.5e-3 against float64). A variant
            # that disagrees fails the run, after every variant has been
            # timed (one disagreeing variant used to discard the rest of a
            # run).
            state_tol = 1e-2 if r.get("hilo", 1) == 0 else 1e-4
            if do > 2e-2 or ds > state_tol:
                print(f"MISMATCH: {name} {tag or 'mma'} against the first variant", flush=True)
                mismatches.append(f"{name} {tag or 'mma'}")
        if args.rounds > 1:
            for (ns, mn, sh, tag, overlap), ts in times.items():
                print(f"{name:18s} NS={ns:3d} min={mn:5d} shortest={sh:5d} {tag or 'mma':4s} "
                      f"{'pdl' if overlap else 'plain':5s} median {float(np.median(ts)):8.3f} ms  "
                      f"range {min(ts):.3f}-{max(ts):.3f} over {len(ts)} rounds", flush=True)
    with open(os.path.join(args.out, "split-sweep.json"), "w") as f:
        json.dump(records, f, indent=1)
    if mismatches:
        print("MISMATCH between split variants: " + ", ".join(mismatches), flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
