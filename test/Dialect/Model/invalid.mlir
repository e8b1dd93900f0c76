// RUN: mm01-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// mm01.weight
//===----------------------------------------------------------------------===//

func.func @weight_empty_name() {
  // expected-error @+1 {{'mm01.weight' op weight name must not be empty}}
  %w = mm01.weight "" : tensor<16xbf16>
  return
}

// -----

func.func @weight_dynamic_shape() {
  // expected-error @+1 {{weight 'model.norm.weight' must have a static shape, found 'tensor<?xbf16>'}}
  %w = mm01.weight "model.norm.weight" : tensor<?xbf16>
  return
}

// -----

func.func @weight_not_float() {
  // expected-error @+1 {{result #0 must be ranked tensor of floating-point values, but got 'tensor<16xi8>'}}
  %w = mm01.weight "model.norm.weight" : tensor<16xi8>
  return
}

// -----

//===----------------------------------------------------------------------===//
// mm01.expert_weights
//===----------------------------------------------------------------------===//

func.func @expert_weights_no_placeholder() {
  // expected-error @+1 {{name_format 'model.layers.0.block_sparse_moe.experts.0.w1.weight' must contain the placeholder {e} exactly once}}
  %w = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.0.w1.weight" : tensor<4x8x16xbf16>
  return
}

// -----

func.func @expert_weights_two_placeholders() {
  // expected-error @+1 {{name_format 'experts.{e}.w{e}.weight' must contain the placeholder {e} exactly once}}
  %w = mm01.expert_weights "experts.{e}.w{e}.weight" : tensor<4x8x16xbf16>
  return
}

// -----

func.func @expert_weights_rank() {
  // expected-error @+1 {{expert weights must have rank >= 2 ([E, ...]), found rank 1}}
  %w = mm01.expert_weights "experts.{e}.w1.weight" : tensor<4xbf16>
  return
}

// -----

func.func @expert_weights_dynamic() {
  // expected-error @+1 {{expert weights 'experts.{e}.w1.weight' must have a static shape, found 'tensor<4x?x16xbf16>'}}
  %w = mm01.expert_weights "experts.{e}.w1.weight" : tensor<4x?x16xbf16>
  return
}

// -----

func.func @expert_weights_no_experts() {
  // expected-error @+1 {{expert count (result dimension 0) must be at least 1, found 0}}
  %w = mm01.expert_weights "experts.{e}.w1.weight" : tensor<0x8x16xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// mm01.embedding
//===----------------------------------------------------------------------===//

func.func @embedding_table_rank(%t: tensor<32xbf16>, %ids: tensor<2x5xi64>) {
  // expected-error @+1 {{table must have rank 2 ([vocab, hidden]), found rank 1}}
  %x = mm01.embedding %t[%ids] : tensor<32xbf16>, tensor<2x5xi64> -> tensor<2x5x16xf32>
  return
}

// -----

func.func @embedding_ids_rank(%t: tensor<32x16xbf16>, %ids: tensor<10xi64>) {
  // expected-error @+1 {{ids must have rank 2 ([batch, seq]), found rank 1}}
  %x = mm01.embedding %t[%ids] : tensor<32x16xbf16>, tensor<10xi64> -> tensor<2x5x16xf32>
  return
}

// -----

func.func @embedding_result_rank(%t: tensor<32x16xbf16>, %ids: tensor<2x5xi64>) {
  // expected-error @+1 {{result must have rank 3 ([batch, seq, hidden]), found rank 2}}
  %x = mm01.embedding %t[%ids] : tensor<32x16xbf16>, tensor<2x5xi64> -> tensor<10x16xf32>
  return
}

// -----

func.func @embedding_batch(%t: tensor<32x16xbf16>, %ids: tensor<2x5xi64>) {
  // expected-error @+1 {{result batch (dimension 0) is 3, expected 2 (ids batch)}}
  %x = mm01.embedding %t[%ids] : tensor<32x16xbf16>, tensor<2x5xi64> -> tensor<3x5x16xf32>
  return
}

// -----

func.func @embedding_seq(%t: tensor<32x16xbf16>, %ids: tensor<?x5xi64>) {
  // expected-error @+1 {{result seq (dimension 1) is 6, expected 5 (ids seq)}}
  %x = mm01.embedding %t[%ids] : tensor<32x16xbf16>, tensor<?x5xi64> -> tensor<?x6x16xf32>
  return
}

// -----

func.func @embedding_hidden(%t: tensor<32x16xbf16>, %ids: tensor<?x?xi64>) {
  // expected-error @+1 {{result hidden (dimension 2) is 8, expected 16 (table hidden, dimension 1)}}
  %x = mm01.embedding %t[%ids] : tensor<32x16xbf16>, tensor<?x?xi64> -> tensor<?x?x8xf32>
  return
}

// -----

func.func @embedding_float_ids(%t: tensor<32x16xbf16>, %ids: tensor<2x5xf32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<2x5xf32>'}}
  %x = mm01.embedding %t[%ids] : tensor<32x16xbf16>, tensor<2x5xf32> -> tensor<2x5x16xf32>
  return
}

// -----

func.func @embedding_i16_ids(%t: tensor<32x16xbf16>, %ids: tensor<2x5xi16>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<2x5xi16>'}}
  %x = mm01.embedding %t[%ids] : tensor<32x16xbf16>, tensor<2x5xi16> -> tensor<2x5x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// mm01.rms_norm
//===----------------------------------------------------------------------===//

func.func @rms_norm_weight_rank(%x: tensor<2x5x16xf32>, %w: tensor<1x16xbf16>) {
  // expected-error @+1 {{weight must have rank 1 ([channels]), found rank 2}}
  %h = mm01.rms_norm %x, %w eps(1.0e-05) : tensor<2x5x16xf32>, tensor<1x16xbf16>
  return
}

// -----

func.func @rms_norm_scalar_input(%x: tensor<f32>, %w: tensor<16xbf16>) {
  // expected-error @+1 {{input must have rank >= 1 ([..., channels]), found rank 0}}
  %h = mm01.rms_norm %x, %w eps(1.0e-05) : tensor<f32>, tensor<16xbf16>
  return
}

// -----

func.func @rms_norm_weight_size(%x: tensor<?x?x16xf32>, %w: tensor<32xbf16>) {
  // expected-error @+1 {{weight size is 32, expected 16 (the normalised last dimension 2 of input)}}
  %h = mm01.rms_norm %x, %w eps(1.0e-05) : tensor<?x?x16xf32>, tensor<32xbf16>
  return
}

// -----

func.func @rms_norm_epsilon(%x: tensor<2x5x16xf32>, %w: tensor<16xbf16>) {
  // expected-error @+1 {{epsilon must be positive and finite, found 0.000000e+00}}
  %h = mm01.rms_norm %x, %w eps(0.0) : tensor<2x5x16xf32>, tensor<16xbf16>
  return
}

// -----

func.func @rms_norm_negative_epsilon(%x: tensor<2x5x16xf32>, %w: tensor<16xbf16>) {
  // expected-error @+1 {{epsilon must be positive and finite, found -1.000000e-05}}
  %h = mm01.rms_norm %x, %w eps(-1.0e-05) : tensor<2x5x16xf32>, tensor<16xbf16>
  return
}

// -----

func.func @rms_norm_result_type(%x: tensor<2x5x16xf32>, %w: tensor<16xbf16>) {
  // expected-error @+1 {{failed to verify that all of {input, result} have same type}}
  %h = "mm01.rms_norm"(%x, %w) <{epsilon = 1.0e-05 : f64}> : (tensor<2x5x16xf32>, tensor<16xbf16>) -> tensor<2x5x16xbf16>
  return
}

// -----

func.func @rms_norm_integer_weight(%x: tensor<2x5x16xf32>, %w: tensor<16xi32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of floating-point values, but got 'tensor<16xi32>'}}
  %h = mm01.rms_norm %x, %w eps(1.0e-05) : tensor<2x5x16xf32>, tensor<16xi32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// mm01.linear
//===----------------------------------------------------------------------===//

func.func @linear_weight_rank(%x: tensor<2x5x16xf32>, %w: tensor<48xbf16>) {
  // expected-error @+1 {{weight must have rank 2 ([out, in]), found rank 1}}
  %y = mm01.linear %x, %w : tensor<2x5x16xf32>, tensor<48xbf16> -> tensor<2x5x48xf32>
  return
}

// -----

func.func @linear_scalar_input(%x: tensor<f32>, %w: tensor<48x16xbf16>) {
  // expected-error @+1 {{input must have rank >= 1 ([..., in]), found rank 0}}
  %y = mm01.linear %x, %w : tensor<f32>, tensor<48x16xbf16> -> tensor<48xf32>
  return
}

// -----

func.func @linear_result_rank(%x: tensor<2x5x16xf32>, %w: tensor<48x16xbf16>) {
  // expected-error @+1 {{result must have the rank of input (3), found rank 2}}
  %y = mm01.linear %x, %w : tensor<2x5x16xf32>, tensor<48x16xbf16> -> tensor<10x48xf32>
  return
}

// -----

func.func @linear_result_leading_dim(%x: tensor<2x5x16xf32>, %w: tensor<48x16xbf16>) {
  // expected-error @+1 {{result dimension 1 is 4, expected 5 (input dimension 1)}}
  %y = mm01.linear %x, %w : tensor<2x5x16xf32>, tensor<48x16xbf16> -> tensor<2x4x48xf32>
  return
}

// -----

func.func @linear_input_features(%x: tensor<?x?x32xf32>, %w: tensor<48x16xbf16>) {
  // expected-error @+1 {{input features (last dimension) is 32, expected 16 (weight dimension 1; weight is [out, in])}}
  %y = mm01.linear %x, %w : tensor<?x?x32xf32>, tensor<48x16xbf16> -> tensor<?x?x48xf32>
  return
}

// -----

func.func @linear_transposed_weight(%x: tensor<?x?x16xf32>, %w: tensor<16x48xbf16>) {
  // expected-error @+1 {{input features (last dimension) is 16, expected 48 (weight dimension 1; weight is [out, in])}}
  %y = mm01.linear %x, %w : tensor<?x?x16xf32>, tensor<16x48xbf16> -> tensor<?x?x48xf32>
  return
}

// -----

func.func @linear_result_features(%x: tensor<?x?x16xf32>, %w: tensor<48x16xbf16>) {
  // expected-error @+1 {{result features (last dimension) is 16, expected 48 (weight dimension 0; weight is [out, in])}}
  %y = mm01.linear %x, %w : tensor<?x?x16xf32>, tensor<48x16xbf16> -> tensor<?x?x16xf32>
  return
}

// -----

func.func @linear_result_dtype(%x: tensor<?x?x16xf32>, %w: tensor<48x16xbf16>) {
  // expected-error @+1 {{result element type is 'bf16', expected 'f32' (the element type of input)}}
  %y = mm01.linear %x, %w : tensor<?x?x16xf32>, tensor<48x16xbf16> -> tensor<?x?x48xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// mm01.silu, mm01.sigmoid, mm01.deepnorm_residual
//===----------------------------------------------------------------------===//

func.func @silu_result_type(%x: tensor<2x5x48xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %y = "mm01.silu"(%x) : (tensor<2x5x48xf32>) -> tensor<2x5x48xbf16>
  return
}

// -----

func.func @sigmoid_integer(%x: tensor<2x5x48xi32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of floating-point values, but got 'tensor<2x5x48xi32>'}}
  %y = mm01.sigmoid %x : tensor<2x5x48xi32>
  return
}

