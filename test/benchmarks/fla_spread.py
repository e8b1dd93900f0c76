"""How much of fla's time at one prefill shape is its own autotuning.

  python3 test/benchmarks/fla_spread.py [--procs N] [--shape b1_h64_t32k]

Runs N fresh processes, each with an empty Triton cache (so each autotunes
anew), that time fla's chunk_simple_gla on the prefill benchmark's inputs
for the shape (eager and CUDA-graph replay, as prefill_bench.py does) and
print the configs its autotuned kernels chose. The spread of fla's time
across H200 runs (1.46-1.94 ms graph, 1.62-2.35 eager at B1 H64 T32K) is
either the machines' or fla's autotuner's; this tells them apart on one
machine. (Its answer, docs/benchmarks/fla-spread-h200-2026-11-28z.md: the
same configs in every process. The spread came from full benchmark runs
that reused the configs tuned at their first shape, which
peer_autotune.py now prevents.)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def child(shape):
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from prefill_bench import D, SHAPES, lambdas, time_fn, time_graph  # noqa: E402
    from fla.ops.simple_gla import chunk_simple_gla
    import triton.runtime.autotuner as at
    _, H, lens = dict((s[0], s) for s in SHAPES)[shape]
    if len(lens) != 1:
        raise SystemExit(f"{shape}: one sequence only")
    T = lens[0]
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, T, H, D, dtype=torch.bfloat16, device="cuda") * 0.5 for _ in range(3))
    s0 = torch.randn(1, H, D, D, dtype=torch.float32, device="cuda") * 0.1
    gg = (-lambdas(H)).float().cuda()

    def call():
        return chunk_simple_gla(q, k, v, g_gamma=gg, scale=1.0, initial_state=s0,
                                output_final_state=True)
    call()
    eager = time_fn(call, reps=7)
    graph = time_graph(call, reps=7, per_replay=4)
    chosen = {}
    import gc
    for o in gc.get_objects():
        if isinstance(o, at.Autotuner) and getattr(o, "best_config", None) is not None:
            chosen[getattr(o.fn, "__name__", str(o.fn))] = str(o.best_config)
    print(json.dumps({"eager_ms": eager, "graph_ms": graph, "configs": chosen}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--shape", default="b1_h64_t32k")
    ap.add_argument("--child", action="store_true")
    a = ap.parse_args()
    if a.child:
        return child(a.shape)
    runs = []
    for i in range(a.procs):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, TRITON_CACHE_DIR=cache)
            r = subprocess.run([sys.executable, __file__, "--child", "--shape", a.shape],
                               env=env, capture_output=True, text=True)
            if r.returncode != 0:
                print(r.stderr[-2000:])
                return 1
            rec = json.loads(r.stdout.strip().splitlines()[-1])
            runs.append(rec)
            print(f"process {i}: eager {rec['eager_ms']:.3f} ms, graph {rec['graph_ms']:.3f} ms", flush=True)
            for kname, cfg in sorted(rec["configs"].items()):
                print(f"    {kname}: {cfg}")
    print(json.dumps({"shape": a.shape, "runs": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
