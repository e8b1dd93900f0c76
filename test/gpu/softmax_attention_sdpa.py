#!/usr/bin/env python3
"""The peer of `mm01-gpu-softmax-attention --bench`: PyTorch's
torch.nn.functional.scaled_dot_product_attention on the same MiniMax-01
prefill shapes (H 64, Hkv 8, D 128, bf16, causal; B = 1 with T = 4096 and
16384, B = 4 x 2048), timed the same way (CUDA events, warm-up, median) and
counted the same way (causal: 4 H D sum_i (i + 1) flops). GQA through
enable_gqa=True where this torch has it, and with k, v repeated to H heads
beforehand (not timed); the faster is the peer. RoPE is not part of it.

usage: softmax_attention_sdpa.py        (exit 77 without torch or a GPU)
"""
import statistics
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("SKIP: no torch")
    sys.exit(77)

H, HKV, D = 64, 8, 128
SHAPES = [("B=1 T=4096", 1, 4096), ("B=1 T=16384", 1, 16384), ("B=4 x T=2048", 4, 2048)]


def time_ms(fn):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def once():
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end)

    first = once()
    reps = int(min(50, max(3, 1000.0 / max(first, 1e-3))))
    once()
    once()
    return statistics.median(once() for _ in range(reps))


def main():
    if not torch.cuda.is_available():
        print("SKIP: no CUDA device")
        return 77
    print("device: %s, torch %s" % (torch.cuda.get_device_name(), torch.__version__))
    torch.manual_seed(0)
    for what, B, T in SHAPES:
        q = torch.randn(B, H, T, D, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(B, HKV, T, D, device="cuda", dtype=torch.bfloat16)
        v = torch.randn(B, HKV, T, D, device="cuda", dtype=torch.bfloat16)
        flops = B * 4.0 * H * D * T * (T + 1) / 2
        results = []
        try:
            ms = time_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                                enable_gqa=True))
            results.append(("enable_gqa", ms))
        except (TypeError, RuntimeError) as e:
            print("  %s: enable_gqa unavailable (%s)" % (what, str(e).splitlines()[0]))
        kr = k.repeat_interleave(H // HKV, dim=1)
        vr = v.repeat_interleave(H // HKV, dim=1)
        ms = time_ms(lambda: F.scaled_dot_product_attention(q, kr, vr, is_causal=True))
        results.append(("repeated kv", ms))
        for how, ms in results:
            print("  sdpa %-14s %-12s %9.3f ms  %7.2f TFLOP/s" % (what, how, ms, flops / ms * 1e-9))
        best = min(results, key=lambda r: r[1])
        print("  sdpa %-14s best         %9.3f ms  (%s)" % (what, best[1], best[0]))
        del q, k, v, kr, vr
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