// -----

func.func @deepnorm_operand_types(%h: tensor<2x5x16xf32>, %a: tensor<2x5x16xbf16>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %y = "mm01.deepnorm_residual"(%h, %a) <{alpha = 2.0 : f64, beta = 1.0 : f64}> : (tensor<2x5x16xf32>, tensor<2x5x16xbf16>) -> tensor<2x5x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// mm01.split_heads, mm01.merge_heads
//===----------------------------------------------------------------------===//

func.func @split_heads_input_rank(%p: tensor<2x5x2x8xf32>) {
  // expected-error @+1 {{input must have rank 3 ([B, T, H*D]), found rank 4}}
  %q = mm01.split_heads %p : tensor<2x5x2x8xf32> -> tensor<2x5x2x8xf32>
  return
}

// -----

func.func @split_heads_result_rank(%p: tensor<2x5x16xf32>) {
  // expected-error @+1 {{result must have rank 4 ([B, T, H, D]), found rank 3}}
  %q = mm01.split_heads %p : tensor<2x5x16xf32> -> tensor<2x5x16xf32>
  return
}

// -----

func.func @split_heads_dynamic_heads(%p: tensor<2x5x16xf32>) {
  // expected-error @+1 {{result heads and head_dim must be static, found 'tensor<2x5x?x8xf32>'}}
  %q = mm01.split_heads %p : tensor<2x5x16xf32> -> tensor<2x5x?x8xf32>
  return
}

// -----

func.func @split_heads_batch(%p: tensor<2x5x16xf32>) {
  // expected-error @+1 {{result batch (dimension 0) is 1, expected 2 (input batch)}}
  %q = mm01.split_heads %p : tensor<2x5x16xf32> -> tensor<1x5x2x8xf32>
  return
}

// -----

func.func @split_heads_seq(%p: tensor<2x5x16xf32>) {
  // expected-error @+1 {{result seq (dimension 1) is 1, expected 5 (input seq)}}
  %q = mm01.split_heads %p : tensor<2x5x16xf32> -> tensor<2x1x2x8xf32>
  return
}

// -----

func.func @split_heads_width(%p: tensor<?x?x16xf32>) {
  // expected-error @+1 {{input features (dimension 2) is 16, expected 24 (heads * head_dim of the result = 3 * 8)}}
  %q = mm01.split_heads %p : tensor<?x?x16xf32> -> tensor<?x?x3x8xf32>
  return
}

// -----

func.func @split_heads_dtype(%p: tensor<?x?x16xf32>) {
  // expected-error @+1 {{result element type is 'bf16', expected 'f32' (the element type of input)}}
  %q = mm01.split_heads %p : tensor<?x?x16xf32> -> tensor<?x?x2x8xbf16>
  return
}

// -----

func.func @merge_heads_input_rank(%o: tensor<2x5x16xf32>) {
  // expected-error @+1 {{input must have rank 4 ([B, T, H, D]), found rank 3}}
  %m = mm01.merge_heads %o : tensor<2x5x16xf32> -> tensor<2x5x16xf32>
  return
}

// -----

func.func @merge_heads_result_rank(%o: tensor<2x5x2x8xf32>) {
  // expected-error @+1 {{result must have rank 3 ([B, T, H*D]), found rank 4}}
  %m = mm01.merge_heads %o : tensor<2x5x2x8xf32> -> tensor<2x5x2x8xf32>
  return
}

// -----

func.func @merge_heads_dynamic_head_dim(%o: tensor<2x5x2x?xf32>) {
  // expected-error @+1 {{input heads and head_dim must be static, found 'tensor<2x5x2x?xf32>'}}
  %m = mm01.merge_heads %o : tensor<2x5x2x?xf32> -> tensor<2x5x16xf32>
  return
}

// -----

func.func @merge_heads_batch(%o: tensor<2x5x2x8xf32>) {
  // expected-error @+1 {{result batch (dimension 0) is 4, expected 2 (input batch)}}
  %m = mm01.merge_heads %o : tensor<2x5x2x8xf32> -> tensor<4x5x16xf32>
  return
}

// -----

func.func @merge_heads_seq(%o: tensor<2x5x2x8xf32>) {
  // expected-error @+1 {{result seq (dimension 1) is 10, expected 5 (input seq)}}
  %m = mm01.merge_heads %o : tensor<2x5x2x8xf32> -> tensor<2x10x16xf32>
  return
}

// -----

func.func @merge_heads_width(%o: tensor<?x?x2x8xf32>) {
  // expected-error @+1 {{result features (dimension 2) is 8, expected 16 (heads * head_dim of the input = 2 * 8)}}
  %m = mm01.merge_heads %o : tensor<?x?x2x8xf32> -> tensor<?x?x8xf32>
  return
}

// -----

func.func @merge_heads_dtype(%o: tensor<?x?x2x8xbf16>) {
  // expected-error @+1 {{result element type is 'f32', expected 'bf16' (the element type of input)}}
  %m = mm01.merge_heads %o : tensor<?x?x2x8xbf16> -> tensor<?x?x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// mm01.split_qkv
//===----------------------------------------------------------------------===//

func.func @split_qkv_input_rank(%qkv: tensor<2x5x2x24xf32>) {
  // expected-error @+1 {{qkv must have rank 3 ([B, T, 3*H*D]), found rank 4}}
  %q, %k, %v = mm01.split_qkv %qkv : tensor<2x5x2x24xf32> -> tensor<2x5x2x8xf32>
  return
}

// -----

func.func @split_qkv_result_rank(%qkv: tensor<2x5x48xf32>) {
  // expected-error @+1 {{q must have rank 4 ([B, T, H, D]), found rank 3}}
  %q, %k, %v = mm01.split_qkv %qkv : tensor<2x5x48xf32> -> tensor<2x5x16xf32>
  return
}

// -----

func.func @split_qkv_dynamic_heads(%qkv: tensor<2x5x48xf32>) {
  // expected-error @+1 {{q heads and head_dim must be static, found 'tensor<2x5x?x8xf32>'}}
  %q, %k, %v = mm01.split_qkv %qkv : tensor<2x5x48xf32> -> tensor<2x5x?x8xf32>
  return
}

// -----

func.func @split_qkv_batch(%qkv: tensor<2x5x48xf32>) {
  // expected-error @+1 {{q batch (dimension 0) is 3, expected 2 (qkv batch)}}
  %q, %k, %v = mm01.split_qkv %qkv : tensor<2x5x48xf32> -> tensor<3x5x2x8xf32>
  return
}

// -----

func.func @split_qkv_seq(%qkv: tensor<2x5x48xf32>) {
  // expected-error @+1 {{q seq (dimension 1) is 4, expected 5 (qkv seq)}}
  %q, %k, %v = mm01.split_qkv %qkv : tensor<2x5x48xf32> -> tensor<2x4x2x8xf32>
  return
}

// -----

// A global q|k|v split of 3 heads is not MiniMax's per-head layout, but the
// width is what the verifier can see: 3 * H * D.
func.func @split_qkv_width(%qkv: tensor<?x?x16xf32>) {
  // expected-error @+1 {{qkv features (dimension 2) is 16, expected 48 (3 * heads * head_dim of q = 3 * 2 * 8)}}
  %q, %k, %v = mm01.split_qkv %qkv : tensor<?x?x16xf32> -> tensor<?x?x2x8xf32>
  return
}

// -----

func.func @split_qkv_dtype(%qkv: tensor<?x?x48xf32>) {
  // expected-error @+1 {{q element type is 'bf16', expected 'f32' (the element type of qkv)}}
  %q, %k, %v = mm01.split_qkv %qkv : tensor<?x?x48xf32> -> tensor<?x?x2x8xbf16>
  return
}

// -----

func.func @split_qkv_result_types(%qkv: tensor<?x?x48xf32>) {
  // expected-error @+1 {{failed to verify that all of {q, k, v} have same type}}
  %q:3 = "mm01.split_qkv"(%qkv) : (tensor<?x?x48xf32>) -> (tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x4x4xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// mm01.lightning_attention, mm01.lightning_decode
//===----------------------------------------------------------------------===//

func.func @lightning_query_rank(%q: tensor<2x5x16xf32>, %s: tensor<2x2x8x8xf32>) {
  // expected-error @+1 {{query must have rank 4 ([B, T, H, D]), found rank 3}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.0625, 0.00390625]) : tensor<2x5x16xf32>, tensor<2x2x8x8xf32>
  return
}

// -----

func.func @lightning_state_rank(%q: tensor<2x5x2x8xf32>, %s: tensor<2x2x64xf32>) {
  // expected-error @+1 {{state must have rank 4 ([B, H, D, D]), found rank 3}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.0625, 0.00390625]) : tensor<2x5x2x8xf32>, tensor<2x2x64xf32>
  return
}

// -----

func.func @lightning_dynamic_heads(%q: tensor<2x5x?x8xf32>, %s: tensor<2x2x8x8xf32>) {
  // expected-error @+1 {{query heads and head_dim must be static, found 'tensor<2x5x?x8xf32>'}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.0625, 0.00390625]) : tensor<2x5x?x8xf32>, tensor<2x2x8x8xf32>
  return
}

// -----

func.func @lightning_heads_not_power_of_two(%q: tensor<2x5x3x8xf32>, %s: tensor<2x3x8x8xf32>) {
  // expected-error @+1 {{lightning attention needs a power-of-two head count (the decay formula for other counts is not implemented), found 3 query heads}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.1, 0.01, 0.001]) : tensor<2x5x3x8xf32>, tensor<2x3x8x8xf32>
  return
}

// -----

func.func @lightning_decode_heads_not_power_of_two(%q: tensor<2x1x6x8xf32>, %s: tensor<2x6x8x8xf32>) {
  // expected-error @+1 {{'mm01.lightning_decode' op lightning attention needs a power-of-two head count (the decay formula for other counts is not implemented), found 6 query heads}}
  %o, %s1 = mm01.lightning_decode %q, %q, %q, %s decay([0.1, 0.1, 0.1, 0.1, 0.1, 0.1]) : tensor<2x1x6x8xf32>, tensor<2x6x8x8xf32>
  return
}

// -----

func.func @lightning_state_batch(%q: tensor<2x5x2x8xf32>, %s: tensor<1x2x8x8xf32>) {
  // expected-error @+1 {{state batch (dimension 0) is 1, expected 2 (query batch)}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.0625, 0.00390625]) : tensor<2x5x2x8xf32>, tensor<1x2x8x8xf32>
  return
}

// -----

func.func @lightning_state_heads(%q: tensor<?x?x2x8xf32>, %s: tensor<?x4x8x8xf32>) {
  // expected-error @+1 {{state heads (dimension 1) is 4, expected 2 (query heads)}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.0625, 0.00390625]) : tensor<?x?x2x8xf32>, tensor<?x4x8x8xf32>
  return
}

// -----

func.func @lightning_state_rows(%q: tensor<?x?x2x8xf32>, %s: tensor<?x2x16x8xf32>) {
  // expected-error @+1 {{state rows (dimension 2) is 16, expected 8 (query head_dim)}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.0625, 0.00390625]) : tensor<?x?x2x8xf32>, tensor<?x2x16x8xf32>
  return
}

// -----

func.func @lightning_state_columns(%q: tensor<?x?x2x8xf32>, %s: tensor<?x2x8x4xf32>) {
  // expected-error @+1 {{state columns (dimension 3) is 4, expected 8 (query head_dim)}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.0625, 0.00390625]) : tensor<?x?x2x8xf32>, tensor<?x2x8x4xf32>
  return
}

// -----

func.func @lightning_decay_count(%q: tensor<?x?x2x8xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{decay has 3 rates, expected one per query head (2)}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.0625, 0.00390625, 0.1]) : tensor<?x?x2x8xf32>, tensor<?x2x8x8xf32>
  return
}

// -----

func.func @lightning_decay_empty(%q: tensor<?x1x2x8xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{decay has 0 rates, expected one per query head (2)}}
  %o, %s1 = mm01.lightning_decode %q, %q, %q, %s decay([]) : tensor<?x1x2x8xf32>, tensor<?x2x8x8xf32>
  return
}

// -----

func.func @lightning_decay_zero(%q: tensor<?x?x2x8xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{decay rate of head 1 must be positive and finite, found 0.000000e+00}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.0625, 0.0]) : tensor<?x?x2x8xf32>, tensor<?x2x8x8xf32>
  return
}

