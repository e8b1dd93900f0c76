//===- Passes.td - lowering of the mm01 attention ops ---------*- tablegen -*-===//
//
// Lower the attention ops of the mm01 model dialect (lightning attention,
// RoPE, softmax attention) to upstream linalg/tensor/scf/arith/math on
// tensors. Every other op is left untouched, so these passes compose with the
// lowering of the rest of the dialect. Shapes must be static.
//
//===----------------------------------------------------------------------===//
#ifndef MM01_ATTENTION_TO_LINALG_PASSES
#define MM01_ATTENTION_TO_LINALG_PASSES

include "mlir/Pass/PassBase.td"

def MM01LowerLightning : Pass<"mm01-lower-lightning"> {
  let summary = "Lower mm01.lightning_attention (chunked) and "
                "mm01.lightning_decode (recurrent) to linalg";
  let description = [{
    `mm01.lightning_attention` becomes the chunked form, computed in f32 with
    the state kept in f32: an `scf.for` over the full chunks of `chunk-size`
    tokens carrying the state `S` ([B·H, D, D]) and the f32 output, and a
    statically sized tail chunk when `T % chunk-size != 0`. Per chunk:

    ```
    O      = ((Q Kᵀ) ⊙ M) V + (Q ⊙ e^{-λ(i+1)}) S_prev,  M[i,j] = e^{-λ(i-j)} (i ≥ j), else 0
    S_next = e^{-λ m} S_prev + (K ⊙ e^{-λ(m-1-j)})ᵀ V
    ```

    The three products are `linalg.batch_matmul`s over the flattened
    (batch, head) dimension; the decay tables are computed once (f64
    `math.exp` of the λ attribute, rounded to f32) before the loop.

    `mm01.lightning_decode` becomes the recurrent step
    `S ← e^{-λ} S + kᵀ v;  o = q S`.

    bf16/f16 inputs are extended to f32; the output is rounded back to the
    input element type. All dimensions must be static.
  }];
  let options = [
    Option<"chunkSize", "chunk-size", "int64_t", /*default=*/"64",
           "tokens per chunk of the chunked (prefill) form; any positive value "
           "gives the same function">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def MM01LowerRoPE : Pass<"mm01-lower-rope"> {
  let summary = "Lower mm01.rope to linalg.generic (partial rotate-half RoPE)";
  let description = [{
    The first `rotary_dim` (R) channels of every head are rotated in f32,
    pairing channel `c` with `c + R/2`; the channels `R..D-1` pass through.
    `inv_freq_i = 1 / theta^(2i/R)` is computed in f32 the way HF does
    (`theta ** (arange(0, R, 2) / R)` in float32), then `angle = pos ·
    inv_freq` in f32 and its cos/sin in f32. The result is rounded to the
    input element type. All dimensions must be static.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"
  ];
}

def MM01LowerSoftmaxAttention : Pass<"mm01-lower-softmax-attention"> {
  let summary = "Lower mm01.softmax_attention (KV-cache update + causal GQA "
                "softmax attention) to scf/tensor/linalg";
  let description = [{
    First writes `key`/`value` into the caches at the rows `positions[b, t]`
    (an `scf.for` nest of `tensor.insert_slice`, with a runtime `cf.assert`
    that every position lies inside the cache), then computes, in f32,

    ```
    s[b,t,h,j] = scale · q[b,t,h] · kc[b,j,h / (H/Hkv)]   if j ≤ positions[b,t], else -inf
    p          = exp(s - max_j s) / Σ_j exp(s - max_j s)
    o[b,t,h]   = Σ_j p[b,t,h,j] · vc[b,j,h / (H/Hkv)]
    ```

    over all cache rows j, and rounds `o` to the query element type. All
    dimensions must be static.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"
  ];
}

#endif // MM01_ATTENTION_TO_LINALG_PASSES
