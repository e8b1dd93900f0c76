#!/usr/bin/env python3
"""Generates the numerical lit tests of the attention lowerings.

  python3 test/Conversion/Inputs/gen_attention_numerics.py

writes test/Conversion/AttentionToLinalg/{lightning,rope,softmax-attention}-numerics.mlir.
Each test builds deterministic pseudo-random inputs inside MLIR
(a * sin(l * m + p) over the linear element index l), runs the mm01 op
(lowered by the pass under test) and an independent formulation written with
plain scf loops (or, for lightning, the decode op applied token by token),
and prints, per comparison,

  <label>: maxdiff <max |a - b|> maxabs <max |b|> ok <1 if maxdiff / max(1, maxabs) < tol>

FileCheck then checks every `ok 1`. The generated files are committed; rerun
this script after changing it.
"""

import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(os.path.dirname(HERE), "AttentionToLinalg")


def shape_str(shape):
    return "x".join(str(d) for d in shape)


def ttype(shape, elem="f32"):
    return "tensor<%sx%s>" % (shape_str(shape), elem) if shape else "tensor<%s>" % elem


def f64_list(xs):
    return "[" + ", ".join(repr(float(x)) for x in xs) + "]"


def f32_lit(x):
    return "%.9e" % float(np.float32(x))


class Module:
    """Collects helper functions (emitted once) and case functions."""

    def __init__(self):
        self.helpers = {}
        self.cases = []

    def helper(self, name, text):
        self.helpers.setdefault(name, text)
        return name

    # -- helpers ------------------------------------------------------------
    def fill(self, shape):
        name = "fill_" + shape_str(shape)
        rank = len(shape)
        dims = ", ".join("d%d" % i for i in range(rank))
        lines = []
        lines.append("func.func @%s(%%mult: f32, %%phase: f32, %%amp: f32) -> %s {" % (name, ttype(shape)))
        lines.append("  %%e = tensor.empty() : %s" % ttype(shape))
        lines.append("  %%r = linalg.generic {indexing_maps = [affine_map<(%s) -> (%s)>], "
                     "iterator_types = [%s]} outs(%%e : %s) {" %
                     (dims, dims, ", ".join(['"parallel"'] * rank), ttype(shape)))
        lines.append("  ^bb0(%out: f32):")
        for i in range(rank):
            lines.append("    %%i%d = linalg.index %d : index" % (i, i))
        prev = "%i0"
        for i in range(1, rank):
            lines.append("    %%s%d = arith.constant %d : index" % (i, shape[i]))
            lines.append("    %%m%d = arith.muli %s, %%s%d : index" % (i, prev, i))
            lines.append("    %%l%d = arith.addi %%m%d, %%i%d : index" % (i, i, i))
            prev = "%%l%d" % i
        lines.append("    %%li = arith.index_cast %s : index to i64" % prev)
        lines.append("    %lf = arith.sitofp %li : i64 to f32")
        lines.append("    %x = arith.mulf %lf, %mult : f32")
        lines.append("    %y = arith.addf %x, %phase : f32")
        lines.append("    %s = math.sin %y : f32")
        lines.append("    %v = arith.mulf %s, %amp : f32")
        lines.append("    linalg.yield %v : f32")
        lines.append("  } -> %s" % ttype(shape))
        lines.append("  return %%r : %s" % ttype(shape))
        lines.append("}")
        return self.helper(name, "\n".join(lines))

    def convert(self, shape, src, dst):
        name = "convert_%s_%s_to_%s" % (shape_str(shape), src, dst)
        rank = len(shape)
        dims = ", ".join("d%d" % i for i in range(rank))
        op = "arith.truncf" if src == "f32" else "arith.extf"
        text = "\n".join([
            "func.func @%s(%%x: %s) -> %s {" % (name, ttype(shape, src), ttype(shape, dst)),
            "  %%e = tensor.empty() : %s" % ttype(shape, dst),
            "  %%r = linalg.generic {indexing_maps = [affine_map<(%s) -> (%s)>, affine_map<(%s) -> (%s)>], "
            "iterator_types = [%s]} ins(%%x : %s) outs(%%e : %s) {" %
            (dims, dims, dims, dims, ", ".join(['"parallel"'] * rank), ttype(shape, src), ttype(shape, dst)),
            "  ^bb0(%%in: %s, %%out: %s):" % (src, dst),
            "    %%c = %s %%in : %s to %s" % (op, src, dst),
            "    linalg.yield %%c : %s" % dst,
            "  } -> %s" % ttype(shape, dst),
            "  return %%r : %s" % ttype(shape, dst),
            "}"])
        return self.helper(name, text)

    def report_helper(self):
        text = """\
// Prints "maxdiff <max|a-b|> maxabs <max|b|> ok <maxdiff / max(1, maxabs) < tol>".
func.func @report(%a: tensor<?xf32>, %b: tensor<?xf32>, %tol: f32) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %e0 = tensor.empty() : tensor<f32>
  %e1 = tensor.empty() : tensor<f32>
  %md0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %ma0 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<f32>) -> tensor<f32>
  %r:2 = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>,
                                          affine_map<(i) -> ()>, affine_map<(i) -> ()>],
                         iterator_types = ["reduction"]}
      ins(%a, %b : tensor<?xf32>, tensor<?xf32>) outs(%md0, %ma0 : tensor<f32>, tensor<f32>) {
  ^bb0(%x: f32, %y: f32, %md: f32, %ma: f32):
    %d = arith.subf %x, %y : f32
    %ad = math.absf %d : f32
    %ay = math.absf %y : f32
    %md2 = arith.maximumf %md, %ad : f32
    %ma2 = arith.maximumf %ma, %ay : f32
    linalg.yield %md2, %ma2 : f32, f32
  } -> (tensor<f32>, tensor<f32>)
  %md = tensor.extract %r#0[] : tensor<f32>
  %ma = tensor.extract %r#1[] : tensor<f32>
  %den = arith.maximumf %ma, %one : f32
  %rel = arith.divf %md, %den : f32
  %ok = arith.cmpf olt, %rel, %tol : f32
  vector.print str "maxdiff "
  vector.print %md : f32 punctuation <no_punctuation>
  vector.print str " maxabs "
  vector.print %ma : f32 punctuation <no_punctuation>
  vector.print str " ok "
  vector.print %ok : i1
  return
}"""
        return self.helper("report", text)

    def emit(self, path, header):
        with open(path, "w") as f:
            f.write(header)
            f.write("\n")
            for text in self.helpers.values():
                f.write(text + "\n\n")
            for text in self.cases:
                f.write(text + "\n\n")
            f.write("func.func @main() {\n")
            for name in self.case_names:
                f.write("  call @%s() : () -> ()\n" % name)
            f.write("  return\n}\n")