// -----

func.func @lightning_decay_negative(%q: tensor<?x1x2x8xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{decay rate of head 0 must be positive and finite, found -6.250000e-02}}
  %o, %s1 = mm01.lightning_decode %q, %q, %q, %s decay([-0.0625, 0.00390625]) : tensor<?x1x2x8xf32>, tensor<?x2x8x8xf32>
  return
}

// -----

func.func @lightning_decay_infinite(%q: tensor<?x?x2x8xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{decay rate of head 1 must be positive and finite, found INF}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.0625, 0x7FF0000000000000]) : tensor<?x?x2x8xf32>, tensor<?x2x8x8xf32>
  return
}

// -----

func.func @lightning_decode_seq(%q: tensor<2x4x2x8xf32>, %s: tensor<2x2x8x8xf32>) {
  // expected-error @+1 {{query seq (dimension 1) is 4, expected 1 (the decode form takes one token; use mm01.lightning_attention for more)}}
  %o, %s1 = mm01.lightning_decode %q, %q, %q, %s decay([0.0625, 0.00390625]) : tensor<2x4x2x8xf32>, tensor<2x2x8x8xf32>
  return
}

// -----

func.func @lightning_state_dtype(%q: tensor<?x?x2x8xbf16>, %s: tensor<?x2x8x8xbf16>) {
  // expected-error @+1 {{operand #3 must be ranked tensor of 32-bit float values, but got 'tensor<?x2x8x8xbf16>'}}
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.0625, 0.00390625]) : tensor<?x?x2x8xbf16>, tensor<?x2x8x8xbf16>
  return
}

