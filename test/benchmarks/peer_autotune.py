"""Per-shape autotuning for the Triton peers (fla, lightning-attn).

fla's Triton autotuners key their configs on block sizes and flags, not on
batch, heads or tokens. For example, chunk_fwd_kernel_h, the state pass
of chunk_simple_gla, is keyed on (BT, USE_G, USE_GK, USE_GV,
STATE_V_FIRST, K, V), and fused_recurrent on (BK, BV, ...). In one process,
the config tuned at the first shape is therefore reused for every later
one. With the prefill benchmark's order that is B1 H8 T4K for all shapes:
B1 H64 T32K's eager fla time was 1.97-2.34 ms in full runs and 1.60-1.70 ms
in runs of that shape alone.

The benchmarks call `reset()` before each shape's first peer call, so that
every shape runs on configs tuned for it, as a user who calls only that shape
gets. `disable_disk_cache()` must run before fla is imported. It sets
FLA_CACHE_RESULTS=0, so that Triton does not reload the first tuning from
its on-disk autotune cache, which uses the same key.
"""
import os
import sys

PREFIXES = ("fla.", "lightning_attn.")


def disable_disk_cache():
    os.environ["FLA_CACHE_RESULTS"] = "0"


def reset(prefixes=PREFIXES):
    """Forgets every tuned config of the peers' Triton autotuners (loaded
    modules whose names start with one of `prefixes`); returns how many
    autotuners had one."""
    from triton.runtime.autotuner import Autotuner
    seen, cleared = set(), 0
    for name, mod in list(sys.modules.items()):
        if mod is None or not name.startswith(prefixes):
            continue
        for obj in list(vars(mod).values()):
            # A kernel is a chain of wrappers (triton.heuristics over
            # triton.autotune over triton.jit), each holding the next in `fn`.
            for _ in range(8):
                if isinstance(obj, Autotuner) and id(obj) not in seen:
                    seen.add(id(obj))
                    if obj.cache:
                        obj.cache.clear()
                        cleared += 1
                try:
                    obj = getattr(obj, "fn", None)
                except Exception:  # noqa: BLE001 (an attribute that cannot be read)
                    obj = None
                if obj is None:
                    break
    return cleared