class Body:
    """SSA-name generator and line collector of one function body."""

    def __init__(self, mod):
        self.mod = mod
        self.lines = []
        self.n = 0
        self.consts = {}

    def fresh(self, hint="v"):
        self.n += 1
        return "%%%s%d" % (hint, self.n)

    def emit(self, line):
        self.lines.append("  " + line)

    def f32c(self, x):
        key = ("f32", f32_lit(x))
        if key not in self.consts:
            v = self.fresh("cf")
            self.emit("%s = arith.constant %s : f32" % (v, f32_lit(x)))
            self.consts[key] = v
        return self.consts[key]

    def idx(self, x):
        key = ("index", x)
        if key not in self.consts:
            v = self.fresh("c")
            self.emit("%s = arith.constant %d : index" % (v, x))
            self.consts[key] = v
        return self.consts[key]

    def fill(self, shape, mult, phase, amp):
        fn = self.mod.fill(shape)
        m, p, a = self.f32c(mult), self.f32c(phase), self.f32c(amp)
        v = self.fresh("in")
        self.emit("%s = call @%s(%s, %s, %s) : (f32, f32, f32) -> %s" % (v, fn, m, p, a, ttype(shape)))
        return v

    def convert(self, v, shape, src, dst):
        if src == dst:
            return v
        fn = self.mod.convert(shape, src, dst)
        r = self.fresh("cv")
        self.emit("%s = call @%s(%s) : (%s) -> %s" % (r, fn, v, ttype(shape, src), ttype(shape, dst)))
        return r

    def report(self, label, a, b, shape, elem, tol):
        """Compares a and b (both of `shape`, element `elem`)."""
        self.mod.report_helper()
        a32 = self.convert(a, shape, elem, "f32")
        b32 = self.convert(b, shape, elem, "f32")
        n = int(np.prod(shape))
        flat = []
        for x in (a32, b32):
            c = self.fresh("flat")
            self.emit("%s = tensor.collapse_shape %s [[%s]] : %s into %s" %
                      (c, x, ", ".join(str(i) for i in range(len(shape))), ttype(shape), ttype([n])))
            d = self.fresh("dyn")
            self.emit("%s = tensor.cast %s : %s to tensor<?xf32>" % (d, c, ttype([n])))
            flat.append(d)
        self.emit('vector.print str "%s: "' % label)
        self.emit("call @report(%s, %s, %s) : (tensor<?xf32>, tensor<?xf32>, f32) -> ()" %
                  (flat[0], flat[1], self.f32c(tol)))
        return "// CHECK: %s: maxdiff {{.*}} ok 1" % label


def slice_op(src, offsets, sizes, full_shape, elem, insert_into=None):
    offs = ", ".join(str(o) for o in offsets)
    szs = ", ".join(str(s) for s in sizes)
    strides = ", ".join("1" for _ in sizes)
    if insert_into is None:
        return "tensor.extract_slice %s[%s] [%s] [%s] : %s to %s" % (
            src, offs, szs, strides, ttype(full_shape, elem), ttype(sizes, elem))
    return "tensor.insert_slice %s into %s[%s] [%s] [%s] : %s into %s" % (
        src, insert_into, offs, szs, strides, ttype(sizes, elem), ttype(full_shape, elem))