// -----

func.func @lightning_key_type(%q: tensor<?x?x2x8xf32>, %k: tensor<?x?x2x8xbf16>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{failed to verify that all of {query, key, value, output} have same type}}
  %o:2 = "mm01.lightning_attention"(%q, %k, %q, %s) <{decay = array<f64: 0.0625, 0.00390625>}> : (tensor<?x?x2x8xf32>, tensor<?x?x2x8xbf16>, tensor<?x?x2x8xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x2x8xf32>, tensor<?x2x8x8xf32>)
  return
}

// -----

func.func @lightning_new_state_type(%q: tensor<?x?x2x8xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{failed to verify that all of {state, new_state} have same type}}
  %o:2 = "mm01.lightning_decode"(%q, %q, %q, %s) <{decay = array<f64: 0.0625, 0.00390625>}> : (tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x2x8xf32>, tensor<2x2x8x8xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// mm01.rope
//===----------------------------------------------------------------------===//

func.func @rope_input_rank(%x: tensor<2x5x16xf32>, %p: tensor<2x5xi64>) {
  // expected-error @+1 {{input must have rank 4 ([B, T, H, D]), found rank 3}}
  %y = mm01.rope %x, %p theta(1.0e+07) rotary_dim(4) : tensor<2x5x16xf32>, tensor<2x5xi64>
  return
}

// -----

func.func @rope_positions_rank(%x: tensor<2x5x2x8xf32>, %p: tensor<5xi64>) {
  // expected-error @+1 {{positions must have rank 2 ([B, T]), found rank 1}}
  %y = mm01.rope %x, %p theta(1.0e+07) rotary_dim(4) : tensor<2x5x2x8xf32>, tensor<5xi64>
  return
}

// -----

func.func @rope_positions_batch(%x: tensor<2x5x2x8xf32>, %p: tensor<1x5xi64>) {
  // expected-error @+1 {{positions batch (dimension 0) is 1, expected 2 (input batch)}}
  %y = mm01.rope %x, %p theta(1.0e+07) rotary_dim(4) : tensor<2x5x2x8xf32>, tensor<1x5xi64>
  return
}

// -----

func.func @rope_positions_seq(%x: tensor<?x5x2x8xf32>, %p: tensor<?x6xi32>) {
  // expected-error @+1 {{positions seq (dimension 1) is 6, expected 5 (input seq)}}
  %y = mm01.rope %x, %p theta(1.0e+07) rotary_dim(4) : tensor<?x5x2x8xf32>, tensor<?x6xi32>
  return
}

// -----

func.func @rope_rotary_dim_odd(%x: tensor<?x?x2x8xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{rotary_dim must be positive and even (channels are rotated in pairs), found 3}}
  %y = mm01.rope %x, %p theta(1.0e+07) rotary_dim(3) : tensor<?x?x2x8xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_rotary_dim_zero(%x: tensor<?x?x2x8xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{rotary_dim must be positive and even (channels are rotated in pairs), found 0}}
  %y = mm01.rope %x, %p theta(1.0e+07) rotary_dim(0) : tensor<?x?x2x8xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_rotary_dim_exceeds_head_dim(%x: tensor<?x?x2x8xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{rotary_dim 16 exceeds the head_dim of input (8)}}
  %y = mm01.rope %x, %p theta(1.0e+07) rotary_dim(16) : tensor<?x?x2x8xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_theta(%x: tensor<?x?x2x8xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{theta must be positive and finite, found -1.000000e+04}}
  %y = mm01.rope %x, %p theta(-1.0e+04) rotary_dim(4) : tensor<?x?x2x8xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @rope_float_positions(%x: tensor<?x?x2x8xf32>, %p: tensor<?x?xf32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<?x?xf32>'}}
  %y = mm01.rope %x, %p theta(1.0e+07) rotary_dim(4) : tensor<?x?x2x8xf32>, tensor<?x?xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// mm01.softmax_attention
//===----------------------------------------------------------------------===//

func.func @softmax_query_rank(%q: tensor<2x5x16xf32>, %k: tensor<2x5x1x8xf32>, %c: tensor<2x64x1x8xf32>, %p: tensor<2x5xi64>) {
  // expected-error @+1 {{query must have rank 4 ([B, T, H, D]), found rank 3}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<2x5x16xf32>, tensor<2x5x1x8xf32>, tensor<2x64x1x8xf32>, tensor<2x5xi64>
  return
}

// -----

func.func @softmax_key_rank(%q: tensor<2x5x2x8xf32>, %k: tensor<2x5x8xf32>, %c: tensor<2x64x1x8xf32>, %p: tensor<2x5xi64>) {
  // expected-error @+1 {{key must have rank 4 ([B, T, Hkv, D]), found rank 3}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<2x5x2x8xf32>, tensor<2x5x8xf32>, tensor<2x64x1x8xf32>, tensor<2x5xi64>
  return
}

// -----

func.func @softmax_cache_rank(%q: tensor<2x5x2x8xf32>, %k: tensor<2x5x1x8xf32>, %c: tensor<2x64x8xf32>, %p: tensor<2x5xi64>) {
  // expected-error @+1 {{key_cache must have rank 4 ([B, C, Hkv, D]), found rank 3}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<2x5x2x8xf32>, tensor<2x5x1x8xf32>, tensor<2x64x8xf32>, tensor<2x5xi64>
  return
}

// -----

func.func @softmax_positions_rank(%q: tensor<2x5x2x8xf32>, %k: tensor<2x5x1x8xf32>, %c: tensor<2x64x1x8xf32>, %p: tensor<10xi64>) {
  // expected-error @+1 {{positions must have rank 2 ([B, T]), found rank 1}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<2x5x2x8xf32>, tensor<2x5x1x8xf32>, tensor<2x64x1x8xf32>, tensor<10xi64>
  return
}

// -----

func.func @softmax_dynamic_query_heads(%q: tensor<2x5x?x8xf32>, %k: tensor<2x5x1x8xf32>, %c: tensor<2x64x1x8xf32>, %p: tensor<2x5xi64>) {
  // expected-error @+1 {{query heads must be static, found 'tensor<2x5x?x8xf32>'}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<2x5x?x8xf32>, tensor<2x5x1x8xf32>, tensor<2x64x1x8xf32>, tensor<2x5xi64>
  return
}

// -----

func.func @softmax_dynamic_kv_heads(%q: tensor<2x5x2x8xf32>, %k: tensor<2x5x?x8xf32>, %c: tensor<2x64x1x8xf32>, %p: tensor<2x5xi64>) {
  // expected-error @+1 {{key heads must be static, found 'tensor<2x5x?x8xf32>'}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<2x5x2x8xf32>, tensor<2x5x?x8xf32>, tensor<2x64x1x8xf32>, tensor<2x5xi64>
  return
}

// -----

func.func @softmax_gqa_not_multiple(%q: tensor<?x?x6x8xf32>, %k: tensor<?x?x4x8xf32>, %c: tensor<?x?x4x8xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{query heads (6) must be a positive multiple of the KV heads of key (4)}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<?x?x6x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @softmax_more_kv_heads(%q: tensor<?x?x2x8xf32>, %k: tensor<?x?x4x8xf32>, %c: tensor<?x?x4x8xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{query heads (2) must be a positive multiple of the KV heads of key (4)}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<?x?x2x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @softmax_zero_kv_heads(%q: tensor<?x?x2x8xf32>, %k: tensor<?x?x0x8xf32>, %c: tensor<?x?x0x8xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{query heads (2) must be a positive multiple of the KV heads of key (0)}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<?x?x2x8xf32>, tensor<?x?x0x8xf32>, tensor<?x?x0x8xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @softmax_key_batch(%q: tensor<2x5x2x8xf32>, %k: tensor<1x5x1x8xf32>, %c: tensor<2x64x1x8xf32>, %p: tensor<2x5xi64>) {
  // expected-error @+1 {{key batch (dimension 0) is 1, expected 2 (query batch)}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<2x5x2x8xf32>, tensor<1x5x1x8xf32>, tensor<2x64x1x8xf32>, tensor<2x5xi64>
  return
}

// -----

func.func @softmax_key_seq(%q: tensor<2x5x2x8xf32>, %k: tensor<2x4x1x8xf32>, %c: tensor<2x64x1x8xf32>, %p: tensor<2x5xi64>) {
  // expected-error @+1 {{key seq (dimension 1) is 4, expected 5 (query seq)}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<2x5x2x8xf32>, tensor<2x4x1x8xf32>, tensor<2x64x1x8xf32>, tensor<2x5xi64>
  return
}

// -----

func.func @softmax_key_head_dim(%q: tensor<?x?x2x8xf32>, %k: tensor<?x?x1x16xf32>, %c: tensor<?x?x1x16xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{key head_dim (dimension 3) is 16, expected 8 (query head_dim)}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<?x?x2x8xf32>, tensor<?x?x1x16xf32>, tensor<?x?x1x16xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @softmax_cache_batch(%q: tensor<2x?x2x8xf32>, %k: tensor<2x?x1x8xf32>, %c: tensor<4x64x1x8xf32>, %p: tensor<2x?xi64>) {
  // expected-error @+1 {{key_cache batch (dimension 0) is 4, expected 2 (query batch)}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<2x?x2x8xf32>, tensor<2x?x1x8xf32>, tensor<4x64x1x8xf32>, tensor<2x?xi64>
  return
}

// -----

func.func @softmax_cache_heads(%q: tensor<?x?x2x8xf32>, %k: tensor<?x?x1x8xf32>, %c: tensor<?x?x2x8xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{key_cache heads (dimension 2) is 2, expected 1 (KV heads of key)}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<?x?x2x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @softmax_cache_head_dim(%q: tensor<?x?x2x8xf32>, %k: tensor<?x?x1x8xf32>, %c: tensor<?x?x1x4xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{key_cache head_dim (dimension 3) is 4, expected 8 (query head_dim)}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<?x?x2x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x4xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @softmax_positions_batch(%q: tensor<2x5x2x8xf32>, %k: tensor<2x5x1x8xf32>, %c: tensor<2x64x1x8xf32>, %p: tensor<1x5xi64>) {
  // expected-error @+1 {{positions batch (dimension 0) is 1, expected 2 (query batch)}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<2x5x2x8xf32>, tensor<2x5x1x8xf32>, tensor<2x64x1x8xf32>, tensor<1x5xi64>
  return
}

// -----

func.func @softmax_positions_seq(%q: tensor<2x5x2x8xf32>, %k: tensor<2x5x1x8xf32>, %c: tensor<2x64x1x8xf32>, %p: tensor<2x1xi64>) {
  // expected-error @+1 {{positions seq (dimension 1) is 1, expected 5 (query seq)}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<2x5x2x8xf32>, tensor<2x5x1x8xf32>, tensor<2x64x1x8xf32>, tensor<2x1xi64>
  return
}

// -----

func.func @softmax_cache_too_small(%q: tensor<?x8x2x8xf32>, %k: tensor<?x8x1x8xf32>, %c: tensor<?x4x1x8xf32>, %p: tensor<?x8xi64>) {
  // expected-error @+1 {{key_cache capacity (dimension 1) is 4, smaller than the 8 new tokens of query}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<?x8x2x8xf32>, tensor<?x8x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x8xi64>
  return
}

// -----

func.func @softmax_key_dtype(%q: tensor<?x?x2x8xf32>, %k: tensor<?x?x1x8xbf16>, %c: tensor<?x?x1x8xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{key element type is 'bf16', expected 'f32' (the element type of query)}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<?x?x2x8xf32>, tensor<?x?x1x8xbf16>, tensor<?x?x1x8xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @softmax_cache_dtype(%q: tensor<?x?x2x8xbf16>, %k: tensor<?x?x1x8xbf16>, %c: tensor<?x?x1x8xf16>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{key_cache element type is 'f16', expected 'bf16' (the element type of query)}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.35) : tensor<?x?x2x8xbf16>, tensor<?x?x1x8xbf16>, tensor<?x?x1x8xf16>, tensor<?x?xi64>
  return
}

// -----

func.func @softmax_scale(%q: tensor<?x?x2x8xf32>, %k: tensor<?x?x1x8xf32>, %c: tensor<?x?x1x8xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{scale must be positive and finite, found 0.000000e+00}}
  %o, %kc, %vc = mm01.softmax_attention %q, %k, %k, cache(%c, %c) positions(%p) scale(0.0) : tensor<?x?x2x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?xi64>
  return
}

// -----

func.func @softmax_value_type(%q: tensor<?x?x2x8xf32>, %k: tensor<?x?x1x8xf32>, %v: tensor<?x?x1x4xf32>, %c: tensor<?x?x1x8xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{failed to verify that all of {key, value} have same type}}
  %o:3 = "mm01.softmax_attention"(%q, %k, %v, %c, %c, %p) <{scale = 0.35 : f64}> : (tensor<?x?x2x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x4xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?xi64>) -> (tensor<?x?x2x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>)
  return
}

// -----

func.func @softmax_value_cache_type(%q: tensor<?x?x2x8xf32>, %k: tensor<?x?x1x8xf32>, %c: tensor<?x?x1x8xf32>, %vc: tensor<?x64x1x8xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{failed to verify that all of {key_cache, value_cache, new_key_cache, new_value_cache} have same type}}
  %o:3 = "mm01.softmax_attention"(%q, %k, %k, %c, %vc, %p) <{scale = 0.35 : f64}> : (tensor<?x?x2x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<?x64x1x8xf32>, tensor<?x?xi64>) -> (tensor<?x?x2x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>)
  return
}

// -----

func.func @softmax_output_type(%q: tensor<?x?x2x8xf32>, %k: tensor<?x?x1x8xf32>, %c: tensor<?x?x1x8xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{failed to verify that all of {query, output} have same type}}
  %o:3 = "mm01.softmax_attention"(%q, %k, %k, %c, %c, %p) <{scale = 0.35 : f64}> : (tensor<?x?x2x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?xi64>) -> (tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// mm01.moe_route
//===----------------------------------------------------------------------===//

func.func @moe_route_scalar_logits(%l: tensor<f32>) {
  // expected-error @+1 {{logits must have rank >= 1 ([..., E]), found rank 0}}
  %w, %e = mm01.moe_route %l top_k(2) : tensor<f32> -> tensor<2xf32>, tensor<2xi64>
  return
}

// -----

func.func @moe_route_top_k_zero(%l: tensor<2x5x4xf32>) {
  // expected-error @+1 {{top_k must be at least 1, found 0}}
  %w, %e = mm01.moe_route %l top_k(0) : tensor<2x5x4xf32> -> tensor<2x5x0xf32>, tensor<2x5x0xi64>
  return
}

// -----

func.func @moe_route_top_k_exceeds_experts(%l: tensor<?x?x4xf32>) {
  // expected-error @+1 {{top_k (5) exceeds the expert count of logits (4)}}
  %w, %e = mm01.moe_route %l top_k(5) : tensor<?x?x4xf32> -> tensor<?x?x5xf32>, tensor<?x?x5xi64>
  return
}

// -----

func.func @moe_route_experts_rank(%l: tensor<2x5x4xf32>) {
  // expected-error @+1 {{experts must have the rank of weights (3), found rank 2}}
  %w, %e = mm01.moe_route %l top_k(2) : tensor<2x5x4xf32> -> tensor<2x5x2xf32>, tensor<10x2xi64>
  return
}

// -----

func.func @moe_route_experts_shape(%l: tensor<2x5x4xf32>) {
  // expected-error @+1 {{experts dimension 2 is 1, expected 2 (weights dimension 2)}}
  %w, %e = mm01.moe_route %l top_k(2) : tensor<2x5x4xf32> -> tensor<2x5x2xf32>, tensor<2x5x1xi64>
  return
}

// -----

func.func @moe_route_weights_rank(%l: tensor<2x5x4xf32>) {
  // expected-error @+1 {{weights must have the rank of logits (3), found rank 2}}
  %w, %e = mm01.moe_route %l top_k(2) : tensor<2x5x4xf32> -> tensor<10x2xf32>, tensor<10x2xi64>
  return
}

// -----

func.func @moe_route_weights_leading_dim(%l: tensor<2x5x4xf32>) {
  // expected-error @+1 {{weights dimension 1 is 6, expected 5 (logits dimension 1)}}
  %w, %e = mm01.moe_route %l top_k(2) : tensor<2x5x4xf32> -> tensor<2x6x2xf32>, tensor<2x6x2xi64>
  return
}

// -----

func.func @moe_route_weights_top_k(%l: tensor<?x?x4xf32>) {
  // expected-error @+1 {{weights last dimension is 3, expected 2 (top_k)}}
  %w, %e = mm01.moe_route %l top_k(2) : tensor<?x?x4xf32> -> tensor<?x?x3xf32>, tensor<?x?x3xi64>
  return
}

// -----

func.func @moe_route_weights_dtype(%l: tensor<?x?x4xbf16>) {
  // expected-error @+1 {{result #0 must be ranked tensor of 32-bit float values, but got 'tensor<?x?x2xbf16>'}}
  %w, %e = mm01.moe_route %l top_k(2) : tensor<?x?x4xbf16> -> tensor<?x?x2xbf16>, tensor<?x?x2xi64>
  return
}

// -----

func.func @moe_route_experts_dtype(%l: tensor<?x?x4xf32>) {
  // expected-error @+1 {{result #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<?x?x2xf32>'}}
  %w, %e = mm01.moe_route %l top_k(2) : tensor<?x?x4xf32> -> tensor<?x?x2xf32>, tensor<?x?x2xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// mm01.moe_experts
//===----------------------------------------------------------------------===//

func.func @moe_experts_input_rank(%x: tensor<10x16xf32>, %w: tensor<2x5x2xf32>, %e: tensor<2x5x2xi64>,
    %w1: tensor<4x8x16xbf16>, %w2: tensor<4x16x8xbf16>) {
  // expected-error @+1 {{input must have rank 3 ([B, T, d]), found rank 2}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w1, %w2) : tensor<10x16xf32>, tensor<2x5x2xf32>, tensor<2x5x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
  return
}

// -----

func.func @moe_experts_weights_rank(%x: tensor<2x5x16xf32>, %w: tensor<10x2xf32>, %e: tensor<10x2xi64>,
    %w1: tensor<4x8x16xbf16>, %w2: tensor<4x16x8xbf16>) {
  // expected-error @+1 {{weights must have rank 3 ([B, T, K]), found rank 2}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w1, %w2) : tensor<2x5x16xf32>, tensor<10x2xf32>, tensor<10x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
  return
}

// -----

func.func @moe_experts_w1_rank(%x: tensor<2x5x16xf32>, %w: tensor<2x5x2xf32>, %e: tensor<2x5x2xi64>,
    %w1: tensor<32x16xbf16>, %w3: tensor<4x8x16xbf16>, %w2: tensor<4x16x8xbf16>) {
  // expected-error @+1 {{w1 must have rank 3 ([E, I, d]), found rank 2}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w3, %w2) : tensor<2x5x16xf32>, tensor<2x5x2xf32>, tensor<2x5x2xi64>, tensor<32x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
  return
}

// -----

func.func @moe_experts_w3_rank(%x: tensor<2x5x16xf32>, %w: tensor<2x5x2xf32>, %e: tensor<2x5x2xi64>,
    %w1: tensor<4x8x16xbf16>, %w3: tensor<32x16xbf16>, %w2: tensor<4x16x8xbf16>) {
  // expected-error @+1 {{w3 must have rank 3 ([E, I, d]), found rank 2}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w3, %w2) : tensor<2x5x16xf32>, tensor<2x5x2xf32>, tensor<2x5x2xi64>, tensor<4x8x16xbf16>, tensor<32x16xbf16>, tensor<4x16x8xbf16>
  return
}

// -----

func.func @moe_experts_w2_rank(%x: tensor<2x5x16xf32>, %w: tensor<2x5x2xf32>, %e: tensor<2x5x2xi64>,
    %w1: tensor<4x8x16xbf16>, %w2: tensor<64x8xbf16>) {
  // expected-error @+1 {{w2 must have rank 3 ([E, d, I]), found rank 2}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w1, %w2) : tensor<2x5x16xf32>, tensor<2x5x2xf32>, tensor<2x5x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<64x8xbf16>
  return
}

// -----

func.func @moe_experts_experts_shape(%x: tensor<2x5x16xf32>, %w: tensor<2x5x2xf32>, %e: tensor<2x5x1xi64>,
    %w1: tensor<4x8x16xbf16>, %w2: tensor<4x16x8xbf16>) {
  // expected-error @+1 {{experts dimension 2 is 1, expected 2 (weights dimension 2)}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w1, %w2) : tensor<2x5x16xf32>, tensor<2x5x2xf32>, tensor<2x5x1xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
  return
}

// -----

func.func @moe_experts_w3_shape(%x: tensor<2x5x16xf32>, %w: tensor<2x5x2xf32>, %e: tensor<2x5x2xi64>,
    %w1: tensor<4x8x16xbf16>, %w3: tensor<4x12x16xbf16>, %w2: tensor<4x16x8xbf16>) {
  // expected-error @+1 {{w3 dimension 1 is 12, expected 8 (w1 dimension 1)}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w3, %w2) : tensor<2x5x16xf32>, tensor<2x5x2xf32>, tensor<2x5x2xi64>, tensor<4x8x16xbf16>, tensor<4x12x16xbf16>, tensor<4x16x8xbf16>
  return
}

// -----

func.func @moe_experts_weights_batch(%x: tensor<2x5x16xf32>, %w: tensor<3x5x2xf32>, %e: tensor<3x5x2xi64>,
    %w1: tensor<4x8x16xbf16>, %w2: tensor<4x16x8xbf16>) {
  // expected-error @+1 {{weights batch (dimension 0) is 3, expected 2 (input batch)}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w1, %w2) : tensor<2x5x16xf32>, tensor<3x5x2xf32>, tensor<3x5x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
  return
}

// -----

func.func @moe_experts_weights_seq(%x: tensor<?x5x16xf32>, %w: tensor<?x4x2xf32>, %e: tensor<?x4x2xi64>,
    %w1: tensor<4x8x16xbf16>, %w2: tensor<4x16x8xbf16>) {
  // expected-error @+1 {{weights seq (dimension 1) is 4, expected 5 (input seq)}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w1, %w2) : tensor<?x5x16xf32>, tensor<?x4x2xf32>, tensor<?x4x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
  return
}

// -----

func.func @moe_experts_w1_hidden(%x: tensor<?x?x16xf32>, %w: tensor<?x?x2xf32>, %e: tensor<?x?x2xi64>,
    %w1: tensor<4x8x32xbf16>, %w2: tensor<4x16x8xbf16>) {
  // expected-error @+1 {{w1 hidden (dimension 2) is 32, expected 16 (input hidden)}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w1, %w2) : tensor<?x?x16xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<4x8x32xbf16>, tensor<4x8x32xbf16>, tensor<4x16x8xbf16>
  return
}

// -----

func.func @moe_experts_w2_experts(%x: tensor<?x?x16xf32>, %w: tensor<?x?x2xf32>, %e: tensor<?x?x2xi64>,
    %w1: tensor<4x8x16xbf16>, %w2: tensor<8x16x8xbf16>) {
  // expected-error @+1 {{w2 experts (dimension 0) is 8, expected 4 (w1 experts)}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w1, %w2) : tensor<?x?x16xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<8x16x8xbf16>
  return
}

// -----

// w2 in the layout of w1 ([E, I, d] instead of [E, d, I]).
func.func @moe_experts_w2_hidden(%x: tensor<?x?x16xf32>, %w: tensor<?x?x2xf32>, %e: tensor<?x?x2xi64>,
    %w1: tensor<4x8x16xbf16>) {
  // expected-error @+1 {{w2 hidden (dimension 1) is 8, expected 16 (input hidden)}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w1, %w1) : tensor<?x?x16xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>
  return
}

// -----

func.func @moe_experts_w2_intermediate(%x: tensor<?x?x16xf32>, %w: tensor<?x?x2xf32>, %e: tensor<?x?x2xi64>,
    %w1: tensor<4x8x16xbf16>, %w2: tensor<4x16x4xbf16>) {
  // expected-error @+1 {{w2 intermediate (dimension 2) is 4, expected 8 (w1 intermediate)}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w1, %w2) : tensor<?x?x16xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x4xbf16>
  return
}

// -----

func.func @moe_experts_top_k_exceeds_experts(%x: tensor<?x?x16xf32>, %w: tensor<?x?x8xf32>, %e: tensor<?x?x8xi64>,
    %w1: tensor<4x8x16xbf16>, %w2: tensor<4x16x8xbf16>) {
  // expected-error @+1 {{top-k of weights (8) exceeds the expert count of w1 (4)}}
  %y = mm01.moe_experts %x, %w, %e experts(%w1, %w1, %w2) : tensor<?x?x16xf32>, tensor<?x?x8xf32>, tensor<?x?x8xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
  return
}

// -----

func.func @moe_experts_result_type(%x: tensor<?x?x16xf32>, %w: tensor<?x?x2xf32>, %e: tensor<?x?x2xi64>,
    %w1: tensor<4x8x16xbf16>, %w2: tensor<4x16x8xbf16>) {
  // expected-error @+1 {{failed to verify that all of {input, result} have same type}}
  %y = "mm01.moe_experts"(%x, %w, %e, %w1, %w1, %w2) : (tensor<?x?x16xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>) -> tensor<?x?x16xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// mm01.decoder_layer, mm01.yield
//===----------------------------------------------------------------------===//

func.func @layer_negative_index(%x: tensor<?x?x16xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{layer index must be non-negative, found -1}}
  %y, %s1 = mm01.decoder_layer -1 <lightning> (%x, %s)
      : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x2x8x8xf32>):
    mm01.yield %a, %b : tensor<?x?x16xf32>, tensor<?x2x8x8xf32>
  }
  return
}

// -----

// A softmax layer's operands on a lightning layer.
func.func @lightning_layer_operand_count(%x: tensor<?x?x16xf32>, %p: tensor<?x?xi64>, %c: tensor<?x?x1x8xf32>) {
  // expected-error @+1 {{a lightning layer takes 2 operands and returns 2 results ((hidden, state) -> (hidden, state)), found 4 operands and 3 results}}
  %y, %kc, %vc = mm01.decoder_layer 0 <lightning> (%x, %p, %c, %c)
      : (tensor<?x?x16xf32>, tensor<?x?xi64>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x?xi64>, %c0: tensor<?x?x1x8xf32>, %c1: tensor<?x?x1x8xf32>):
    mm01.yield %a, %c0, %c1 : tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>
  }
  return
}

// -----

func.func @lightning_layer_result_count(%x: tensor<?x?x16xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{a lightning layer takes 2 operands and returns 2 results ((hidden, state) -> (hidden, state)), found 2 operands and 1 results}}
  %y = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x2x8x8xf32>):
    mm01.yield %a : tensor<?x?x16xf32>
  }
  return
}

// -----

// A softmax layer without positions.
func.func @softmax_layer_operand_count(%x: tensor<?x?x16xf32>, %c: tensor<?x?x1x8xf32>) {
  // expected-error @+1 {{a softmax layer takes 4 operands and returns 3 results ((hidden, positions, key_cache, value_cache) -> (hidden, key_cache, value_cache)), found 3 operands and 3 results}}
  %y, %kc, %vc = mm01.decoder_layer 7 <softmax> (%x, %c, %c)
      : (tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %c0: tensor<?x?x1x8xf32>, %c1: tensor<?x?x1x8xf32>):
    mm01.yield %a, %c0, %c1 : tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>
  }
  return
}

