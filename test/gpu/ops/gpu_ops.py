#!/usr/bin/env python3
"""Per-op tests of the GPU target against the CPU target (float32).

Each case is a single-op (or small fused group) model-IR template
(*.mlir.in) with @B@ (batch), @T@ (tokens per sequence), @C@ (KV-cache
capacity) and @ELT@ (activation type):

  prepare CASE SRC_DIR OUT_DIR CPU_EVAL [--opt MM01_OPT] [--mutate]
                                                     (build time, no GPU)
      writes OUT_DIR/CASE/gpu.mlir (B = 3 slots, T = C = 256, bf16: what
      mm01-compile turns into the engine), random inputs rounded to bf16,
      packed for the engine (mixed lengths 77, 130, 1 tokens, one sequence
      per slot, cu_seqlens etc.) in gpu_in.npz, and the CPU reference: each
      sequence is its own [1, len] call of the f32 instantiation, run by
      mm01-cpu-eval, assembled into ref.npz (packed rows, per-slot states
      and caches). --mutate instantiates gpu.mlir with a deliberate bug
      (RoPE width halved, decay rates +2%, ...) to show the check fails.
      A case may name another case's template ("template"), its own
      sequence lengths ("lens") and a tile configuration ("tiles"): then
      gpu.mlir is the template fused by `MM01_OPT --mm01-fuse` with those
      tiles on the fusion, which mm01-compile keeps (e.g. a long-call plan
      the chooser would not pick at this size).
  check CASE_DIR ENGINE ENGINE_EVAL                  (test time, on a GPU)
      runs the engine on gpu_in.npz with mm01-engine-eval and compares.
  all-check OUT_DIR ENGINE_DIR ENGINE_EVAL CASE...   (the ctest)

Tolerances: derived from bf16 rounding, fixed before running. u = 2^-8 is
bf16's unit roundoff (8 significant bits, round to nearest:
|bf16(x) - x| <= u|x|). The CPU reference computes in f32 on the same
bf16-representable inputs, so the GPU's error is the sum of its bf16
roundings (of the output and of intermediates that the engine stores in
bf16), each bounded by u times the magnitude it rounds, propagated to the
output to first order; f32 arithmetic differences (summation order,
exp/rsqrt implementations) add F = 2^-16 of the output's scale. Per op
(float64 numpy computes the magnitudes):

  lightning out   5u * A + u|y| + F.  A = the same recurrence on absolute
                  values (|q|, |k|, |v|, |S0|) bounds every sum's terms;
                  each term q.k.v passes through the bf16 roundings of
                  silu(q), silu(k), silu(v) (the kernel loads them as bf16),
                  of P = (QK^T).M (bf16 for the second MMA), or for the
                  inter-chunk term of K~ = k.decay (the running state's
                  update is bf16 outside the final state's window, tile key
                  state_hilo_tail_log2) and of the bf16 copy of S: at most 5.
                  Output rounding: u|y|.
  lightning state 2u * A_kv + u * A_pre + F * A.  The update K~^T V uses
                  bf16 k and v (K~ carries hi+lo bf16, ~16 bits, where the
                  token weighs more than 2^-n in the final state, n from
                  the engine's _hilotail<n> kernels; rounded to bf16 before:
                  A_pre, the same sum over the tokens j with
                  (T-1-j) lambda >= n ln 2);
                  A_kv = sum_j e^{-lambda(T-1-j)} |k_j|^T |v_j|, A also
                  counts |S0|.
  softmax out     sum_j p_ij d_ij |v_j - y_i| + u|y| + F, the first-order
                  change of a softmax average when its logits move by d_ij:
                  d_ij = scale * sum_d |q~_d k~_jd| * (u for q~ + u for k~
                  if key j was written to the bf16 cache by this call), q~,
                  k~ after RoPE, p the float64 probabilities. Prefill runs
                  the tensor-core kernel, which rounds the probabilities to
                  bf16 for the P.V product and sums the rounded ones: the
                  output is a convex combination of the v_j with weights
                  p_ij (1 + e_j), |e_j| <= u, so it moves by at most
                  u/(1-u) sum_j p_ij |v_j - y_i| (exact, not first order).
  key cache       u|k~| + (1+u) Dk: the rotated key rounded to bf16 once;
                  before rounding, the two f32 RoPEs differ by the angle's
                  f32 error times the pair's inputs (which may cancel):
                  Dk = 2^-22 (1 + pos)(|x_a| + |x_b|) on rotated dims.
                  (First run: a bound of 2u|k~| failed where k~ cancels to
                  ~3e-6; the derivation, not the constant, was wrong.)
  value cache     0 (copied bf16 values).
  residual+norm   3u|y| + F: the residual r = a.alpha + b rounded to bf16
                  (u on r_i, u via the rms), output rounding u.
  gated norm      3u|y| + F: norm output and sigmoid rounded to bf16 before
                  the multiply, output u.
  moe             2u * sum_k w_k (|W2_e| |h_k|) + u|y| + F: the SwiGLU
                  activations h = silu(x W1^T) * (x W3^T) rounded to bf16
                  before the down GEMM, each expert's down output rounded
                  once before the weighted combine; output u.
"""
import json, os, re, subprocess, sys
import numpy as np

