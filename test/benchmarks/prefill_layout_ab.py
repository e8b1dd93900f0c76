"""A/B of the prefill kernels' input layouts on one GPU, in one run.

The same plan compiled for three layouts of q, k, v (test pass option
`layout`): `interleaved` [T, H, 3D] (the checkpoint's QKV projection),
`blocked` [T, 3, H, D] (the projection's rows grouped q | k | v) and
`separate` (three [T, H, D] buffers). Per shape, one set of random inputs
is written in each layout; the launcher (--io) runs each layout's cubin in
rounds whose order rotates, and the script checks that the three give
bit-identical outputs and final states (same arithmetic, other addresses).

usage (on a GPU machine, cubins built with mm01-opt, see
test/benchmarks/timeline_probe.py for the pipeline):
  python3 test/benchmarks/prefill_layout_ab.py --launcher mm01-gpu-lightning-prefill \\
      --cubin 8:interleaved=b_h8_interleaved.bin.mlir --cubin 8:blocked=... \\
      --shapes 8:32768,64:32768 --rounds 3 --out DIR
Writes DIR/prefill-layout-ab.json and .md; prints the table.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

from probe_record import write_record

LAYOUTS = ("interleaved", "blocked", "separate")


def write_inputs(root, heads, tokens, seed=1):
    """One random call of one sequence, written in all three layouts."""
    import numpy as np
    import torch
    D = 128
    g = torch.Generator(device="cuda")
    g.manual_seed(seed)
    qkv = (torch.rand(tokens, heads, 3, D, device="cuda", generator=g) * 2 - 1).to(torch.bfloat16)
    s0 = (torch.rand(1, heads, D, D, device="cuda", generator=g) * 2 - 1).cpu().numpy()
    cu = np.array([0, tokens], dtype=np.int32)
    dirs = {}
    for layout in LAYOUTS:
        d = os.path.join(root, f"h{heads}_t{tokens}_{layout}")
        os.makedirs(d, exist_ok=True)
        s0.tofile(d + "/s.bin")
        cu.tofile(d + "/cu.bin")
        if layout == "interleaved":
            qkv.view(torch.int16).cpu().numpy().tofile(d + "/qkv.bin")
        elif layout == "blocked":
            qkv.transpose(1, 2).contiguous().view(torch.int16).cpu().numpy().tofile(d + "/qkv.bin")
        else:
            for i, n in enumerate("qkv"):
                qkv[:, :, i].contiguous().view(torch.int16).cpu().numpy().tofile(f"{d}/{n}.bin")
        dirs[layout] = d
    return dirs


def run(launcher, cubin, d):
    p = subprocess.run([launcher, "--io", d + ":1", cubin], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{launcher} --io {d}:1 {cubin} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    dev = re.search(r"^device: (.*)$", p.stdout, re.M)
    res = re.search(r"RESULT (\{.*\})", p.stdout)
    if not res:
        sys.exit(f"no RESULT line from {launcher}:\n{p.stdout}")
    return (dev.group(1) if dev else "?"), json.loads(res.group(1))


def same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--launcher", required=True)
    ap.add_argument("--cubin", action="append", default=[],
                    help="H:LAYOUT=FILE (one per heads and layout)")
    ap.add_argument("--shapes", required=True, help="comma-separated H:T")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", default="/tmp/prefill_layout_ab")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cubins = {}
    for c in a.cubin:
        m = re.fullmatch(r"(\d+):(\w+)=(.+)", c)
        if not m or m.group(2) not in LAYOUTS:
            sys.exit(f"--cubin {c}: expected H:LAYOUT=FILE with LAYOUT one of {', '.join(LAYOUTS)}")
        cubins[(int(m.group(1)), m.group(2))] = m.group(3)
    os.makedirs(a.out, exist_ok=True)
    device, rows = "?", []
    for shape in a.shapes.split(","):
        if not re.fullmatch(r"\d+:\d+", shape):
            sys.exit(f"--shapes: '{shape}' is not H:T")
        h, t = (int(x) for x in shape.split(":"))
        layouts = [l for l in LAYOUTS if (h, l) in cubins]
        if len(layouts) < 2:
            sys.exit(f"shape H{h}: need cubins of at least two layouts, have {layouts}")
        dirs = write_inputs(a.work, h, t)
        times = {l: {"ms": [], "graph_ms_per_call": []} for l in layouts}
        for r in range(a.rounds):
            order = layouts[r % len(layouts):] + layouts[:r % len(layouts)]
            for l in order:
                device, res = run(a.launcher, cubins[(h, l)], dirs[l])
                for k in times[l]:
                    times[l][k].append(res[k])
        ref = layouts[0]
        for l in layouts[1:]:
            for f in ("o.out", "s.out"):
                if not same_bytes(f"{dirs[ref]}/{f}", f"{dirs[l]}/{f}"):
                    sys.exit(f"H{h} T{t}: {f} of layout {l} differs from {ref}'s")
        for l in layouts:
            row = {"shape": f"B1 H{h} T{t}", "layout": l, "device": device,
                   "ms": times[l]["ms"], "graph_ms_per_call": times[l]["graph_ms_per_call"],
                   "median_ms": statistics.median(times[l]["ms"]),
                   "median_graph_ms": statistics.median(times[l]["graph_ms_per_call"])}
            rows.append(row)
            print(json.dumps(row), flush=True)
        for l in layouts:
            for f in os.listdir(dirs[l]):
                os.remove(os.path.join(dirs[l], f))
    base = {r["shape"]: r["median_ms"] for r in rows if r["layout"] == "interleaved"}
    lines = [f"device: {device}; {a.rounds} rounds, rotating order; outputs and final states "
             "bit-identical across layouts", "",
             "| shape | layout | ms (median, back-to-back) | runs | graph ms/call (median) | vs interleaved |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        rel = f"{base[r['shape']] / r['median_ms']:.3f}×" if r["shape"] in base else "–"
        lines.append(f"| {r['shape']} | {r['layout']} | {r['median_ms']:.4f} | "
                     f"{', '.join(f'{x:.4f}' for x in r['ms'])} | {r['median_graph_ms']:.4f} | {rel} |")
    write_record(a.out, "prefill-layout-ab", lines, rows)


if __name__ == "__main__":
    main()
