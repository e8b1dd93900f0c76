"""The benchmarks' warm-up: every timing, ours and each peer's, starts after
WARM_SECONDS of back-to-back calls of what it times. Under sustained calls an
H200 lowers its SM clock to the board's power cap within ~0.2 s; a timing
begun cold (ours after the host wrote its inputs) or hot (a peer after the
float64 reference) would see another regime than its pair
(docs/benchmarks/power-h200-2026-11-29.md). The launchers warm ours the
same way (--warm-seconds / under --io)."""
import time

WARM_SECONDS = 0.5


def warm_up(fn, calls, seconds=WARM_SECONDS, sync_every=8):
    """At least `calls` calls of fn, and more until `seconds` have passed;
    the device is synchronised every `sync_every` calls so that the host's
    clock stays near the GPU's, and at the end."""
    import torch
    start, i = time.time(), 0
    while i < calls or time.time() - start < seconds:
        fn()
        i += 1
        if i % sync_every == 0:
            torch.cuda.synchronize()
    torch.cuda.synchronize()