# ---------------------------------------------------------------------------
# Lightning attention
# ---------------------------------------------------------------------------

def lightning_decays(heads, layer, layers):
    """HF's λ_{l,n} = 2^(-8(n+1)/H) · (1 - l/(L-1+1e-5) + 1e-5)."""
    factor = 1.0 - layer / (layers - 1 + 1e-5) + 1e-5
    return [2.0 ** (-8.0 * (n + 1) / heads) * factor for n in range(heads)]


def naive_lightning(mod, name, B, T, H, D, decay):
    """Plain-scf recurrence S = e^{-λ} S + kᵀv, o = q S (f32)."""
    qs, ss = ttype([B, T, H, D]), ttype([B, H, D, D])
    fn = "naive_lightning_" + name
    text = """\
func.func @{fn}(%q: {qs}, %k: {qs}, %v: {qs}, %s0: {ss}) -> ({qs}, {ss}) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cB = arith.constant {B} : index
  %cT = arith.constant {T} : index
  %cH = arith.constant {H} : index
  %cD = arith.constant {D} : index
  %zero = arith.constant 0.0 : f32
  %lam = arith.constant dense<{lam}> : tensor<{H}xf64>
  %o0 = tensor.empty() : {qs}
  %r:2 = scf.for %b = %c0 to %cB step %c1 iter_args(%S = %s0, %O = %o0) -> ({ss}, {qs}) {{
    %r1:2 = scf.for %h = %c0 to %cH step %c1 iter_args(%S1 = %S, %O1 = %O) -> ({ss}, {qs}) {{
      %l = tensor.extract %lam[%h] : tensor<{H}xf64>
      %nl = arith.negf %l : f64
      %e64 = math.exp %nl : f64
      %e = arith.truncf %e64 : f64 to f32
      %r2:2 = scf.for %t = %c0 to %cT step %c1 iter_args(%S2 = %S1, %O2 = %O1) -> ({ss}, {qs}) {{
        %S3 = scf.for %a = %c0 to %cD step %c1 iter_args(%S4 = %S2) -> ({ss}) {{
          %ka = tensor.extract %k[%b, %t, %h, %a] : {qs}
          %S5 = scf.for %c = %c0 to %cD step %c1 iter_args(%S6 = %S4) -> ({ss}) {{
            %vc = tensor.extract %v[%b, %t, %h, %c] : {qs}
            %old = tensor.extract %S6[%b, %h, %a, %c] : {ss}
            %dec = arith.mulf %e, %old : f32
            %kv = arith.mulf %ka, %vc : f32
            %new = arith.addf %dec, %kv : f32
            %S7 = tensor.insert %new into %S6[%b, %h, %a, %c] : {ss}
            scf.yield %S7 : {ss}
          }}
          scf.yield %S5 : {ss}
        }}
        %O3 = scf.for %c = %c0 to %cD step %c1 iter_args(%O4 = %O2) -> ({qs}) {{
          %acc = scf.for %a = %c0 to %cD step %c1 iter_args(%x = %zero) -> (f32) {{
            %qa = tensor.extract %q[%b, %t, %h, %a] : {qs}
            %sac = tensor.extract %S3[%b, %h, %a, %c] : {ss}
            %p = arith.mulf %qa, %sac : f32
            %x2 = arith.addf %x, %p : f32
            scf.yield %x2 : f32
          }}
          %O5 = tensor.insert %acc into %O4[%b, %t, %h, %c] : {qs}
          scf.yield %O5 : {qs}
        }}
        scf.yield %S3, %O3 : {ss}, {qs}
      }}
      scf.yield %r2#0, %r2#1 : {ss}, {qs}
    }}
    scf.yield %r1#0, %r1#1 : {ss}, {qs}
  }}
  return %r#1, %r#0 : {qs}, {ss}
}}""".format(fn=fn, qs=qs, ss=ss, B=B, T=T, H=H, D=D, lam=f64_list(decay))
    return mod.helper(fn, text)