U = 2.0 ** -8
F = 2.0 ** -16
LENS = [77, 130, 1]
PAST = [0, 5, 40]          # cached tokens before the call (softmax cases)
MAX_BATCH, MAX_CTX = 3, 256


def bf16(x):
    x = np.ascontiguousarray(x, dtype=np.float32)
    u = x.view(np.uint32).astype(np.uint64)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    return u.astype(np.uint32).view(np.float32)


def silu(x):
    return x / (1.0 + np.exp(-x))


def decays(H, layer, L=8):
    return [2 ** (-8 * (n + 1) / H) * (1 - layer / (L - 1 + 1e-5) + 1e-5) for n in range(H)]


# A long-call plan (docs/lightning-prefill.md, "Long calls") with an early
# first segment ("Early first segment"): one sequence of 230 tokens (>= 128)
# runs two segments, the first 64 tokens longer (192 + 38) and started
# without waiting, the second folding the first one's local state (2
# parts); the block writing the final state waits for the first segment's
# flag.
LONGCALL_TILES = dict(
    chunk=64, warps=8, wgmma=1, segments=1, value_slices=1, stages=0, state_stages=0,
    min_segment_tokens=64, shortest_segment_tokens=64, one_wave_segment_tokens=0,
    local_states_drop_log2=64, local_states_outputs_drop_log2=32, local_states_split_chunks=2,
    local_states_parts=2,
    state_hilo=1, state_hilo_tail_log2=12, early_first_segment=0, segment_lead_tokens=0,
    long_call_tokens=128, long_call_segments=2, long_call_value_slices=1,
    long_call_local_states_parts=2, long_call_early_first_segment=1,
    long_call_segment_lead_tokens=64, scan_in_outputs=0, long_call_scan_in_outputs=0)

# A long-call plan of three segments with the scan in the outputs kernel
# ("The scan in the outputs kernel"): no scan kernel, the outputs blocks
# share out its items once the local states are complete.
LONGCALL_SCANOUT_TILES = dict(LONGCALL_TILES, long_call_segments=3,
                              long_call_early_first_segment=0,
                              long_call_segment_lead_tokens=0,
                              long_call_scan_in_outputs=1)

CASES = {
    "lightning_h4_d64": dict(kind="lightning", H=4, D=64, layer=0),
    "lightning_h4_d64_longcall": dict(kind="lightning", H=4, D=64, layer=0,
                                      template="lightning_h4_d64", lens=[230],
                                      tiles=LONGCALL_TILES),
    "lightning_h4_d64_longcall_scanout": dict(kind="lightning", H=4, D=64, layer=0,
                                              template="lightning_h4_d64", lens=[230],
                                              tiles=LONGCALL_SCANOUT_TILES),
    "lightning_h2_d128": dict(kind="lightning", H=2, D=128, layer=3),
    "softmax_h4kv2_d64_r32": dict(kind="softmax", H=4, Hkv=2, D=64, R=32),
    "softmax_h4kv2_d128_r64": dict(kind="softmax", H=4, Hkv=2, D=128, R=64),
    "norms_d256": dict(kind="norms", d=256),
    "moe_e8_k2_d256_i64": dict(kind="moe", E=8, k=2, d=256, I=64),
}


def lens_of(name):
    return CASES[name].get("lens", LENS)


