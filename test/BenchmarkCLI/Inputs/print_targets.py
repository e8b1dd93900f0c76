"""Prints the issue's targets as the benchmarks compute them (prefill_target,
target_met) for committed benchmark records: argv[1] the benchmark scripts'
directory, argv[2] a prefill JSON, argv[3] (optional) a decode JSON."""
import json
import sys

sys.path.insert(0, sys.argv[1])
import decode_bench  # noqa: E402
import prefill_bench  # noqa: E402

prefill = json.load(open(sys.argv[2]))
for r in prefill["records"]:
    t = prefill_bench.prefill_target(r, prefill["meta"]["copy_gbps"])
    if t is None:
        print(f"prefill {r['name']}: n/a")
        continue
    print(f"prefill {r['name']}: copy {'ok' if t['copy_50pct'] else 'short'}, " + ", ".join(
        f"{k} {'n/a' if t[k] is None else ('met' if t[k]['met'] else 'NOT')}"
        for k in ("b2b", "vs_graph", "graphs")))

if len(sys.argv) < 4:
    sys.exit(0)
decode = json.load(open(sys.argv[3]))
cg = decode["meta"]["copy_gbps"]
for r in decode["records"]:
    t = decode_bench.target_met(r, cg)
    print(f"decode H{r['shape']['H']} B{r['shape']['B']}: " + ", ".join(
        f"{k} {'n/a' if t[k] is None else ('met' if t[k]['met'] else 'NOT')}"
        for k in ("eager", "graphs")))