// -----

func.func @layer_hidden_rank(%x: tensor<?x16xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{hidden (operand 0) must be a rank-3 float tensor [B, T, d], found 'tensor<?x16xf32>'}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x16xf32>, tensor<?x2x8x8xf32>) {
  ^bb0(%a: tensor<?x16xf32>, %b: tensor<?x2x8x8xf32>):
    mm01.yield %a, %b : tensor<?x16xf32>, tensor<?x2x8x8xf32>
  }
  return
}

// -----

func.func @layer_hidden_integer(%x: tensor<?x?x16xi32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{hidden (operand 0) must be a rank-3 float tensor [B, T, d], found 'tensor<?x?x16xi32>'}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x?x16xi32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xi32>, tensor<?x2x8x8xf32>) {
  ^bb0(%a: tensor<?x?x16xi32>, %b: tensor<?x2x8x8xf32>):
    mm01.yield %a, %b : tensor<?x?x16xi32>, tensor<?x2x8x8xf32>
  }
  return
}

// -----

func.func @lightning_layer_state_dtype(%x: tensor<?x?x16xbf16>, %s: tensor<?x2x8x8xbf16>) {
  // expected-error @+1 {{state (operand 1) must be a rank-4 f32 tensor [B, H, D, D], found 'tensor<?x2x8x8xbf16>'}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x?x16xbf16>, tensor<?x2x8x8xbf16>) -> (tensor<?x?x16xbf16>, tensor<?x2x8x8xbf16>) {
  ^bb0(%a: tensor<?x?x16xbf16>, %b: tensor<?x2x8x8xbf16>):
    mm01.yield %a, %b : tensor<?x?x16xbf16>, tensor<?x2x8x8xbf16>
  }
  return
}

