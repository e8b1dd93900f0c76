"""Sustained prefill calls, ours and fla's, against the GPU's clock and power.

A benchmark's median over ~0.2 s of calls can mix two regimes: the GPU
starts a burst at its top SM clock and, where the calls draw enough power,
lowers it under the board's power cap within a fraction of a second. This
probe runs each side back to back for --seconds (ours: the launcher's
--sustain; fla: chunk_simple_gla in batches of calls, CUDA-event timed)
with nvidia-smi sampling SM clock, power and the active clock-event reasons
every 20 ms, a pause between the two, and reports per side: the batches of
its first 150 ms against those after 500 ms (median ms per call), and over
the samples in its span the median SM clock and the share with the
software power cap (reason bit 0x4) active.

usage (GPU machine; fla importable, e.g. PYTHONPATH=/tmp/site as
run_prefill_bench.sh installs it):
  python3 test/benchmarks/power_probe.py --launcher mm01-gpu-lightning-prefill \\
      --cubin 64=b_h64_d128_auto.bin.mlir --shapes 64:32768 --seconds 2 --out DIR
With --stream-probe build/test/gpu/stream_mix_probe, the arithmetic-free
3 : 1 stream of B1 H64 T32K's bytes is sustained first, the same way.
Writes DIR/power-probe.json and .md, and the raw samples DIR/smi-*.csv.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from prefill_bench import D, lambdas  # the benchmark's head dim and decays
from probe_record import write_record

POWER_CAP = 0x4  # nvidia-smi clocks_event_reasons: SW power cap


def write_inputs(d, H, T, seed=1):
    import numpy as np
    import torch
    os.makedirs(d, exist_ok=True)
    g = torch.Generator(device="cuda")
    g.manual_seed(seed)
    qkv = (torch.rand(T, H, 3 * D, device="cuda", generator=g) * 2 - 1).to(torch.bfloat16)
    s0 = torch.rand(1, H, D, D, device="cuda", generator=g) * 2 - 1
    qkv.view(torch.int16).cpu().numpy().tofile(d + "/qkv.bin")
    s0.cpu().numpy().tofile(d + "/s.bin")
    np.array([0, T], dtype=np.int32).tofile(d + "/cu.bin")
    return qkv, s0


def stream_series(probe, seconds):
    """The arithmetic-free 3 : 1 stream of B1 H64 T32K's bytes (4 x 512 MiB)."""
    p = subprocess.run([probe, "512", "--sustain", str(seconds)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{probe} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return [(r["wall_ms"], r["ms"]) for r in
            (json.loads(line[8:]) for line in p.stdout.splitlines() if line.startswith("SUSTAIN "))]


def ours_series(launcher, cubin, d, seconds):
    p = subprocess.run([launcher, "--io", d + ":1", "--sustain", str(seconds), cubin],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{launcher} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    out = []
    for line in p.stdout.splitlines():
        if line.startswith("SUSTAIN "):
            r = json.loads(line[8:])
            out.append((r["wall_ms"], r["ms"]))
        elif line.startswith("RESULT "):
            calls = json.loads(line[7:])["calls_per_batch"]
    return calls, out


def fla_series(qkv, s0, H, seconds, calls):
    import torch
    from fla.ops.simple_gla import chunk_simple_gla
    import peer_autotune
    peer_autotune.reset()  # configs tuned for this shape (peer_autotune.py)
    q, k, v = (qkv[..., i * D:(i + 1) * D].contiguous().unsqueeze(0) for i in range(3))
    gg = (-lambdas(H)).float().cuda()

    def call():
        return chunk_simple_gla(q, k, v, g_gamma=gg, scale=1.0, initial_state=s0,
                                output_final_state=True)
    for _ in range(3):  # compile and tune outside the series
        call()
    torch.cuda.synchronize()
    time.sleep(3)  # let the clocks recover from the tuning
    out, start = [], time.time()
    while time.time() - start < seconds:
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        for _ in range(calls):
            call()
        e1.record()
        e1.synchronize()
        out.append((int(time.time() * 1000), e0.elapsed_time(e1) / calls))
    return out


def read_smi(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = [x.strip() for x in line.split(",")]
            if len(parts) < 4 or not parts[0][:1].isdigit():
                continue
            try:
                t = time.mktime(time.strptime(parts[0][:19], "%Y/%m/%d %H:%M:%S"))
                t = t * 1000 + int(parts[0][20:23])
                rows.append((t, float(parts[1].split()[0]), float(parts[2].split()[0]),
                             int(parts[3], 16)))
            except ValueError:
                continue
    return rows


def summarize(series, smi):
    """series: (wall ms at batch end, ms per call); smi: (wall ms, MHz, W, reasons)."""
    if not series:
        return None
    t0 = series[0][0] - series[0][1]  # roughly when the first batch began
    early = [ms for w, ms in series if w - t0 <= 150]
    late = [ms for w, ms in series if w - t0 >= 500]
    span = [r for r in smi if t0 <= r[0] <= series[-1][0]]
    late_span = [r for r in span if r[0] - t0 >= 500]
    return {
        "batches": len(series),
        "first_150ms_ms": statistics.median(early) if early else None,
        "after_500ms_ms": statistics.median(late) if late else None,
        "min_ms": min(ms for _, ms in series), "max_ms": max(ms for _, ms in series),
        "sm_mhz_median_after_500ms": statistics.median(r[1] for r in late_span) if late_span else None,
        "power_cap_share_after_500ms": (sum(1 for r in late_span if r[3] & POWER_CAP) / len(late_span))
        if late_span else None,
        "power_w_max": max((r[2] for r in span), default=None),
        "series": series,
    }


def main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import peer_autotune
    peer_autotune.disable_disk_cache()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--launcher", required=True)
    ap.add_argument("--cubin", action="append", default=[], help="H=FILE")
    ap.add_argument("--shapes", required=True, help="comma-separated H:T (B = 1)")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--no-fla", action="store_true")
    ap.add_argument("--stream-probe", help="stream_mix_probe: its 3 : 1 stream sustained as well")
    ap.add_argument("--work", default="/tmp/power_probe")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cubins = {}
    for c in a.cubin:
        h, eq, f = c.partition("=")
        if not (h.isdigit() and eq and f):
            sys.exit(f"--cubin {c}: expected H=FILE")
        cubins[int(h)] = f
    shapes = []
    for shape in a.shapes.split(","):
        if shape.count(":") != 1 or not all(x.isdigit() for x in shape.split(":")):
            sys.exit(f"--shapes: '{shape}' is not H:T")
        H, T = (int(x) for x in shape.split(":"))
        if H not in cubins:
            sys.exit(f"shape {shape}: no --cubin {H}=FILE")
        shapes.append((H, T))
    os.makedirs(a.out, exist_ok=True)
    try:
        name = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                              capture_output=True, text=True).stdout.strip()
    except FileNotFoundError:
        sys.exit("power_probe.py samples the GPU with nvidia-smi, which is not on PATH")
    rows = []

    def sampled(tag, run):
        """run() under nvidia-smi sampling every 20 ms; its result and the samples."""
        path = os.path.join(a.out, f"smi-{tag}.csv")
        smi = subprocess.Popen(["nvidia-smi", "--query-gpu=timestamp,clocks.sm,power.draw,"
                                "clocks_event_reasons.active", "--format=csv,noheader", "-lms", "20"],
                               stdout=open(path, "w"), stderr=subprocess.STDOUT)
        try:
            time.sleep(1)
            out = run()
            time.sleep(0.5)
        finally:
            smi.terminate()
            smi.wait()
        return out, read_smi(path)

    if a.stream_probe:
        series, samples = sampled("stream", lambda: stream_series(a.stream_probe, a.seconds))
        s = summarize(series, samples)
        s.update({"shape": "4 x 512 MiB (B1 H64 T32K's bytes)", "who": "3 : 1 stream, no arithmetic",
                  "device": name, "calls_per_batch": 10})
        rows.append(s)
        print(json.dumps({k: v for k, v in s.items() if k != "series"}), flush=True)
    for H, T in shapes:
        d = os.path.join(a.work, f"h{H}_t{T}")
        qkv, s0 = write_inputs(d, H, T)

        def both():
            calls, ours = ours_series(a.launcher, cubins[H], d, a.seconds)
            time.sleep(3)
            return calls, ours, ([] if a.no_fla else fla_series(qkv, s0, H, a.seconds, calls))
        (calls, ours, fla), samples = sampled(f"h{H}-t{T}", both)
        for who, series in (("ours", ours), ("fla chunk_simple_gla", fla)):
            s = summarize(series, samples)
            if s:
                s.update({"shape": f"B1 H{H} T{T}", "who": who, "device": name,
                          "calls_per_batch": calls})
                rows.append(s)
                print(json.dumps({k: v for k, v in s.items() if k != "series"}), flush=True)
    lines = [f"device: {name}; {a.seconds:g} s of back-to-back calls per side; nvidia-smi every 20 ms", "",
             "| shape | who | ms, first 150 ms | ms, after 500 ms | min / max ms | SM MHz after 500 ms | power cap active after 500 ms | max W (smi) |",
             "|---|---|---|---|---|---|---|---|"]
    f = lambda x, p=4: "–" if x is None else f"{x:.{p}f}"  # noqa: E731
    for r in rows:
        share = r["power_cap_share_after_500ms"]
        lines.append(f"| {r['shape']} | {r['who']} | {f(r['first_150ms_ms'])} | {f(r['after_500ms_ms'])} | "
                     f"{f(r['min_ms'])} / {f(r['max_ms'])} | {f(r['sm_mhz_median_after_500ms'], 0)} | "
                     f"{'–' if share is None else f'{share:.0%}'} | {f(r['power_w_max'], 0)} |")
    write_record(a.out, "power-probe", lines, rows)


if __name__ == "__main__":
    main()