def fuse_with_tiles(text, tiles, mm01_opt):
    """`text` fused by mm01-opt, the fusion carrying `tiles` as mm01k.tiles."""
    r = subprocess.run([mm01_opt, "-", "--mm01-fuse"], input=text, capture_output=True,
                       text=True, check=True)
    attr = "mm01k.tiles = {%s}" % ", ".join("%s = %d" % kv for kv in sorted(tiles.items()))
    fused = r.stdout.replace("mm01.fusion <silu_lightning> :",
                             "mm01.fusion <silu_lightning> attributes {%s} :" % attr)
    if attr not in fused:
        raise SystemExit("fuse_with_tiles: no silu_lightning fusion in the fused IR")
    return fused


def instantiate(text, B, T, C, elt):
    return (text.replace("@B@", str(B)).replace("@T@", str(T))
            .replace("@C@", str(C)).replace("@ELT@", elt))


def mutate(name, text):
    """A deliberate bug in the GPU instantiation (the check must fail)."""
    c = CASES[name]
    if c["kind"] == "softmax":
        R = c["R"]
        return text.replace("rotary_dim(%d)" % R, "rotary_dim(%d)" % (R // 2))
    if c["kind"] == "lightning":
        for lam in decays(c["H"], c["layer"]):
            text = text.replace("%.17g" % lam, "%.17g" % (lam * 1.02))
        return text
    if c["kind"] == "norms":
        return text.replace("alpha(2.000000e+00)", "alpha(2.100000e+00)")
    if c["kind"] == "moe":
        return text.replace("experts(%w1, %w3, %w2)", "experts(%w3, %w1, %w2)")
    return text


def gen_inputs(name, rng):
    """Per-sequence inputs (float arrays bf16-representable) and the shared ones."""
    c = CASES[name]
    seqs, shared = [], {}
    n = lambda *s, scale=1.0: bf16(rng.standard_normal(s) * scale)
    for b, L in enumerate(lens_of(name)):
        s = {}
        if c["kind"] == "lightning":
            H, D = c["H"], c["D"]
            s["qkv"] = n(L, 3 * H * D)
            s["layer0.lightning_state"] = (rng.standard_normal((H, D, D)) * 0.05).astype(np.float32)
        elif c["kind"] == "softmax":
            H, Hkv, D = c["H"], c["Hkv"], c["D"]
            s["q"], s["k"], s["v"] = n(L, H * D), n(L, Hkv * D), n(L, Hkv * D)
            s["positions"] = PAST[b] + np.arange(L, dtype=np.int64)
            for cache in ("layer0.key_cache", "layer0.value_cache"):
                arr = np.zeros((MAX_CTX, Hkv, D), np.float32)
                arr[:PAST[b]] = n(PAST[b], Hkv, D)
                s[cache] = arr
        elif c["kind"] == "norms":
            d = c["d"]
            s["residual"], s["update"], s["x"] = n(L, d), n(L, d), n(L, d)
            s["gate"] = n(L, d, scale=2.0)
        elif c["kind"] == "moe":
            s["x"] = n(L, c["d"])
            s["router_logits"] = n(L, c["E"])
        seqs.append(s)
    if c["kind"] == "norms":
        shared["norm_weight"] = bf16(1 + 0.1 * rng.standard_normal(c["d"]))
        shared["gated_norm_weight"] = bf16(1 + 0.1 * rng.standard_normal(c["d"]))
    if c["kind"] == "moe":
        E, d, I = c["E"], c["d"], c["I"]
        shared["w1"] = n(E, I, d, scale=d ** -0.5)
        shared["w3"] = n(E, I, d, scale=d ** -0.5)
        shared["w2"] = n(E, d, I, scale=I ** -0.5)
    return seqs, shared


PER_SLOT = ("layer0.lightning_state", "layer0.key_cache", "layer0.value_cache")


def outputs_of(name):
    """(result name, per-token row width or None for per-slot, slot shape)."""
    c = CASES[name]
    if c["kind"] == "lightning":
        H, D = c["H"], c["D"]
        return [("attn", H * D, None), ("layer0.lightning_state", None, (H, D, D))]
    if c["kind"] == "softmax":
        H, Hkv, D = c["H"], c["Hkv"], c["D"]
        return [("attn", H * D, None), ("layer0.key_cache", None, (MAX_CTX, Hkv, D)),
                ("layer0.value_cache", None, (MAX_CTX, Hkv, D))]
    if c["kind"] == "norms":
        return [("residual_norm", c["d"], None), ("gated_norm", c["d"], None)]
    return [("moe_out", c["d"], None)]


def call_meta(name):
    kind = CASES[name]["kind"]
    return {"lightning": ["cu_seqlens"],
            "softmax": ["positions", "token_seq", "cu_seqlens", "context_lens"]}.get(kind, [])


def prepare(name, src, out, cpu_eval, mutated=False, mm01_opt=None):
    c = CASES[name]
    LENS = lens_of(name)
    d = os.path.join(out, name + ("_mutant" if mutated else ""))
    os.makedirs(d, exist_ok=True)
    text = open(os.path.join(src, c.get("template", name) + ".mlir.in")).read()
    gpu = instantiate(text, MAX_BATCH, MAX_CTX, MAX_CTX, "bf16")
    if mutated:
        gpu = mutate(name, gpu)
    if "tiles" in c:
        if not mm01_opt:
            raise SystemExit("%s: its tiles need --opt MM01_OPT" % name)
        gpu = fuse_with_tiles(gpu, c["tiles"], mm01_opt)
    open(os.path.join(d, "gpu.mlir"), "w").write(gpu)
    rng = np.random.default_rng(sum(map(ord, name)))
    seqs, shared = gen_inputs(name, rng)
    B, tokens = len(LENS), sum(LENS)
    cu = np.concatenate([[0], np.cumsum(LENS)]).astype(np.int64)
    # The engine's inputs: packed rows, per-slot arrays, call metadata.
    g = dict(shared)
    for key in seqs[0]:
        if key in PER_SLOT:
            g[key] = np.stack([s[key] for s in seqs])
        elif key != "positions":
            g[key] = np.concatenate([s[key] for s in seqs])
    meta = {"positions": np.concatenate([PAST[b] + np.arange(L) for b, L in enumerate(LENS)]),
            "token_seq": np.repeat(np.arange(B), LENS), "cu_seqlens": cu,
            "context_lens": np.array([PAST[b] + L for b, L in enumerate(LENS)])}
    for m in call_meta(name):
        g[m] = meta[m].astype(np.int64)
    np.savez(os.path.join(d, "gpu_in.npz"), **g)
    # The CPU reference: one [1, len] f32 call per sequence.
    refs = []
    for b, (L, s) in enumerate(zip(LENS, seqs)):
        mp = os.path.join(d, "cpu_%d.mlir" % b)
        open(mp, "w").write(instantiate(text, 1, L, MAX_CTX, "f32"))
        ip, op = os.path.join(d, "cpu_in_%d.npz" % b), os.path.join(d, "cpu_out_%d.npz" % b)
        arrays = dict(shared)
        for key, v in s.items():
            arrays[key] = v[None]
        np.savez(ip, **arrays)
        subprocess.run([cpu_eval, mp, "--inputs", ip, "--outputs", op], check=True)
        refs.append(dict(np.load(op)))
    ref = {}
    for res, width, slot in outputs_of(name):
        if width:
            ref[res] = np.concatenate([r[res][0] for r in refs])
        else:
            ref[res] = np.stack([r[res][0] for r in refs])
    np.savez(os.path.join(d, "ref.npz"), **ref)
    ctx = max(PAST[b] + L for b, L in enumerate(LENS)) if c["kind"] == "softmax" else max(LENS)
    args = ["--batch", str(B), "--seq", str(max(LENS)), "--tokens", str(tokens),
            "--context", str(ctx)]
    for res, width, slot in outputs_of(name):
        shape = (tokens, width) if width else (B,) + tuple(slot)
        args += ["--output", "%s=%s" % (res, "x".join(map(str, shape)))]
    json.dump({"case": name, "eval_args": args}, open(os.path.join(d, "case.json"), "w"))
    return d


# ---- bounds ----------------------------------------------------------------

def rope64(x, pos, R, theta=1e7):
    """HF rotate_half RoPE in float64 on [T, H, D]."""
    inv = 1.0 / theta ** (np.arange(0, R, 2, dtype=np.float64) / R)
    ang = pos[:, None].astype(np.float64) * inv[None]
    cos, sin = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))
    y = x.astype(np.float64).copy()
    xr = y[..., :R]
    rot = np.concatenate([-xr[..., R // 2:], xr[..., :R // 2]], -1)
    y[..., :R] = xr * cos[:, None] + rot * sin[:, None]
    return y


def hilo_tail_log2(engine):
    """The engine's lightning prefill window of the hi + lo state update, n of
    its `_hilotail<n>` kernels (0: hi + lo throughout or bf16 throughout)."""
    m = re.search(rb"_hilotail(\d+)_", open(engine, "rb").read())
    return int(m.group(1)) if m else 0


def bounds(name, gin, ref, n):
    c = CASES[name]
    LENS = lens_of(name)
    B = len(LENS)
    cu = np.concatenate([[0], np.cumsum(LENS)])
    tol = {}
    scale_f = lambda y: F * np.sqrt(np.mean(np.square(y.astype(np.float64)))) + 1e-30
    if c["kind"] == "lightning":
        H, D = c["H"], c["D"]
        lam = np.array(decays(H, c["layer"]))
        qkv = silu(gin["qkv"].astype(np.float64)).reshape(-1, H, 3, D)
        A = np.zeros((sum(LENS), H, D))
        Akv = np.zeros((B, H, D, D))
        Apre = np.zeros((B, H, D, D))
        Aall = np.zeros((B, H, D, D))
        for b in range(B):
            S0 = np.abs(gin["layer0.lightning_state"][b].astype(np.float64))
            Skv = np.zeros((H, D, D))
            Spre = np.zeros((H, D, D))
            for t in range(cu[b], cu[b + 1]):
                q, k, v = np.abs(qkv[t, :, 0]), np.abs(qkv[t, :, 1]), np.abs(qkv[t, :, 2])
                e = np.exp(-lam)[:, None, None]
                kv = k[:, :, None] * v[:, None, :]
                pre = ((cu[b + 1] - 1 - t) * lam >= n * np.log(2))[:, None, None] if n else 0
                S0, Skv, Spre = e * S0, e * Skv + kv, e * Spre + pre * kv
                A[t] = np.einsum("hi,hij->hj", q, S0 + Skv)
            Akv[b], Apre[b], Aall[b] = Skv, Spre, S0 + Skv
        y = ref["attn"].astype(np.float64)
        tol["attn"] = 5 * U * A.reshape(y.shape) + U * np.abs(y) + scale_f(y)
        st = ref["layer0.lightning_state"]
        tol["layer0.lightning_state"] = 2 * U * Akv + U * Apre + F * Aall + scale_f(st)
    elif c["kind"] == "softmax":
        H, Hkv, D, R = c["H"], c["Hkv"], c["D"], c["R"]
        scale = 1.0 / np.sqrt(D)
        y = ref["attn"].astype(np.float64).reshape(-1, H, D)
        t_attn = np.zeros_like(y)
        for b in range(B):
            L, P = LENS[b], PAST[b]
            pos = P + np.arange(L)
            q = rope64(gin["q"][cu[b]:cu[b + 1]].reshape(L, H, D), pos, R)
            knew = rope64(gin["k"][cu[b]:cu[b + 1]].reshape(L, Hkv, D), pos, R)
            k = np.concatenate([gin["layer0.key_cache"][b, :P].astype(np.float64), knew])
            v = np.concatenate([gin["layer0.value_cache"][b, :P].astype(np.float64),
                                gin["v"][cu[b]:cu[b + 1]].reshape(L, Hkv, D)])
            written = np.concatenate([np.zeros(P), np.ones(L)])
            for h in range(H):
                kh = h // (H // Hkv)
                s = scale * q[:, h] @ k[:, kh].T                       # [L, P+L]
                mask = np.arange(P + L)[None] > pos[:, None]
                s[mask] = -np.inf
                p = np.exp(s - s.max(1, keepdims=True))
                p /= p.sum(1, keepdims=True)
                dd = scale * (np.abs(q[:, h]) @ np.abs(k[:, kh]).T) * U * (1 + written[None])
                o = p @ v[:, kh]
                spread = np.abs(v[:, kh][None] - o[:, None])      # [L, P+L, D]
                t_attn[cu[b]:cu[b + 1], h] = np.einsum(
                    "ij,ijd->id", p * (dd + U / (1 - U)), spread)
        tol["attn"] = (t_attn + U * np.abs(y) + scale_f(y)).reshape(ref["attn"].shape)
        # Rotated keys: the GPU's f32 RoPE differs from the CPU's by the
        # angle's f32 error (a few ulps of pos * inv_freq <= pos) times the
        # pair's inputs, not the (possibly cancelled) result: Dk =
        # 2^-22 (1 + pos) (|x_a| + |x_b|) on rotated dims, 0 elsewhere; then
        # one bf16 rounding: u|k~| + (1 + u) Dk.
        kc = ref["layer0.key_cache"].astype(np.float64)
        dk = np.zeros_like(kc)
        for b in range(B):
            L, P = LENS[b], PAST[b]
            x = np.abs(gin["k"][cu[b]:cu[b + 1]].reshape(L, Hkv, D).astype(np.float64))
            pair = x[..., :R // 2] + x[..., R // 2:R]
            pos = (P + np.arange(L))[:, None, None]
            dk[b, P:P + L, :, :R] = np.concatenate([pair, pair], -1) * 2.0 ** -22 * (1 + pos)
        tol["layer0.key_cache"] = U * np.abs(kc) + (1 + U) * dk
        tol["layer0.value_cache"] = np.zeros(ref["layer0.value_cache"].shape)
    elif c["kind"] == "norms":
        for r in ("residual_norm", "gated_norm"):
            y = ref[r].astype(np.float64)
            tol[r] = 3 * U * np.abs(y) + scale_f(y)
    elif c["kind"] == "moe":
        E, k = c["E"], c["k"]
        x = gin["x"].astype(np.float64)
        lg = gin["router_logits"].astype(np.float64)
        p = np.exp(lg - lg.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        top = np.argsort(-p, axis=1, kind="stable")[:, :k]
        w = np.take_along_axis(p, top, 1)
        w /= w.sum(1, keepdims=True)
        W1, W3, W2 = (gin[n].astype(np.float64) for n in ("w1", "w3", "w2"))
        A = np.zeros_like(x)
        for t in range(x.shape[0]):
            for j in range(k):
                e = top[t, j]
                h = silu(W1[e] @ x[t]) * (W3[e] @ x[t])
                A[t] += w[t, j] * (np.abs(W2[e]) @ np.abs(h))
        y = ref["moe_out"].astype(np.float64)
        tol["moe_out"] = 2 * U * A + U * np.abs(y) + scale_f(y)
    return tol


def check(d, engine, engine_eval):
    cfg = json.load(open(os.path.join(d, "case.json")))
    name = cfg["case"]
    out = os.path.join(d, "gpu_out.npz")
    r = subprocess.run([engine_eval, engine, "--entry", "prefill", "--inputs",
                        os.path.join(d, "gpu_in.npz"), "--outputs", out] + cfg["eval_args"])
    if r.returncode == 77:
        return 77
    if r.returncode != 0:
        print("%s: mm01-engine-eval failed (%d)" % (name, r.returncode))
        return 1
    gin, ref, got = np.load(os.path.join(d, "gpu_in.npz")), np.load(os.path.join(d, "ref.npz")), np.load(out)
    tol = bounds(name, gin, ref, hilo_tail_log2(engine))
    ok = True
    for res in ref.files:
        want, have = ref[res].astype(np.float64), got[res].astype(np.float64)
        err = np.abs(have - want)
        finite = np.all(np.isfinite(have))
        ratio = np.max(err / np.maximum(tol[res], 1e-300)) if finite else np.inf
        worst = np.unravel_index(np.argmax(err / np.maximum(tol[res], 1e-300)), err.shape)
        good = finite and np.all(err <= tol[res])
        ok &= bool(good)
        print("%-24s %-20s max|err| %.3e  max err/bound %.3f  (worst at %s: gpu %.6g cpu %.6g bound %.3g)  %s"
              % (name, res, err.max(), ratio, tuple(int(i) for i in worst), have[worst], want[worst],
                 tol[res][worst], "ok" if good else "FAIL"))
    return 0 if ok else 1


def main(argv):
    if argv[1] == "prepare":
        opt = argv[argv.index("--opt") + 1] if "--opt" in argv else None
        prepare(argv[2], argv[3], argv[4], argv[5], "--mutate" in argv, opt)
        return 0
    if argv[1] == "check":
        return check(argv[2], argv[3], argv[4])
    if argv[1] == "all-check":
        out, engines, ev = argv[2], argv[3], argv[4]
        rcs = []
        for name in argv[5:]:
            rcs.append(check(os.path.join(out, name), os.path.join(engines, name + ".mm01"), ev))
            if rcs[-1] == 77:
                print("SKIP: no CUDA device")
                return 77
        print("gpu-ops-vs-cpu: %d of %d cases passed" % (rcs.count(0), len(rcs)))
        return 0 if all(r == 0 for r in rcs) else 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