// -----

func.func @lightning_layer_state_rank(%x: tensor<?x?x16xf32>, %s: tensor<?x2x64xf32>) {
  // expected-error @+1 {{state (operand 1) must be a rank-4 f32 tensor [B, H, D, D], found 'tensor<?x2x64xf32>'}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x?x16xf32>, tensor<?x2x64xf32>) -> (tensor<?x?x16xf32>, tensor<?x2x64xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x2x64xf32>):
    mm01.yield %a, %b : tensor<?x?x16xf32>, tensor<?x2x64xf32>
  }
  return
}

// -----

func.func @lightning_layer_state_batch(%x: tensor<2x?x16xf32>, %s: tensor<1x2x8x8xf32>) {
  // expected-error @+1 {{state batch (dimension 0) is 1, expected 2 (hidden batch)}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<2x?x16xf32>, tensor<1x2x8x8xf32>) -> (tensor<2x?x16xf32>, tensor<1x2x8x8xf32>) {
  ^bb0(%a: tensor<2x?x16xf32>, %b: tensor<1x2x8x8xf32>):
    mm01.yield %a, %b : tensor<2x?x16xf32>, tensor<1x2x8x8xf32>
  }
  return
}

// -----

func.func @softmax_layer_positions_dtype(%x: tensor<?x?x16xf32>, %p: tensor<?x?xf32>, %c: tensor<?x?x1x8xf32>) {
  // expected-error @+1 {{positions (operand 1) must be a rank-2 i32 or i64 tensor [B, T], found 'tensor<?x?xf32>'}}
  %y, %kc, %vc = mm01.decoder_layer 7 <softmax> (%x, %p, %c, %c)
      : (tensor<?x?x16xf32>, tensor<?x?xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x?xf32>, %c0: tensor<?x?x1x8xf32>, %c1: tensor<?x?x1x8xf32>):
    mm01.yield %a, %c0, %c1 : tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>
  }
  return
}