def lightning_case(mod, checks, name, B, T, H, D, elem, layer, layers, split=None, decay=None):
    if decay is None:
        decay = lightning_decays(H, layer, layers)
    body = Body(mod)
    qshape, sshape = [B, T, H, D], [B, H, D, D]
    qe, se = ttype(qshape, elem), ttype(sshape)
    dec = "decay(%s)" % f64_list(decay)
    q32 = body.fill(qshape, 0.37, 0.1, 0.5)
    k32 = body.fill(qshape, 0.53, 1.3, 0.5)
    v32 = body.fill(qshape, 0.71, 2.9, 0.5)
    s0 = body.fill(sshape, 0.29, 0.7, 0.2)
    q = body.convert(q32, qshape, "f32", elem)
    k = body.convert(k32, qshape, "f32", elem)
    v = body.convert(v32, qshape, "f32", elem)

    # Chunked (the pass under test, chunk size from the RUN line).
    o, s = body.fresh("o"), body.fresh("s")
    body.emit("%s, %s = mm01.lightning_attention %s, %s, %s, %s %s : %s, %s" %
              (o, s, q, k, v, s0, dec, qe, se))

    # Decode, token by token.
    one = [B, 1, H, D]
    od = body.fresh("od")
    e = body.fresh("empty")
    body.emit("%s = tensor.empty() : %s" % (e, qe))
    c0, c1, cT = body.idx(0), body.idx(1), body.idx(T)
    t, oacc, sacc = body.fresh("t"), body.fresh("oacc"), body.fresh("sacc")
    body.emit("%s:2 = scf.for %s = %s to %s step %s iter_args(%s = %s, %s = %s) -> (%s, %s) {" %
              (od, t, c0, cT, c1, oacc, e, sacc, s0, qe, se))
    toks = []
    for src in (q, k, v):
        x = body.fresh("tok")
        body.emit("  %s = tensor.extract_slice %s[0, %s, 0, 0] [%d, 1, %d, %d] [1, 1, 1, 1] : %s to %s" %
                  (x, src, t, B, H, D, qe, ttype(one, elem)))
        toks.append(x)
    ot, st = body.fresh("ot"), body.fresh("st")
    body.emit("  %s, %s = mm01.lightning_decode %s, %s, %s, %s %s : %s, %s" %
              (ot, st, toks[0], toks[1], toks[2], sacc, dec, ttype(one, elem), se))
    o2 = body.fresh("oins")
    body.emit("  %s = tensor.insert_slice %s into %s[0, %s, 0, 0] [%d, 1, %d, %d] [1, 1, 1, 1] : %s into %s" %
              (o2, ot, oacc, t, B, H, D, ttype(one, elem), qe))
    body.emit("  scf.yield %s, %s : %s, %s" % (o2, st, qe, se))
    body.emit("}")

    # Naive scalar recurrence on the (rounded) inputs, in f32.
    naive = naive_lightning(mod, "%dx%dx%dx%d_%s_l%d" % (B, T, H, D, elem, layer), B, T, H, D, decay)
    qn = body.convert(q, qshape, elem, "f32")
    kn = body.convert(k, qshape, elem, "f32")
    vn = body.convert(v, qshape, elem, "f32")
    on, sn = body.fresh("on"), body.fresh("sn")
    body.emit("%s, %s = call @%s(%s, %s, %s, %s) : (%s, %s, %s, %s) -> (%s, %s)" %
              (on, sn, naive, qn, kn, vn, s0, ttype(qshape), ttype(qshape), ttype(qshape), se,
               ttype(qshape), se))

    out_tol = 1e-5 if elem == "f32" else 1e-2
    checks.append(body.report("%s output chunked-vs-decode" % name, o, "%s#0" % od, qshape, elem, out_tol))
    checks.append(body.report("%s state chunked-vs-decode" % name, s, "%s#1" % od, sshape, "f32", 1e-5))
    ofl = body.convert(o, qshape, elem, "f32")
    checks.append(body.report("%s output chunked-vs-naive" % name, ofl, on, qshape, "f32", out_tol))
    checks.append(body.report("%s state decode-vs-naive" % name, "%s#1" % od, sn, sshape, "f32", 1e-5))

    if split is not None:
        t1, t2 = split, T - split
        parts = []
        for src in (q, k, v):
            a, b = body.fresh("p1"), body.fresh("p2")
            body.emit("%s = %s" % (a, slice_op(src, [0, 0, 0, 0], [B, t1, H, D], qshape, elem)))
            body.emit("%s = %s" % (b, slice_op(src, [0, t1, 0, 0], [B, t2, H, D], qshape, elem)))
            parts.append((a, b))
        o1, s1 = body.fresh("o1_"), body.fresh("s1_")
        body.emit("%s, %s = mm01.lightning_attention %s, %s, %s, %s %s : %s, %s" %
                  (o1, s1, parts[0][0], parts[1][0], parts[2][0], s0, dec, ttype([B, t1, H, D], elem), se))
        o2_, s2 = body.fresh("o2_"), body.fresh("s2_")
        body.emit("%s, %s = mm01.lightning_attention %s, %s, %s, %s %s : %s, %s" %
                  (o2_, s2, parts[0][1], parts[1][1], parts[2][1], s1, dec, ttype([B, t2, H, D], elem), se))
        e2 = body.fresh("empty")
        body.emit("%s = tensor.empty() : %s" % (e2, qe))
        i1, i2 = body.fresh("cat"), body.fresh("cat")
        body.emit("%s = %s" % (i1, slice_op(o1, [0, 0, 0, 0], [B, t1, H, D], qshape, elem, insert_into=e2)))
        body.emit("%s = %s" % (i2, slice_op(o2_, [0, t1, 0, 0], [B, t2, H, D], qshape, elem, insert_into=i1)))
        checks.append(body.report("%s output two-prefills-vs-one" % name, i2, o, qshape, elem, out_tol))
        checks.append(body.report("%s state two-prefills-vs-one" % name, s2, s, sshape, "f32", 1e-5))

    fn = "case_lightning_" + name
    mod.cases.append("func.func @%s() {\n%s\n  return\n}" % (fn, "\n".join(body.lines)))
    mod.case_names.append(fn)


