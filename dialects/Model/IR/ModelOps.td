//===- ModelOps.td - mm01 model-level operations -------------*- tablegen -*-===//
//
// Shape conventions (B batch, T tokens, d hidden, H heads, D head_dim,
// Hkv KV heads, C KV-cache capacity, E experts, I expert width, K top-k):
// any dimension may be dynamic (`?`); verifiers check every static one.
// Head counts and head_dim are static where an op's contract depends on them.
//
//===----------------------------------------------------------------------===//

#ifndef MM01_MODEL_OPS
#define MM01_MODEL_OPS

include "Model/IR/ModelDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/Traits.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

class MM01_Op<string mnemonic, list<Trait> traits = []>
    : Op<MM01_Dialect, mnemonic, traits>;

def MM01_FloatTensor : RankedTensorOf<[AnyFloat]>;
def MM01_IndexTensor : RankedTensorOf<[I32, I64]>;
def MM01_F32Tensor : RankedTensorOf<[F32]>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def MM01_WeightOp : MM01_Op<"weight", [Pure]> {
  let summary = "a checkpoint tensor, referenced by name";
  let description = [{
    Names one tensor of the checkpoint. The IR carries no weight data: the
    result type states the shape and dtype the model expects, and whoever
    binds weights (the CPU runner, the engine's weight manifest) checks the
    checkpoint against it.

    ```mlir
    %w = mm01.weight "model.norm.weight" : tensor<6144xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs MM01_FloatTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def MM01_ExpertWeightsOp : MM01_Op<"expert_weights", [Pure]> {
  let summary = "the same checkpoint tensor of every expert, stacked";
  let description = [{
    `name_format` contains the placeholder `{e}` exactly once; expert `e`'s
    tensor is the name with `{e}` replaced by `e`. The leading result dimension
    is the expert count and must be static.

    ```mlir
    %w1 = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w1.weight"
        : tensor<32x9216x6144xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$name_format);
  let results = (outs MM01_FloatTensor:$result);
  let assemblyFormat = "$name_format attr-dict `:` type($result)";
  let extraClassDeclaration = [{
    /// The checkpoint name of expert `e`'s tensor.
    std::string getExpertName(int64_t e);
    int64_t getNumExperts() { return getResult().getType().getDimSize(0); }
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Embedding, norms, projections, elementwise
//===----------------------------------------------------------------------===//

def MM01_EmbeddingOp : MM01_Op<"embedding", [Pure]> {
  let summary = "token embedding lookup";
  let description = [{
    `result[b, t, :] = table[ids[b, t], :]`, converted to the result element
    type. `ids` outside `[0, V)` is a runtime error of whoever executes it.
    `table` is `[V, d]`, `ids` `[B, T]` (i32 or i64), the result `[B, T, d]`.

    ```mlir
    %x = mm01.embedding %table[%ids]
        : tensor<200064x6144xbf16>, tensor<?x?xi64> -> tensor<?x?x6144xf32>
    ```
  }];
  let arguments = (ins MM01_FloatTensor:$table, MM01_IndexTensor:$ids);
  let results = (outs MM01_FloatTensor:$result);
  let assemblyFormat = [{
    $table `[` $ids `]` attr-dict `:` type($table) `,` type($ids) `->` type($result)
  }];
  let hasVerifier = 1;
}

def MM01_RMSNormOp : MM01_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "RMSNorm over the last dimension, reduced in f32";
  let description = [{
    `result = weight ⊙ cast(x_f32 · rsqrt(mean(x_f32²) + epsilon))`, over the
    last dimension of `x`. `weight` has the size of that dimension and may
    have another float type than `x` (e.g. bf16 weights, f32 activations);
    the result has the type of `x`. `epsilon` is positive.

    ```mlir
    %h = mm01.rms_norm %x, %w eps(1.0e-05) : tensor<?x?x6144xf32>, tensor<6144xbf16>
    ```
  }];
  let arguments = (ins MM01_FloatTensor:$input, MM01_FloatTensor:$weight,
                       F64Attr:$epsilon);
  let results = (outs MM01_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `eps` `(` $epsilon `)` attr-dict `:` type($input) `,` type($weight)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight, "double":$epsilon), [{
      build($_builder, $_state, input.getType(), input, weight,
            $_builder.getF64FloatAttr(epsilon));
    }]>];
  let hasVerifier = 1;
}

def MM01_LinearOp : MM01_Op<"linear", [Pure]> {
  let summary = "y = x · Wᵀ against a weight of shape [N, K]";
  let description = [{
    `x` is `[..., K]`, `weight` `[N, K]` (the checkpoint's layout), the result
    `[..., N]` in the element type of `x`. No bias. The weight may have
    another float type than `x`.

    ```mlir
    %y = mm01.linear %h, %w : tensor<?x?x6144xf32>, tensor<24576x6144xbf16>
        -> tensor<?x?x24576xf32>
    ```
  }];
  let arguments = (ins MM01_FloatTensor:$input, MM01_FloatTensor:$weight);
  let results = (outs MM01_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

class MM01_UnaryElementwiseOp<string mnemonic, string formula>
    : MM01_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = formula;
  let description = [{
    Elementwise on a float tensor of any shape; the result has the type of
    the input.

    ```mlir
    %y = mm01.}] # mnemonic # [{ %x : tensor<?x?x24576xf32>
    ```
  }];
  let arguments = (ins MM01_FloatTensor:$input);
  let results = (outs MM01_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}
def MM01_SiLUOp : MM01_UnaryElementwiseOp<"silu", "x · sigmoid(x), elementwise">;
def MM01_SigmoidOp : MM01_UnaryElementwiseOp<"sigmoid", "1 / (1 + e^-x), elementwise">;

def MM01_DeepNormResidualOp : MM01_Op<"deepnorm_residual",
    [Pure, SameOperandsAndResultType]> {
  let summary = "α · residual + β · update (DeepNorm-scaled residual)";
  let description = [{
    MiniMax-01 applies it after the token mixer (with the layer kind's α, β)
    and after the MoE (with the MLP's α, β). The residual is the *normed*
    input of the sub-block, not the block input. Operands and result have
    one type.

    ```mlir
    %x1 = mm01.deepnorm_residual %h, %attn alpha(3.5565588) beta(1.0)
        : tensor<?x?x6144xf32>
    ```
  }];
  let arguments = (ins MM01_FloatTensor:$residual, MM01_FloatTensor:$update,
                       F64Attr:$alpha, F64Attr:$beta);
  let results = (outs MM01_FloatTensor:$result);
  let assemblyFormat = [{
    $residual `,` $update `alpha` `(` $alpha `)` `beta` `(` $beta `)` attr-dict `:` type($result)
  }];
}

def MM01_SplitHeadsOp : MM01_Op<"split_heads", [Pure]> {
  let summary = "[B, T, H·D] -> [B, T, H, D]";
  let description = [{
    Views the last dimension as `H` heads of `D` channels, head `n` at
    columns `[n·D, (n+1)·D)`. `H` and `D` are read from the result type and
    must be static; the input width must be `H·D`.

    ```mlir
    %q = mm01.split_heads %p : tensor<?x?x8192xf32> -> tensor<?x?x64x128xf32>
    ```
  }];
  let arguments = (ins MM01_FloatTensor:$input);
  let results = (outs MM01_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def MM01_MergeHeadsOp : MM01_Op<"merge_heads", [Pure]> {
  let summary = "[B, T, H, D] -> [B, T, H·D]";
  let description = [{
    The inverse of `mm01.split_heads`: head `n` lands at columns
    `[n·D, (n+1)·D)`. `H` and `D` of the input must be static.

    ```mlir
    %o = mm01.merge_heads %a : tensor<?x?x64x128xf32> -> tensor<?x?x8192xf32>
    ```
  }];
  let arguments = (ins MM01_FloatTensor:$input);
  let results = (outs MM01_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def MM01_SplitQKVOp : MM01_Op<"split_qkv", [Pure, AllTypesMatch<["q", "k", "v"]>]> {
  let summary = "split a per-head interleaved QKV projection into q, k, v";
  let description = [{
    `qkv` is `[B, T, 3·H·D]` with head `n`'s q, k, v at columns
    `[3Dn, 3Dn+D)`, `[3Dn+D, 3Dn+2D)`, `[3Dn+2D, 3D(n+1))` (MiniMax's
    lightning layout, not a global q|k|v split). Each result is
    `[B, T, H, D]` with static `H` and `D`; the three have one type, written
    once in the assembly.

    ```mlir
    %q, %k, %v = mm01.split_qkv %qkv : tensor<?x?x24576xf32> -> tensor<?x?x64x128xf32>
    ```
  }];
  let arguments = (ins MM01_FloatTensor:$qkv);
  let results = (outs MM01_FloatTensor:$q, MM01_FloatTensor:$k, MM01_FloatTensor:$v);
  let assemblyFormat = "$qkv attr-dict `:` type($qkv) `->` type($q)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Lightning attention
//===----------------------------------------------------------------------===//

class MM01_LightningOpBase<string mnemonic, string form>
    : MM01_Op<mnemonic, [Pure, AllTypesMatch<["query", "key", "value", "output"]>,
                            AllTypesMatch<["state", "new_state"]>]> {
  let arguments = (ins MM01_FloatTensor:$query, MM01_FloatTensor:$key,
                       MM01_FloatTensor:$value, MM01_F32Tensor:$state,
                       DenseF64ArrayAttr:$decay);
  let results = (outs MM01_FloatTensor:$output, MM01_F32Tensor:$new_state);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $state `decay` `(` custom<DecayRates>($decay) `)` attr-dict
    `:` type($query) `,` type($state)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// "prefill" (mm01.lightning_attention) or "decode" (mm01.lightning_decode).
    static ::llvm::StringRef getForm() { return "}] # form # [{"; }
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$query, "::mlir::Value":$key, "::mlir::Value":$value,
                   "::mlir::Value":$state, "::llvm::ArrayRef<double>":$decay), [{
      build($_builder, $_state, query.getType(), state.getType(), query, key, value,
            state, $_builder.getDenseF64ArrayAttr(decay));
    }]>];
}

def MM01_LightningAttentionOp : MM01_LightningOpBase<"lightning_attention", "prefill"> {
  let summary = "causal linear attention with per-head exponential decay (prefill form)";
  let description = [{
    q, k, v, output: `[B, T, H, D]`; state, new_state: `[B, H, D, D]` f32;
    `decay`: the H per-head rates λ. Per batch row and head, starting from
    `state`:

    ```
    S_t = e^{-λ} S_{t-1} + k_tᵀ v_t,    o_t = q_t S_t
    ```

    `new_state` is `S_T`. No 1/√D scaling. Lowerings compute it in the chunked
    form (intra-chunk masked `Q Kᵀ`, inter-chunk `Q S`), which is the same
    function for any chunk size.

    Verified: q, k, v and output have one type, state and new_state another
    (f32); H and D are static, H is a power of two (the decay formula for
    other H is not implemented); state is `[B, H, D, D]`; `decay` has H
    rates, each positive and finite.

    The rates are written `decay([λ_0, λ_1, ...])` and printed with as many
    digits as it takes to parse back the same doubles.

    ```mlir
    %o, %s1 = mm01.lightning_attention %q, %k, %v, %s
        decay([0.0625, 0.00390625])
        : tensor<?x?x2x64xf32>, tensor<?x2x64x64xf32>
    ```
  }];
}

def MM01_LightningDecodeOp : MM01_LightningOpBase<"lightning_decode", "decode"> {
  let summary = "one recurrent step of lightning attention";
  let description = [{
    The single-token form of `mm01.lightning_attention`: q, k, v, output are
    `[B, 1, H, D]` (a static T other than 1 is rejected), and lowerings use
    the recurrent update `S ← e^{-λ} S + kᵀ v; o = q S`. Otherwise verified
    like `mm01.lightning_attention`.

    ```mlir
    %o, %s1 = mm01.lightning_decode %q, %k, %v, %s
        decay([0.0625, 0.00390625])
        : tensor<?x1x2x64xf32>, tensor<?x2x64x64xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Softmax attention
//===----------------------------------------------------------------------===//

def MM01_RoPEOp : MM01_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "partial rotary position embedding (rotate-half pairing)";
  let description = [{
    `input` `[B, T, H, D]`, `positions` `[B, T]` absolute token positions.
    Rotates the first `rotary_dim` channels of every head with
    `inv_freq_i = theta^(-2i/rotary_dim)`, pairing channel `c` with
    `c + rotary_dim/2`; channels `rotary_dim..D-1` pass through.
    `rotary_dim` is positive, even and at most D; `theta` is positive.

    ```mlir
    %qr = mm01.rope %q, %pos theta(1.0e+07) rotary_dim(64)
        : tensor<?x?x64x128xf32>, tensor<?x?xi64>
    ```
  }];
  let arguments = (ins MM01_FloatTensor:$input, MM01_IndexTensor:$positions,
                       F64Attr:$theta, I64Attr:$rotary_dim);
  let results = (outs MM01_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $positions `theta` `(` $theta `)` `rotary_dim` `(` $rotary_dim `)` attr-dict
    `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
}

def MM01_SoftmaxAttentionOp : MM01_Op<"softmax_attention", [Pure,
    AllTypesMatch<["query", "output"]>, AllTypesMatch<["key", "value"]>,
    AllTypesMatch<["key_cache", "value_cache", "new_key_cache", "new_value_cache"]>]> {
  let summary = "causal GQA softmax attention over a KV cache";
  let description = [{
    q `[B, T, H, D]`; k, v `[B, T, Hkv, D]` (already rotated); caches
    `[B, C, Hkv, D]`; `positions` `[B, T]` absolute positions of the new
    tokens. First writes k, v into the caches at rows `positions[b, t]`, then
    `o[b,t,h] = softmax_j(scale · q[b,t,h] · kc[b,j,h/(H/Hkv)]) · vc[b,j,...]`
    over the rows `j ≤ positions[b, t]`. Returns o `[B, T, H, D]` and the
    updated caches. Rows at or past `positions` that this call does not write
    are never read, so a cache is valid up to the last written position.

    Verified: H and Hkv are static and H is a multiple of Hkv; batch, seq and
    head_dim agree across q, k, the caches and `positions`; a static C is at
    least a static T; q, k and the caches share one element type; `scale` is
    positive (usually `1/√D`).

    ```mlir
    %o, %kc1, %vc1 = mm01.softmax_attention %q, %k, %v, cache(%kc, %vc)
        positions(%pos) scale(0.088388347648318447)
        : tensor<?x?x64x128xf32>, tensor<?x?x8x128xf32>, tensor<?x?x8x128xf32>,
          tensor<?x?xi64>
    ```
  }];
  let arguments = (ins MM01_FloatTensor:$query, MM01_FloatTensor:$key,
                       MM01_FloatTensor:$value, MM01_FloatTensor:$key_cache,
                       MM01_FloatTensor:$value_cache, MM01_IndexTensor:$positions,
                       F64Attr:$scale);
  let results = (outs MM01_FloatTensor:$output, MM01_FloatTensor:$new_key_cache,
                      MM01_FloatTensor:$new_value_cache);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` `cache` `(` $key_cache `,` $value_cache `)`
    `positions` `(` $positions `)` `scale` `(` $scale `)` attr-dict
    `:` type($query) `,` type($key) `,` type($key_cache) `,` type($positions)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

def MM01_MoERouteOp : MM01_Op<"moe_route", [Pure]> {
  let summary = "router: f32 softmax over experts, top-k, renormalise";
  let description = [{
    `logits` `[..., E]` → `weights` `[..., K]` (f32) and `experts` `[..., K]`
    (integer indices), K = `top_k`. Ties go to the lower expert index. The
    weights of the chosen experts are renormalised to sum to one.
    `1 ≤ K ≤ E`; the leading dimensions of the results are those of `logits`.

    ```mlir
    %w, %e = mm01.moe_route %logits top_k(2)
        : tensor<?x?x32xf32> -> tensor<?x?x2xf32>, tensor<?x?x2xi64>
    ```
  }];
  let arguments = (ins MM01_FloatTensor:$logits, I64Attr:$top_k);
  let results = (outs MM01_F32Tensor:$weights, MM01_IndexTensor:$experts);
  let assemblyFormat = [{
    $logits `top_k` `(` $top_k `)` attr-dict `:` type($logits) `->` type($weights) `,` type($experts)
  }];
  let hasVerifier = 1;
}

def MM01_MoEExpertsOp : MM01_Op<"moe_experts", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "dispatch to experts, SwiGLU FFN, weighted combine";
  let description = [{
    `y[t] = Σ_j weights[t, j] · ((silu(x[t] w1[e]ᵀ) ⊙ (x[t] w3[e]ᵀ)) w2[e]ᵀ)`
    with `e = experts[t, j]`. x `[B, T, d]`; weights, experts `[B, T, K]`;
    w1, w3 `[E, I, d]`; w2 `[E, d, I]`. Inference semantics: no capacity
    limit, every token reaches its experts. Parallelisation passes split it
    into dispatch, grouped expert GEMMs and combine. The result has the type
    of x; K is at most E.

    ```mlir
    %y = mm01.moe_experts %h2, %w, %e experts(%w1, %w3, %w2)
        : tensor<?x?x6144xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>,
          tensor<32x9216x6144xbf16>, tensor<32x9216x6144xbf16>, tensor<32x6144x9216xbf16>
    ```
  }];
  let arguments = (ins MM01_FloatTensor:$input, MM01_F32Tensor:$weights,
                       MM01_IndexTensor:$experts, MM01_FloatTensor:$w1,
                       MM01_FloatTensor:$w3, MM01_FloatTensor:$w2);
  let results = (outs MM01_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weights `,` $experts `experts` `(` $w1 `,` $w3 `,` $w2 `)` attr-dict
    `:` type($input) `,` type($weights) `,` type($experts) `,` type($w1) `,` type($w3) `,` type($w2)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fusion groups (mm01-fuse)
//===----------------------------------------------------------------------===//

def MM01_FusionOp : MM01_Op<"fusion", [SingleBlock, RecursiveMemoryEffects]> {
  let summary = "ops that one generated kernel computes together";
  let description = [{
    Made by `mm01-fuse` and consumed by the kernel lowering
    (`mm01-model-to-kernels`): the body holds a producer/consumer chain whose
    intermediate values never reach memory, and `mm01.yield` returns the
    values the rest of the function uses. The body uses values from above
    (it is not isolated); the values it defines are invisible outside, which
    is what makes the intermediates private to the kernel.

    The verifier checks that the body is exactly the pattern of `kind`
    (see `#mm01.fusion_kind`), that every intermediate value is used only
    inside the chain, and that the yielded values are the chain's results.

    ```mlir
    %n = mm01.fusion <deepnorm_rms_norm> : tensor<?x?x6144xbf16> {
      %r = mm01.deepnorm_residual %h, %a alpha(3.5) beta(1.0) : tensor<?x?x6144xbf16>
      %y = mm01.rms_norm %r, %w eps(1.0e-05) : tensor<?x?x6144xbf16>, tensor<6144xbf16>
      mm01.yield %y : tensor<?x?x6144xbf16>
    }
    ```
  }];
  let arguments = (ins MM01_FusionKindAttr:$kind);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $kind attr-dict-with-keyword (`:` type($results)^)? $body
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The op whose results the group computes (its last op before the yield).
    ::mlir::Operation *getRoot();
    ::mm01::model::YieldOp getYield();
  }];
}

//===----------------------------------------------------------------------===//
// Hybrid layer block
//===----------------------------------------------------------------------===//

def MM01_DecoderLayerOp : MM01_Op<"decoder_layer", [
    IsolatedFromAbove, SingleBlock,
    RecursiveMemoryEffects]> {
  let summary = "one hybrid decoder layer (token mixer + MoE) as a region";
  let description = [{
    Groups the ops of one decoder layer. A lightning layer takes
    `(hidden, state)` and returns `(hidden, new_state)`; a softmax layer takes
    `(hidden, positions, key_cache, value_cache)` and returns
    `(hidden, new_key_cache, new_value_cache)`. The body's block arguments
    take the operands and `mm01.yield` returns the results. The body
    references weights itself, so the region is isolated from above and a
    layer can be compiled, tested or parallelised on its own.

    Verified: `index` ≥ 0; the operand and result counts of the kind; hidden
    is a rank-3 float tensor `[B, T, d]` and result 0 has its type; a
    lightning state is an f32 `[B, H, D, D]` tensor; softmax positions are
    an i32/i64 `[B, T]` tensor; the key and value caches are rank-4 float
    tensors of one type; each updated state has the type of its operand;
    the block arguments have the operand types and `mm01.yield` returns the
    result types.

    ```mlir
    %x1, %s1 = mm01.decoder_layer 0 <lightning> (%x0, %s0)
        : (tensor<?x?x6144xf32>, tensor<?x64x128x128xf32>) -> (...) {
    ^bb0(%x: tensor<?x?x6144xf32>, %s: tensor<?x64x128x128xf32>):
      ...
      mm01.yield %y, %s_new : ...
    }
    ```
  }];
  let arguments = (ins I64Attr:$index, MM01_AttentionKindAttr:$kind,
                       Variadic<AnyRankedTensor>:$inputs);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $index $kind `(` $inputs `)` attr-dict-with-keyword `:` functional-type($inputs, $results) $body
  }];
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "int64_t":$index, "AttentionKind":$kind,
                   "::mlir::TypeRange":$resultTypes, "::mlir::ValueRange":$inputs)>];
}

def MM01_YieldOp : MM01_Op<"yield", [Pure, Terminator, ReturnLike,
                                     ParentOneOf<["DecoderLayerOp", "FusionOp"]>]> {
  let summary = "terminator of a decoder layer or a fusion group";
  let description = [{
    Returns the layer's results: `(hidden, new_state)` for a lightning layer,
    `(hidden, new_key_cache, new_value_cache)` for a softmax layer; or the
    results of an `mm01.fusion` group. Its types must be the result types of
    the enclosing op.
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ }]>];
}

#endif // MM01_MODEL_OPS