// -----

func.func @softmax_layer_positions_seq(%x: tensor<?x5x16xf32>, %p: tensor<?x1xi64>, %c: tensor<?x?x1x8xf32>) {
  // expected-error @+1 {{positions seq (dimension 1) is 1, expected 5 (hidden seq)}}
  %y, %kc, %vc = mm01.decoder_layer 7 <softmax> (%x, %p, %c, %c)
      : (tensor<?x5x16xf32>, tensor<?x1xi64>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) -> (tensor<?x5x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) {
  ^bb0(%a: tensor<?x5x16xf32>, %b: tensor<?x1xi64>, %c0: tensor<?x?x1x8xf32>, %c1: tensor<?x?x1x8xf32>):
    mm01.yield %a, %c0, %c1 : tensor<?x5x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>
  }
  return
}

// -----

func.func @softmax_layer_cache_rank(%x: tensor<?x?x16xf32>, %p: tensor<?x?xi64>, %c: tensor<?x?x8xf32>) {
  // expected-error @+1 {{key_cache (operand 2) must be a rank-4 float tensor [B, C, Hkv, D], found 'tensor<?x?x8xf32>'}}
  %y, %kc, %vc = mm01.decoder_layer 7 <softmax> (%x, %p, %c, %c)
      : (tensor<?x?x16xf32>, tensor<?x?xi64>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x?xi64>, %c0: tensor<?x?x8xf32>, %c1: tensor<?x?x8xf32>):
    mm01.yield %a, %c0, %c1 : tensor<?x?x16xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>
  }
  return
}