# ---------------------------------------------------------------------------
# RoPE
# ---------------------------------------------------------------------------

def hf_inv_freq(theta, rotary_dim):
    """HF: 1.0 / (theta ** (torch.arange(0, R, 2).float() / R)), all in float32.

    The exponent is the float32 quotient, the power is correctly rounded to
    float32 (computed in float64, then rounded; numpy's own float32 power is
    off by one ulp for some of these), and the reciprocal is a float32 division.
    """
    exps = np.arange(0, rotary_dim, 2, dtype=np.int64).astype(np.float32) / np.float32(rotary_dim)
    pows = np.array([float(np.float32(theta)) ** float(e) for e in exps]).astype(np.float32)
    return (np.float32(1.0) / pows).astype(np.float32)


def naive_rope(mod, tag, shape, pos_elem, theta, rotary):
    B, T, H, D = shape
    xs, ps = ttype(shape), ttype([B, T], pos_elem)
    half = rotary // 2
    inv = hf_inv_freq(theta, rotary)
    fn = "naive_rope_" + tag
    text = """\
func.func @{fn}(%x: {xs}, %pos: {ps}) -> {xs} {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cB = arith.constant {B} : index
  %cT = arith.constant {T} : index
  %cH = arith.constant {H} : index
  %cD = arith.constant {D} : index
  %cR = arith.constant {R} : index
  %chalf = arith.constant {half} : index
  %inv = arith.constant dense<[{inv}]> : tensor<{half}xf32>
  %o0 = tensor.empty() : {xs}
  %r = scf.for %b = %c0 to %cB step %c1 iter_args(%O = %o0) -> ({xs}) {{
    %r1 = scf.for %t = %c0 to %cT step %c1 iter_args(%O1 = %O) -> ({xs}) {{
      %p = tensor.extract %pos[%b, %t] : {ps}
      %pf = arith.sitofp %p : {pe} to f32
      %r2 = scf.for %h = %c0 to %cH step %c1 iter_args(%O2 = %O1) -> ({xs}) {{
        %r3 = scf.for %c = %c0 to %cD step %c1 iter_args(%O3 = %O2) -> ({xs}) {{
          %xv = tensor.extract %x[%b, %t, %h, %c] : {xs}
          %inR = arith.cmpi ult, %c, %cR : index
          %val = scf.if %inR -> (f32) {{
            %lo = arith.cmpi ult, %c, %chalf : index
            %cm = arith.subi %c, %chalf : index
            %cp = arith.addi %c, %chalf : index
            %i = arith.select %lo, %c, %cm : index
            %partner = arith.select %lo, %cp, %cm : index
            %xp = tensor.extract %x[%b, %t, %h, %partner] : {xs}
            %f = tensor.extract %inv[%i] : tensor<{half}xf32>
            %ang = arith.mulf %pf, %f : f32
            %cos = math.cos %ang : f32
            %sin = math.sin %ang : f32
            %xc = arith.mulf %xv, %cos : f32
            %ps = arith.mulf %xp, %sin : f32
            %res = scf.if %lo -> (f32) {{
              %d = arith.subf %xc, %ps : f32
              scf.yield %d : f32
            }} else {{
              %s = arith.addf %xc, %ps : f32
              scf.yield %s : f32
            }}
            scf.yield %res : f32
          }} else {{
            scf.yield %xv : f32
          }}
          %O4 = tensor.insert %val into %O3[%b, %t, %h, %c] : {xs}
          scf.yield %O4 : {xs}
        }}
        scf.yield %r3 : {xs}
      }}
      scf.yield %r2 : {xs}
    }}
    scf.yield %r1 : {xs}
  }}
  return %r : {xs}
}}""".format(fn=fn, xs=xs, ps=ps, pe=pos_elem, B=B, T=T, H=H, D=D, R=rotary, half=half,
             inv=", ".join(f32_lit(x) for x in inv))
    return mod.helper(fn, text)


def dense_int(values, shape, elem):
    rows = ", ".join("[" + ", ".join(str(int(x)) for x in row) + "]" for row in values)
    return "arith.constant dense<[%s]> : %s" % (rows, ttype(shape, elem))


