//===- ModelDialect.td - the mm01 model-level dialect -------*- tablegen -*-===//
//
// The model-level dialect expresses a MiniMax-01-class model the way a
// compiler engineer reasons about it: norms, projections against named
// checkpoint weights, lightning attention with its state, softmax attention
// with partial RoPE / GQA / KV cache, MoE routing and experts, DeepNorm
// residuals, and hybrid layer blocks.
//
//===----------------------------------------------------------------------===//

#ifndef MM01_MODEL_DIALECT
#define MM01_MODEL_DIALECT

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def MM01_Dialect : Dialect {
  let name = "mm01";
  let cppNamespace = "::mm01::model";
  let summary = "Model-level IR for MiniMax-01-class hybrid linear-attention MoE models";
  let description = [{
    Values are ranked tensors. Activations are `[batch, seq, ...]`; weights are
    produced by `mm01.weight` / `mm01.expert_weights`, which name checkpoint
    tensors but carry no data. Lightning-attention states (`[B, H, D, D]`,
    f32) and softmax KV caches (`[B, C, Hkv, D]`) are explicit SSA values:
    every op that reads state returns the updated state, so prefill and decode
    are pure functions of their operands.

    Elementwise products use upstream `arith.mulf` on tensors; reshapes that
    are not head splits use upstream `tensor` ops.

    Any dimension may be dynamic (`?`): verifiers check every static
    dimension against the op's shape contract and leave dynamic ones to the
    runtime. Their messages name the operand or result, the dimension, and
    the found and expected values.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def MM01_AttentionKind : I32EnumAttr<"AttentionKind",
    "token mixer of a hybrid decoder layer", [
      I32EnumAttrCase<"lightning", 0>,
      I32EnumAttrCase<"softmax", 1>]> {
  let cppNamespace = "::mm01::model";
  let genSpecializedAttr = 0;
}
def MM01_AttentionKindAttr : EnumAttr<MM01_Dialect, MM01_AttentionKind, "attention_kind"> {
  let summary = "token mixer of a decoder layer: lightning or softmax";
  let description = [{
    `lightning`: linear attention with per-head decay and a `[B, H, D, D]`
    state (HF `linear_attention`); `softmax`: GQA softmax attention with
    partial RoPE and a KV cache (HF `full_attention`). In the custom form of
    `mm01.decoder_layer` it is written `<lightning>` / `<softmax>`; in the
    generic form `#mm01.attention_kind<lightning>`.
  }];
  let assemblyFormat = "`<` $value `>`";
}

def MM01_FusionKind : I32EnumAttr<"FusionKind",
    "what one generated kernel computes for an mm01.fusion group", [
      I32EnumAttrCase<"deepnorm_rms_norm", 0>,
      I32EnumAttrCase<"gated_rms_norm", 1>,
      I32EnumAttrCase<"silu_lightning", 2>,
      I32EnumAttrCase<"rope_attention", 3>]> {
  let cppNamespace = "::mm01::model";
  let genSpecializedAttr = 0;
}
def MM01_FusionKindAttr : EnumAttr<MM01_Dialect, MM01_FusionKind, "fusion_kind"> {
  let summary = "the pattern of an mm01.fusion group";
  let description = [{
    `deepnorm_rms_norm`: `rms_norm(deepnorm_residual(r, u))`;
    `gated_rms_norm`: `rms_norm(x) * sigmoid(g)`;
    `silu_lightning`: `lightning_attention|lightning_decode` of
    `split_qkv(silu(qkv))`;
    `rope_attention`: `softmax_attention` of `rope(q)`, `rope(k)`.
  }];
  let assemblyFormat = "`<` $value `>`";
}

#endif // MM01_MODEL_DIALECT