// -----

func.func @softmax_layer_cache_batch(%x: tensor<2x?x16xf32>, %p: tensor<2x?xi64>, %c: tensor<3x?x1x8xf32>) {
  // expected-error @+1 {{key_cache batch (dimension 0) is 3, expected 2 (hidden batch)}}
  %y, %kc, %vc = mm01.decoder_layer 7 <softmax> (%x, %p, %c, %c)
      : (tensor<2x?x16xf32>, tensor<2x?xi64>, tensor<3x?x1x8xf32>, tensor<3x?x1x8xf32>) -> (tensor<2x?x16xf32>, tensor<3x?x1x8xf32>, tensor<3x?x1x8xf32>) {
  ^bb0(%a: tensor<2x?x16xf32>, %b: tensor<2x?xi64>, %c0: tensor<3x?x1x8xf32>, %c1: tensor<3x?x1x8xf32>):
    mm01.yield %a, %c0, %c1 : tensor<2x?x16xf32>, tensor<3x?x1x8xf32>, tensor<3x?x1x8xf32>
  }
  return
}

// -----

func.func @softmax_layer_value_cache_type(%x: tensor<?x?x16xf32>, %p: tensor<?x?xi64>, %kc0: tensor<?x?x1x8xf32>, %vc0: tensor<?x64x1x8xf32>) {
  // expected-error @+1 {{value_cache (operand 3) must have the type of key_cache ('tensor<?x?x1x8xf32>'), found 'tensor<?x64x1x8xf32>'}}
  %y, %kc, %vc = mm01.decoder_layer 7 <softmax> (%x, %p, %kc0, %vc0)
      : (tensor<?x?x16xf32>, tensor<?x?xi64>, tensor<?x?x1x8xf32>, tensor<?x64x1x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x64x1x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x?xi64>, %c0: tensor<?x?x1x8xf32>, %c1: tensor<?x64x1x8xf32>):
    mm01.yield %a, %c0, %c1 : tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x64x1x8xf32>
  }
  return
}

// -----

func.func @layer_hidden_result_type(%x: tensor<?x?x16xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{result 0 (hidden) must have the type of the hidden operand ('tensor<?x?x16xf32>'), found 'tensor<?x?x16xbf16>'}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xbf16>, tensor<?x2x8x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x2x8x8xf32>):
    %c = arith.truncf %a : tensor<?x?x16xf32> to tensor<?x?x16xbf16>
    mm01.yield %c, %b : tensor<?x?x16xbf16>, tensor<?x2x8x8xf32>
  }
  return
}

// -----

func.func @lightning_layer_state_result_type(%x: tensor<?x?x16xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{result 1 (updated state) must have the type of operand 1 ('tensor<?x2x8x8xf32>'), found 'tensor<1x2x8x8xf32>'}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>, tensor<1x2x8x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x2x8x8xf32>):
    %c = tensor.cast %b : tensor<?x2x8x8xf32> to tensor<1x2x8x8xf32>
    mm01.yield %a, %c : tensor<?x?x16xf32>, tensor<1x2x8x8xf32>
  }
  return
}

// -----

func.func @softmax_layer_cache_result_type(%x: tensor<?x?x16xf32>, %p: tensor<?x?xi64>, %c: tensor<?x?x1x8xf32>, %c2: tensor<?x64x1x8xf32>) {
  // expected-error @+1 {{result 2 (updated state) must have the type of operand 3 ('tensor<?x?x1x8xf32>'), found 'tensor<?x64x1x8xf32>'}}
  %y, %kc, %vc = mm01.decoder_layer 7 <softmax> (%x, %p, %c, %c)
      : (tensor<?x?x16xf32>, tensor<?x?xi64>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x64x1x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x?xi64>, %c0: tensor<?x?x1x8xf32>, %c1: tensor<?x?x1x8xf32>):
    %c3 = tensor.cast %c1 : tensor<?x?x1x8xf32> to tensor<?x64x1x8xf32>
    mm01.yield %a, %c0, %c3 : tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x64x1x8xf32>
  }
  return
}

// -----

func.func @layer_body_argument_count(%x: tensor<?x?x16xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{body has 1 arguments, expected one per operand (2)}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>):
    %z = arith.constant dense<0.0> : tensor<1x2x8x8xf32>
    %s0 = tensor.cast %z : tensor<1x2x8x8xf32> to tensor<?x2x8x8xf32>
    mm01.yield %a, %s0 : tensor<?x?x16xf32>, tensor<?x2x8x8xf32>
  }
  return
}

// -----

func.func @layer_body_argument_type(%x: tensor<?x?x16xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{body argument 1 has type 'tensor<2x2x8x8xf32>', expected the type of operand 1 ('tensor<?x2x8x8xf32>')}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<2x2x8x8xf32>):
    %c = tensor.cast %b : tensor<2x2x8x8xf32> to tensor<?x2x8x8xf32>
    mm01.yield %a, %c : tensor<?x?x16xf32>, tensor<?x2x8x8xf32>
  }
  return
}

// -----

func.func @layer_body_no_yield(%x: tensor<?x?x16xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{body must end in mm01.yield}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x2x8x8xf32>):
    %c = mm01.silu %a : tensor<?x?x16xf32>
  }
  return
}

// -----

func.func @layer_yield_types(%x: tensor<?x?x16xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{mm01.yield returns ('tensor<?x2x8x8xf32>', 'tensor<?x?x16xf32>'), expected the layer's result types ('tensor<?x?x16xf32>', 'tensor<?x2x8x8xf32>')}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x2x8x8xf32>):
    mm01.yield %b, %a : tensor<?x2x8x8xf32>, tensor<?x?x16xf32>
  }
  return
}

// -----

func.func @layer_yield_count(%x: tensor<?x?x16xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{mm01.yield returns ('tensor<?x?x16xf32>'), expected the layer's result types ('tensor<?x?x16xf32>', 'tensor<?x2x8x8xf32>')}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x2x8x8xf32>):
    mm01.yield %a : tensor<?x?x16xf32>
  }
  return
}

// -----

// The body references its weights itself: it may not capture values from
// outside.
func.func @layer_isolated_from_above(%x: tensor<?x?x16xf32>, %s: tensor<?x2x8x8xf32>, %w: tensor<16xf32>) {
  // expected-note @+1 {{required by region isolation constraints}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x2x8x8xf32>):
    // expected-error @+1 {{using value defined outside the region}}
    %h = mm01.rms_norm %a, %w eps(1.0e-05) : tensor<?x?x16xf32>, tensor<16xf32>
    mm01.yield %h, %b : tensor<?x?x16xf32>, tensor<?x2x8x8xf32>
  }
  return
}

// -----

func.func @layer_two_blocks(%x: tensor<?x?x16xf32>, %s: tensor<?x2x8x8xf32>) {
  // expected-error @+1 {{expects region #0 to have 0 or 1 blocks}}
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) {
  ^bb0(%a: tensor<?x?x16xf32>, %b: tensor<?x2x8x8xf32>):
    cf.br ^bb1
  ^bb1:
    mm01.yield %a, %b : tensor<?x?x16xf32>, tensor<?x2x8x8xf32>
  }
  return
}

// -----

func.func @yield_outside_layer(%x: tensor<?x?x16xf32>) {
  // expected-error @+1 {{expects parent op to be one of 'mm01.decoder_layer, mm01.fusion'}}
  mm01.yield %x : tensor<?x?x16xf32>
}