def rope_case(mod, checks, name, shape, elem, pos_elem, positions, theta, rotary):
    B, T, H, D = shape
    body = Body(mod)
    x32 = body.fill(shape, 0.61, 0.4, 1.0)
    x = body.convert(x32, shape, "f32", elem)
    pos = body.fresh("pos")
    body.emit("%s = %s" % (pos, dense_int(positions, [B, T], pos_elem)))
    r = body.fresh("rope")
    body.emit("%s = mm01.rope %s, %s theta(%r) rotary_dim(%d) : %s, %s" %
              (r, x, pos, float(theta), rotary, ttype(shape, elem), ttype([B, T], pos_elem)))
    naive = naive_rope(mod, "%s_%s_r%d_%s" % (shape_str(shape), pos_elem, rotary, name), shape, pos_elem,
                       theta, rotary)
    xn = body.convert(x, shape, elem, "f32")
    n = body.fresh("naive")
    body.emit("%s = call @%s(%s, %s) : (%s, %s) -> %s" %
              (n, naive, xn, pos, ttype(shape), ttype([B, T], pos_elem), ttype(shape)))
    n = body.convert(body.convert(n, shape, "f32", elem), shape, elem, "f32")
    rf = body.convert(r, shape, elem, "f32")
    checks.append(body.report("%s rope-vs-naive" % name, rf, n, shape, "f32", 1e-6 if elem == "f32" else 1e-2))
    fn = "case_rope_" + name
    mod.cases.append("func.func @%s() {\n%s\n  return\n}" % (fn, "\n".join(body.lines)))
    mod.case_names.append(fn)


# ---------------------------------------------------------------------------
# Softmax attention
# ---------------------------------------------------------------------------

def naive_attention(mod, tag, B, T, H, Hkv, D, C, pos_elem, scale):
    qs, ks, cs = ttype([B, T, H, D]), ttype([B, T, Hkv, D]), ttype([B, C, Hkv, D])
    ps = ttype([B, T], pos_elem)
    fn = "naive_attention_" + tag
    text = """\
func.func @{fn}(%q: {qs}, %k: {ks}, %v: {ks}, %kc0: {cs}, %vc0: {cs}, %pos: {ps}) -> ({qs}, {cs}, {cs}) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cB = arith.constant {B} : index
  %cT = arith.constant {T} : index
  %cH = arith.constant {H} : index
  %cHkv = arith.constant {Hkv} : index
  %cG = arith.constant {G} : index
  %cD = arith.constant {D} : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %scale = arith.constant {scale} : f32
  // 1. Cache update, element by element.
  %kv:2 = scf.for %b = %c0 to %cB step %c1 iter_args(%KC = %kc0, %VC = %vc0) -> ({cs}, {cs}) {{
    %kv1:2 = scf.for %t = %c0 to %cT step %c1 iter_args(%KC1 = %KC, %VC1 = %VC) -> ({cs}, {cs}) {{
      %p = tensor.extract %pos[%b, %t] : {ps}
      %row = arith.index_cast %p : {pe} to index
      %kv2:2 = scf.for %h = %c0 to %cHkv step %c1 iter_args(%KC2 = %KC1, %VC2 = %VC1) -> ({cs}, {cs}) {{
        %kv3:2 = scf.for %d = %c0 to %cD step %c1 iter_args(%KC3 = %KC2, %VC3 = %VC2) -> ({cs}, {cs}) {{
          %kx = tensor.extract %k[%b, %t, %h, %d] : {ks}
          %vx = tensor.extract %v[%b, %t, %h, %d] : {ks}
          %KC4 = tensor.insert %kx into %KC3[%b, %row, %h, %d] : {cs}
          %VC4 = tensor.insert %vx into %VC3[%b, %row, %h, %d] : {cs}
          scf.yield %KC4, %VC4 : {cs}, {cs}
        }}
        scf.yield %kv3#0, %kv3#1 : {cs}, {cs}
      }}
      scf.yield %kv2#0, %kv2#1 : {cs}, {cs}
    }}
    scf.yield %kv1#0, %kv1#1 : {cs}, {cs}
  }}
  %KCf = %kv#0
  // 2. For every (b, t, h): scores over rows 0..pos, softmax, weighted sum.
  %o0 = tensor.empty() : {qs}
  %r = scf.for %b = %c0 to %cB step %c1 iter_args(%O = %o0) -> ({qs}) {{
    %r1 = scf.for %t = %c0 to %cT step %c1 iter_args(%O1 = %O) -> ({qs}) {{
      %p = tensor.extract %pos[%b, %t] : {ps}
      %pi = arith.index_cast %p : {pe} to index
      %n = arith.addi %pi, %c1 : index
      %r2 = scf.for %h = %c0 to %cH step %c1 iter_args(%O2 = %O1) -> ({qs}) {{
        %g = arith.divui %h, %cG : index
        %se = tensor.empty() : tensor<{C}xf32>
        %sm:2 = scf.for %j = %c0 to %n step %c1 iter_args(%S = %se, %m = %ninf) -> (tensor<{C}xf32>, f32) {{
          %dot = scf.for %d = %c0 to %cD step %c1 iter_args(%acc = %zero) -> (f32) {{
            %qx = tensor.extract %q[%b, %t, %h, %d] : {qs}
            %kx = tensor.extract %kv#0[%b, %j, %g, %d] : {cs}
            %pr = arith.mulf %qx, %kx : f32
            %acc2 = arith.addf %acc, %pr : f32
            scf.yield %acc2 : f32
          }}
          %sc = arith.mulf %dot, %scale : f32
          %S2 = tensor.insert %sc into %S[%j] : tensor<{C}xf32>
          %m2 = arith.maximumf %m, %sc : f32
          scf.yield %S2, %m2 : tensor<{C}xf32>, f32
        }}
        %sum = scf.for %j = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) {{
          %sc = tensor.extract %sm#0[%j] : tensor<{C}xf32>
          %sh = arith.subf %sc, %sm#1 : f32
          %ex = math.exp %sh : f32
          %acc2 = arith.addf %acc, %ex : f32
          scf.yield %acc2 : f32
        }}
        %r3 = scf.for %d = %c0 to %cD step %c1 iter_args(%O3 = %O2) -> ({qs}) {{
          %od = scf.for %j = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) {{
            %sc = tensor.extract %sm#0[%j] : tensor<{C}xf32>
            %sh = arith.subf %sc, %sm#1 : f32
            %ex = math.exp %sh : f32
            %pj = arith.divf %ex, %sum : f32
            %vx = tensor.extract %kv#1[%b, %j, %g, %d] : {cs}
            %pr = arith.mulf %pj, %vx : f32
            %acc2 = arith.addf %acc, %pr : f32
            scf.yield %acc2 : f32
          }}
          %O4 = tensor.insert %od into %O3[%b, %t, %h, %d] : {qs}
          scf.yield %O4 : {qs}
        }}
        scf.yield %r3 : {qs}
      }}
      scf.yield %r2 : {qs}
    }}
    scf.yield %r1 : {qs}
  }}
  return %r, %kv#0, %kv#1 : {qs}, {cs}, {cs}
}}""".format(fn=fn, qs=qs, ks=ks, cs=cs, ps=ps, pe=pos_elem, B=B, T=T, H=H, Hkv=Hkv, G=H // Hkv, D=D, C=C,
             scale=f32_lit(scale))
    text = text.replace("  %KCf = %kv#0\n", "")
    return mod.helper(fn, text)


def attention_case(mod, checks, name, B, T, H, Hkv, D, C, elem, pos_elem, positions, scale=None):
    if scale is None:
        scale = 1.0 / math.sqrt(D)
    body = Body(mod)
    qshape, kshape, cshape = [B, T, H, D], [B, T, Hkv, D], [B, C, Hkv, D]
    q32 = body.fill(qshape, 0.37, 0.1, 1.0)
    k32 = body.fill(kshape, 0.53, 1.3, 1.0)
    v32 = body.fill(kshape, 0.71, 2.9, 1.0)
    # Caches hold "earlier tokens" (and garbage past them, which must never be read).
    kc32 = body.fill(cshape, 0.43, 0.2, 1.0)
    vc32 = body.fill(cshape, 0.67, 1.7, 1.0)
    q, k, v, kc, vc = (body.convert(x, s, "f32", elem) for x, s in
                       ((q32, qshape), (k32, kshape), (v32, kshape), (kc32, cshape), (vc32, cshape)))
    pos = body.fresh("pos")
    body.emit("%s = %s" % (pos, dense_int(positions, [B, T], pos_elem)))
    o, nk, nv = body.fresh("o"), body.fresh("nkc"), body.fresh("nvc")
    body.emit("%s, %s, %s = mm01.softmax_attention %s, %s, %s, cache(%s, %s) positions(%s) scale(%r) "
              ": %s, %s, %s, %s" % (o, nk, nv, q, k, v, kc, vc, pos, float(scale), ttype(qshape, elem),
                                    ttype(kshape, elem), ttype(cshape, elem), ttype([B, T], pos_elem)))
    naive = naive_attention(mod, "%dx%dx%dx%dx%dx%d_%s_%s" % (B, T, H, Hkv, D, C, pos_elem, name), B, T, H,
                            Hkv, D, C, pos_elem, scale)
    args32 = [body.convert(x, s, elem, "f32") for x, s in
              ((q, qshape), (k, kshape), (v, kshape), (kc, cshape), (vc, cshape))]
    on, nkn, nvn = body.fresh("on"), body.fresh("nkn"), body.fresh("nvn")
    body.emit("%s, %s, %s = call @%s(%s, %s) : (%s, %s, %s, %s, %s, %s) -> (%s, %s, %s)" %
              (on, nkn, nvn, naive, ", ".join(args32), pos, ttype(qshape), ttype(kshape), ttype(kshape),
               ttype(cshape), ttype(cshape), ttype([B, T], pos_elem), ttype(qshape), ttype(cshape),
               ttype(cshape)))
    tol = 1e-5 if elem == "f32" else 1e-2
    of = body.convert(o, qshape, elem, "f32")
    checks.append(body.report("%s output-vs-naive" % name, of, on, qshape, "f32", tol))
    checks.append(body.report("%s key-cache-vs-naive" % name, body.convert(nk, cshape, elem, "f32"), nkn,
                              cshape, "f32", 1e-7))
    checks.append(body.report("%s value-cache-vs-naive" % name, body.convert(nv, cshape, elem, "f32"), nvn,
                              cshape, "f32", 1e-7))
    fn = "case_attention_" + name
    mod.cases.append("func.func @%s() {\n%s\n  return\n}" % (fn, "\n".join(body.lines)))
    mod.case_names.append(fn)


# ---------------------------------------------------------------------------

GENERATED = "// Generated by test/Conversion/Inputs/gen_attention_numerics.py; do not edit.\n"


def write(path, run_lines, checks, mod):
    header = GENERATED + "\n".join(run_lines) + "\n\n" + "\n".join(checks) + "\n"
    mod.emit(path, header)


def main():
    # Lightning: chunked (several chunk sizes) vs decode token by token vs naive.
    mod = Module()
    mod.case_names = []
    checks = []
    lightning_case(mod, checks, "b2_t37_h2_d16", 2, 37, 2, 16, "f32", 0, 8, split=20)
    lightning_case(mod, checks, "b1_t100_h4_d8", 1, 100, 4, 8, "f32", 3, 8, split=64)
    lightning_case(mod, checks, "b1_t19_h1_d64", 1, 19, 1, 64, "f32", 1, 8)
    lightning_case(mod, checks, "b2_t37_h4_d16_bf16", 2, 37, 4, 16, "bf16", 0, 8, split=5)
    # Fast decays (head 0 of a 64-head model, and a larger one): e^{-λ·m} underflows.
    lightning_case(mod, checks, "b1_t100_h2_d8_fast", 1, 100, 2, 8, "f32", 0, 8, split=33,
                   decay=[2.0 ** (-8.0 / 64), 1.5])
    run = ["// RUN: mm01-opt %%s --mm01-lower-lightning=chunk-size=%d | %%mm01-attn-lower-to-llvm \\\n"
           "// RUN:   | %%mm01-attn-run | FileCheck %%s" % c for c in (1, 5, 16, 64, 128)]
    run.insert(0, "// Lightning attention, chunked form (the chunk size of each RUN line) against the\n"
                  "// decode op applied token by token and a naive scalar recurrence; an incoming state,\n"
                  "// T not a multiple of the chunk, chunks larger than T, and prefill in two pieces.")
    write(os.path.join(OUT_DIR, "lightning-numerics.mlir"), run, checks, mod)

    # RoPE vs naive.
    mod = Module()
    mod.case_names = []
    checks = []
    rope_case(mod, checks, "partial_theta1e7", [2, 5, 3, 16], "f32", "i64",
              [[0, 1, 2, 3, 4], [7, 100, 601, 4095, 65000]], 1e7, 8)
    rope_case(mod, checks, "full_theta1e4_i32", [1, 7, 2, 8], "f32", "i32",
              [[0, 3, 9, 27, 81, 243, 729]], 10000.0, 8)
    rope_case(mod, checks, "minimax_d64_r32", [1, 4, 2, 64], "f32", "i64",
              [[596, 597, 598, 599]], 1e7, 32)
    rope_case(mod, checks, "bf16", [1, 4, 2, 16], "bf16", "i64", [[0, 5, 10, 15]], 1e7, 8)
    run = ["// RoPE against a naive scalar formulation with HF's float32 inv_freq table (numpy).",
           "// RUN: mm01-opt %s --mm01-lower-rope | %mm01-attn-lower-to-llvm | %mm01-attn-run | FileCheck %s"]
    write(os.path.join(OUT_DIR, "rope-numerics.mlir"), run, checks, mod)

    # Softmax attention vs naive.
    mod = Module()
    mod.case_names = []
    checks = []
    # Prefill: batch row 0 starts at 0, row 1 continues after 5 cached tokens.
    attention_case(mod, checks, "prefill_gqa2", 2, 13, 4, 2, 16, 32, "f32", "i64",
                   [list(range(0, 13)), list(range(5, 18))])
    attention_case(mod, checks, "prefill_gqa4_i32", 1, 6, 4, 1, 8, 8, "f32", "i32",
                   [list(range(2, 8))])
    attention_case(mod, checks, "decode_mha", 2, 1, 2, 2, 16, 32, "f32", "i64", [[13], [20]])
    attention_case(mod, checks, "decode_gqa_bf16", 2, 1, 4, 2, 16, 24, "bf16", "i64", [[0], [23]])
    run = ["// Softmax attention (cache update + causal GQA softmax) against a naive scalar formulation.",
           "// RUN: mm01-opt %s --mm01-lower-softmax-attention | %mm01-attn-lower-to-llvm | %mm01-attn-run \\",
           "// RUN:   | FileCheck %s"]
    write(os.path.join(OUT_DIR, "softmax-attention-numerics.mlir"), run, checks, mod)


if __name__ == "__main__":
    main()
