// Round trip of every mm01 op, with static and dynamic (`?`) shapes, through
// the custom and the generic form. The CHECK lines capture every SSA value, so
// they also check the operand wiring of the two decoder layers.
//
// RUN: mm01-opt %s | mm01-opt | FileCheck %s
// RUN: mm01-opt %s --mlir-print-op-generic | mm01-opt | FileCheck %s
// RUN: mm01-opt %s --mlir-print-op-generic | mm01-opt --mlir-print-op-generic \
// RUN:   | FileCheck %s --check-prefix=GENERIC
//
// Model: d=16, H=2, D=8 (H*D=16), Hkv=1, E=4, K=2, I=8, V=32.

// CHECK-LABEL: func.func @weights(
// CHECK-SAME: ) -> (tensor<16xbf16>, tensor<4x8x16xbf16>) {
// CHECK-NEXT: [[V0:%[^ ,:]+]] = mm01.weight "model.norm.weight" {mm01.tag = "final norm"} : tensor<16xbf16>
// CHECK-NEXT: [[V1:%[^ ,:]+]] = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w1.weight" : tensor<4x8x16xbf16>
// CHECK-NEXT: return [[V0]], [[V1]] : tensor<16xbf16>, tensor<4x8x16xbf16>
func.func @weights() -> (tensor<16xbf16>, tensor<4x8x16xbf16>) {
  %w = mm01.weight "model.norm.weight" {mm01.tag = "final norm"} : tensor<16xbf16>
  %e = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w1.weight" : tensor<4x8x16xbf16>
  return %w, %e : tensor<16xbf16>, tensor<4x8x16xbf16>
}

// CHECK-LABEL: func.func @embedding(
// CHECK-SAME: [[ARG0:%[^ ,:]+]]: tensor<2x5xi64>, [[ARG1:%[^ ,:]+]]: tensor<?x?xi32>) -> (tensor<2x5x16xf32>, tensor<?x?x16xbf16>) {
// CHECK-NEXT: [[V0:%[^ ,:]+]] = mm01.weight "model.embed_tokens.weight" : tensor<32x16xbf16>
// CHECK-NEXT: [[V1:%[^ ,:]+]] = mm01.embedding [[V0]]{{\[}}[[ARG0]]{{\]}} : tensor<32x16xbf16>, tensor<2x5xi64> -> tensor<2x5x16xf32>
// CHECK-NEXT: [[V2:%[^ ,:]+]] = mm01.embedding [[V0]]{{\[}}[[ARG1]]{{\]}} : tensor<32x16xbf16>, tensor<?x?xi32> -> tensor<?x?x16xbf16>
// CHECK-NEXT: return [[V1]], [[V2]] : tensor<2x5x16xf32>, tensor<?x?x16xbf16>
func.func @embedding(%ids: tensor<2x5xi64>, %dids: tensor<?x?xi32>) -> (tensor<2x5x16xf32>, tensor<?x?x16xbf16>) {
  %t = mm01.weight "model.embed_tokens.weight" : tensor<32x16xbf16>
  %x = mm01.embedding %t[%ids] : tensor<32x16xbf16>, tensor<2x5xi64> -> tensor<2x5x16xf32>
  %y = mm01.embedding %t[%dids] : tensor<32x16xbf16>, tensor<?x?xi32> -> tensor<?x?x16xbf16>
  return %x, %y : tensor<2x5x16xf32>, tensor<?x?x16xbf16>
}

// CHECK-LABEL: func.func @norm_linear_elementwise(
// CHECK-SAME: [[ARG0:%[^ ,:]+]]: tensor<2x5x16xf32>, [[ARG1:%[^ ,:]+]]: tensor<?x?x16xbf16>) -> (tensor<2x5x48xf32>, tensor<?x?x48xbf16>, tensor<2x5x16xf32>) {
// CHECK-NEXT: [[V0:%[^ ,:]+]] = mm01.weight "model.layers.0.input_layernorm.weight" : tensor<16xbf16>
// CHECK-NEXT: [[V1:%[^ ,:]+]] = mm01.rms_norm [[ARG0]], [[V0]] eps(1.000000e-05) : tensor<2x5x16xf32>, tensor<16xbf16>
// CHECK-NEXT: [[V2:%[^ ,:]+]] = mm01.rms_norm [[ARG1]], [[V0]] eps(9.9999999999999995E-7) : tensor<?x?x16xbf16>, tensor<16xbf16>
// CHECK-NEXT: [[V3:%[^ ,:]+]] = mm01.weight "model.layers.0.self_attn.qkv_proj.weight" : tensor<48x16xbf16>
// CHECK-NEXT: [[V4:%[^ ,:]+]] = mm01.linear [[V1]], [[V3]] : tensor<2x5x16xf32>, tensor<48x16xbf16> -> tensor<2x5x48xf32>
// CHECK-NEXT: [[V5:%[^ ,:]+]] = mm01.linear [[V2]], [[V3]] : tensor<?x?x16xbf16>, tensor<48x16xbf16> -> tensor<?x?x48xbf16>
// CHECK-NEXT: [[V6:%[^ ,:]+]] = mm01.silu [[V4]] : tensor<2x5x48xf32>
// CHECK-NEXT: [[V7:%[^ ,:]+]] = mm01.sigmoid [[V5]] : tensor<?x?x48xbf16>
// CHECK-NEXT: [[V8:%[^ ,:]+]] = mm01.deepnorm_residual [[V1]], [[ARG0]] alpha(3.5565587999999999) beta(1.000000e+00) : tensor<2x5x16xf32>
// CHECK-NEXT: return [[V6]], [[V7]], [[V8]] : tensor<2x5x48xf32>, tensor<?x?x48xbf16>, tensor<2x5x16xf32>
func.func @norm_linear_elementwise(%x: tensor<2x5x16xf32>, %dx: tensor<?x?x16xbf16>)
    -> (tensor<2x5x48xf32>, tensor<?x?x48xbf16>, tensor<2x5x16xf32>) {
  %nw = mm01.weight "model.layers.0.input_layernorm.weight" : tensor<16xbf16>
  %h = mm01.rms_norm %x, %nw eps(1.0e-05) : tensor<2x5x16xf32>, tensor<16xbf16>
  %dh = mm01.rms_norm %dx, %nw eps(9.9999999999999995e-07) : tensor<?x?x16xbf16>, tensor<16xbf16>
  %w = mm01.weight "model.layers.0.self_attn.qkv_proj.weight" : tensor<48x16xbf16>
  %p = mm01.linear %h, %w : tensor<2x5x16xf32>, tensor<48x16xbf16> -> tensor<2x5x48xf32>
  %dp = mm01.linear %dh, %w : tensor<?x?x16xbf16>, tensor<48x16xbf16> -> tensor<?x?x48xbf16>
  %s = mm01.silu %p : tensor<2x5x48xf32>
  %g = mm01.sigmoid %dp : tensor<?x?x48xbf16>
  %r = mm01.deepnorm_residual %h, %x alpha(3.5565588) beta(1.0) : tensor<2x5x16xf32>
  return %s, %g, %r : tensor<2x5x48xf32>, tensor<?x?x48xbf16>, tensor<2x5x16xf32>
}

// CHECK-LABEL: func.func @heads(
// CHECK-SAME: [[ARG0:%[^ ,:]+]]: tensor<2x5x48xf32>, [[ARG1:%[^ ,:]+]]: tensor<?x?x48xbf16>, [[ARG2:%[^ ,:]+]]: tensor<?x5x16xf32>) -> (tensor<2x5x2x8xf32>, tensor<?x?x2x8xbf16>, tensor<?x5x2x8xf32>, tensor<?x5x16xf32>) {
// CHECK-NEXT: [[Q:%[^ ,:]+]], [[K:%[^ ,:]+]], [[V:%[^ ,:]+]] = mm01.split_qkv [[ARG0]] : tensor<2x5x48xf32> -> tensor<2x5x2x8xf32>
// CHECK-NEXT: [[Q_0:%[^ ,:]+]], [[K_1:%[^ ,:]+]], [[V_2:%[^ ,:]+]] = mm01.split_qkv [[ARG1]] : tensor<?x?x48xbf16> -> tensor<?x?x2x8xbf16>
// CHECK-NEXT: [[V0:%[^ ,:]+]] = mm01.split_heads [[ARG2]] : tensor<?x5x16xf32> -> tensor<?x5x2x8xf32>
// CHECK-NEXT: [[V1:%[^ ,:]+]] = mm01.merge_heads [[V0]] : tensor<?x5x2x8xf32> -> tensor<?x5x16xf32>
// CHECK-NEXT: return [[Q]], [[K_1]], [[V0]], [[V1]] : tensor<2x5x2x8xf32>, tensor<?x?x2x8xbf16>, tensor<?x5x2x8xf32>, tensor<?x5x16xf32>
func.func @heads(%qkv: tensor<2x5x48xf32>, %dqkv: tensor<?x?x48xbf16>, %p: tensor<?x5x16xf32>)
    -> (tensor<2x5x2x8xf32>, tensor<?x?x2x8xbf16>, tensor<?x5x2x8xf32>, tensor<?x5x16xf32>) {
  %q, %k, %v = mm01.split_qkv %qkv : tensor<2x5x48xf32> -> tensor<2x5x2x8xf32>
  %dq, %dk, %dv = mm01.split_qkv %dqkv : tensor<?x?x48xbf16> -> tensor<?x?x2x8xbf16>
  %sh = mm01.split_heads %p : tensor<?x5x16xf32> -> tensor<?x5x2x8xf32>
  %mh = mm01.merge_heads %sh : tensor<?x5x2x8xf32> -> tensor<?x5x16xf32>
  return %q, %dk, %sh, %mh : tensor<2x5x2x8xf32>, tensor<?x?x2x8xbf16>, tensor<?x5x2x8xf32>, tensor<?x5x16xf32>
}

// CHECK-LABEL: func.func @lightning(
// CHECK-SAME: [[ARG0:%[^ ,:]+]]: tensor<2x5x2x8xf32>, [[ARG1:%[^ ,:]+]]: tensor<2x2x8x8xf32>, [[ARG2:%[^ ,:]+]]: tensor<?x?x2x8xbf16>, [[ARG3:%[^ ,:]+]]: tensor<?x2x8x8xf32>, [[ARG4:%[^ ,:]+]]: tensor<?x1x2x8xbf16>) -> (tensor<2x5x2x8xf32>, tensor<2x2x8x8xf32>, tensor<?x?x2x8xbf16>, tensor<?x1x2x8xbf16>, tensor<?x2x8x8xf32>) {
// CHECK-NEXT: [[OUTPUT:%[^ ,:]+]], [[NEW_STATE:%[^ ,:]+]] = mm01.lightning_attention [[ARG0]], [[ARG0]], [[ARG0]], [[ARG1]] decay([6.250000e-02, 3.906250e-03]) : tensor<2x5x2x8xf32>, tensor<2x2x8x8xf32>
// CHECK-NEXT: [[OUTPUT_0:%[^ ,:]+]], [[NEW_STATE_1:%[^ ,:]+]] = mm01.lightning_attention [[ARG2]], [[ARG2]], [[ARG2]], [[ARG3]] decay([6.250000e-02, 3.906250e-03]) : tensor<?x?x2x8xbf16>, tensor<?x2x8x8xf32>
// CHECK-NEXT: [[OUTPUT_2:%[^ ,:]+]], [[NEW_STATE_3:%[^ ,:]+]] = mm01.lightning_decode [[ARG4]], [[ARG4]], [[ARG4]], [[NEW_STATE_1]] decay([6.250000e-02, 3.906250e-03]) : tensor<?x1x2x8xbf16>, tensor<?x2x8x8xf32>
// CHECK-NEXT: [[OUTPUT_4:%[^ ,:]+]], [[NEW_STATE_5:%[^ ,:]+]] = mm01.lightning_decode [[ARG2]], [[ARG2]], [[ARG2]], [[NEW_STATE_3]] decay([6.250000e-02, 3.906250e-03]) : tensor<?x?x2x8xbf16>, tensor<?x2x8x8xf32>
// CHECK-NEXT: return [[OUTPUT]], [[NEW_STATE]], [[OUTPUT_4]], [[OUTPUT_2]], [[NEW_STATE_5]] : tensor<2x5x2x8xf32>, tensor<2x2x8x8xf32>, tensor<?x?x2x8xbf16>, tensor<?x1x2x8xbf16>, tensor<?x2x8x8xf32>
func.func @lightning(%q: tensor<2x5x2x8xf32>, %s: tensor<2x2x8x8xf32>,
                     %dq: tensor<?x?x2x8xbf16>, %ds: tensor<?x2x8x8xf32>,
                     %q1: tensor<?x1x2x8xbf16>)
    -> (tensor<2x5x2x8xf32>, tensor<2x2x8x8xf32>, tensor<?x?x2x8xbf16>, tensor<?x1x2x8xbf16>, tensor<?x2x8x8xf32>) {
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.0625, 0.00390625]) : tensor<2x5x2x8xf32>, tensor<2x2x8x8xf32>
  %do, %ds1 = mm01.lightning_attention %dq, %dq, %dq, %ds decay([0.0625, 0.00390625]) : tensor<?x?x2x8xbf16>, tensor<?x2x8x8xf32>
  %o1, %ds2 = mm01.lightning_decode %q1, %q1, %q1, %ds1 decay([0.0625, 0.00390625]) : tensor<?x1x2x8xbf16>, tensor<?x2x8x8xf32>
  %do2, %ds3 = mm01.lightning_decode %dq, %dq, %dq, %ds2 decay([0.0625, 0.00390625]) : tensor<?x?x2x8xbf16>, tensor<?x2x8x8xf32>
  return %o, %s1, %do2, %o1, %ds3 : tensor<2x5x2x8xf32>, tensor<2x2x8x8xf32>, tensor<?x?x2x8xbf16>, tensor<?x1x2x8xbf16>, tensor<?x2x8x8xf32>
}

// CHECK-LABEL: func.func @rope_softmax(
// CHECK-SAME: [[ARG0:%[^ ,:]+]]: tensor<2x5x2x8xf32>, [[ARG1:%[^ ,:]+]]: tensor<2x5x1x8xf32>, [[ARG2:%[^ ,:]+]]: tensor<2x5xi64>, [[ARG3:%[^ ,:]+]]: tensor<2x64x1x8xf32>, [[ARG4:%[^ ,:]+]]: tensor<?x?x2x8xbf16>, [[ARG5:%[^ ,:]+]]: tensor<?x?x1x8xbf16>, [[ARG6:%[^ ,:]+]]: tensor<?x?xi32>, [[ARG7:%[^ ,:]+]]: tensor<?x?x1x8xbf16>) -> (tensor<2x5x2x8xf32>, tensor<2x64x1x8xf32>, tensor<?x?x2x8xbf16>, tensor<?x?x1x8xbf16>) {
// CHECK-NEXT: [[V0:%[^ ,:]+]] = mm01.rope [[ARG0]], [[ARG2]] theta(1.000000e+07) rotary_dim(4) : tensor<2x5x2x8xf32>, tensor<2x5xi64>
// CHECK-NEXT: [[V1:%[^ ,:]+]] = mm01.rope [[ARG1]], [[ARG2]] theta(1.000000e+07) rotary_dim(8) : tensor<2x5x1x8xf32>, tensor<2x5xi64>
// CHECK-NEXT: [[V2:%[^ ,:]+]] = mm01.rope [[ARG4]], [[ARG6]] theta(1.000000e+04) rotary_dim(4) : tensor<?x?x2x8xbf16>, tensor<?x?xi32>
// CHECK-NEXT: [[OUTPUT:%[^ ,:]+]], [[NEW_KEY_CACHE:%[^ ,:]+]], [[NEW_VALUE_CACHE:%[^ ,:]+]] = mm01.softmax_attention [[V0]], [[V1]], [[ARG1]], cache([[ARG3]], [[ARG3]]) positions([[ARG2]]) scale(0.35355339059327379) : tensor<2x5x2x8xf32>, tensor<2x5x1x8xf32>, tensor<2x64x1x8xf32>, tensor<2x5xi64>
// CHECK-NEXT: [[OUTPUT_0:%[^ ,:]+]], [[NEW_KEY_CACHE_1:%[^ ,:]+]], [[NEW_VALUE_CACHE_2:%[^ ,:]+]] = mm01.softmax_attention [[V2]], [[ARG5]], [[ARG5]], cache([[ARG7]], [[ARG7]]) positions([[ARG6]]) scale(0.35355339059327379) : tensor<?x?x2x8xbf16>, tensor<?x?x1x8xbf16>, tensor<?x?x1x8xbf16>, tensor<?x?xi32>
// CHECK-NEXT: return [[OUTPUT]], [[NEW_VALUE_CACHE]], [[OUTPUT_0]], [[NEW_KEY_CACHE_1]] : tensor<2x5x2x8xf32>, tensor<2x64x1x8xf32>, tensor<?x?x2x8xbf16>, tensor<?x?x1x8xbf16>
func.func @rope_softmax(%q: tensor<2x5x2x8xf32>, %k: tensor<2x5x1x8xf32>, %pos: tensor<2x5xi64>,
                        %kc: tensor<2x64x1x8xf32>,
                        %dq: tensor<?x?x2x8xbf16>, %dk: tensor<?x?x1x8xbf16>, %dpos: tensor<?x?xi32>,
                        %dkc: tensor<?x?x1x8xbf16>)
    -> (tensor<2x5x2x8xf32>, tensor<2x64x1x8xf32>, tensor<?x?x2x8xbf16>, tensor<?x?x1x8xbf16>) {
  %qr = mm01.rope %q, %pos theta(1.0e+07) rotary_dim(4) : tensor<2x5x2x8xf32>, tensor<2x5xi64>
  %kr = mm01.rope %k, %pos theta(1.0e+07) rotary_dim(8) : tensor<2x5x1x8xf32>, tensor<2x5xi64>
  %dqr = mm01.rope %dq, %dpos theta(1.0e+04) rotary_dim(4) : tensor<?x?x2x8xbf16>, tensor<?x?xi32>
  %o, %kc1, %vc1 = mm01.softmax_attention %qr, %kr, %k, cache(%kc, %kc) positions(%pos) scale(0.35355339059327379) : tensor<2x5x2x8xf32>, tensor<2x5x1x8xf32>, tensor<2x64x1x8xf32>, tensor<2x5xi64>
  %do, %dkc1, %dvc1 = mm01.softmax_attention %dqr, %dk, %dk, cache(%dkc, %dkc) positions(%dpos) scale(0.35355339059327379) : tensor<?x?x2x8xbf16>, tensor<?x?x1x8xbf16>, tensor<?x?x1x8xbf16>, tensor<?x?xi32>
  return %o, %vc1, %do, %dkc1 : tensor<2x5x2x8xf32>, tensor<2x64x1x8xf32>, tensor<?x?x2x8xbf16>, tensor<?x?x1x8xbf16>
}

// CHECK-LABEL: func.func @moe(
// CHECK-SAME: [[ARG0:%[^ ,:]+]]: tensor<2x5x16xf32>, [[ARG1:%[^ ,:]+]]: tensor<?x?x16xbf16>) -> (tensor<2x5x16xf32>, tensor<?x?x16xbf16>) {
// CHECK-NEXT: [[V0:%[^ ,:]+]] = mm01.weight "model.layers.0.block_sparse_moe.gate.weight" : tensor<4x16xbf16>
// CHECK-NEXT: [[V1:%[^ ,:]+]] = mm01.linear [[ARG0]], [[V0]] : tensor<2x5x16xf32>, tensor<4x16xbf16> -> tensor<2x5x4xf32>
// CHECK-NEXT: [[WEIGHTS:%[^ ,:]+]], [[EXPERTS:%[^ ,:]+]] = mm01.moe_route [[V1]] top_k(2) : tensor<2x5x4xf32> -> tensor<2x5x2xf32>, tensor<2x5x2xi64>
// CHECK-NEXT: [[V2:%[^ ,:]+]] = mm01.linear [[ARG1]], [[V0]] : tensor<?x?x16xbf16>, tensor<4x16xbf16> -> tensor<?x?x4xbf16>
// CHECK-NEXT: [[WEIGHTS_0:%[^ ,:]+]], [[EXPERTS_1:%[^ ,:]+]] = mm01.moe_route [[V2]] top_k(4) : tensor<?x?x4xbf16> -> tensor<?x?x4xf32>, tensor<?x?x4xi32>
// CHECK-NEXT: [[V3:%[^ ,:]+]] = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w1.weight" : tensor<4x8x16xbf16>
// CHECK-NEXT: [[V4:%[^ ,:]+]] = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w3.weight" : tensor<4x8x16xbf16>
// CHECK-NEXT: [[V5:%[^ ,:]+]] = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w2.weight" : tensor<4x16x8xbf16>
// CHECK-NEXT: [[V6:%[^ ,:]+]] = mm01.moe_experts [[ARG0]], [[WEIGHTS]], [[EXPERTS]] experts([[V3]], [[V4]], [[V5]]) : tensor<2x5x16xf32>, tensor<2x5x2xf32>, tensor<2x5x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
// CHECK-NEXT: [[V7:%[^ ,:]+]] = mm01.moe_experts [[ARG1]], [[WEIGHTS_0]], [[EXPERTS_1]] experts([[V3]], [[V4]], [[V5]]) : tensor<?x?x16xbf16>, tensor<?x?x4xf32>, tensor<?x?x4xi32>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
// CHECK-NEXT: return [[V6]], [[V7]] : tensor<2x5x16xf32>, tensor<?x?x16xbf16>
func.func @moe(%h: tensor<2x5x16xf32>, %dh: tensor<?x?x16xbf16>)
    -> (tensor<2x5x16xf32>, tensor<?x?x16xbf16>) {
  %gw = mm01.weight "model.layers.0.block_sparse_moe.gate.weight" : tensor<4x16xbf16>
  %l = mm01.linear %h, %gw : tensor<2x5x16xf32>, tensor<4x16xbf16> -> tensor<2x5x4xf32>
  %w, %e = mm01.moe_route %l top_k(2) : tensor<2x5x4xf32> -> tensor<2x5x2xf32>, tensor<2x5x2xi64>
  %dl = mm01.linear %dh, %gw : tensor<?x?x16xbf16>, tensor<4x16xbf16> -> tensor<?x?x4xbf16>
  %dw, %de = mm01.moe_route %dl top_k(4) : tensor<?x?x4xbf16> -> tensor<?x?x4xf32>, tensor<?x?x4xi32>
  %w1 = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w1.weight" : tensor<4x8x16xbf16>
  %w3 = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w3.weight" : tensor<4x8x16xbf16>
  %w2 = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w2.weight" : tensor<4x16x8xbf16>
  %y = mm01.moe_experts %h, %w, %e experts(%w1, %w3, %w2) : tensor<2x5x16xf32>, tensor<2x5x2xf32>, tensor<2x5x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
  %dy = mm01.moe_experts %dh, %dw, %de experts(%w1, %w3, %w2) : tensor<?x?x16xbf16>, tensor<?x?x4xf32>, tensor<?x?x4xi32>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
  return %y, %dy : tensor<2x5x16xf32>, tensor<?x?x16xbf16>
}

// Lightning layer 0, prefill, dynamic batch and seq.
// CHECK-LABEL: func.func @lightning_layer(
// CHECK-SAME: [[ARG0:%[^ ,:]+]]: tensor<?x?x16xf32>, [[ARG1:%[^ ,:]+]]: tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) {
// CHECK-NEXT: [[V0:%[^ ,:]+]]:2 = mm01.decoder_layer 0 <lightning>([[ARG0]], [[ARG1]]) : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) {
// CHECK-NEXT: ^bb0([[ARG2:%[^ ,:]+]]: tensor<?x?x16xf32>, [[ARG3:%[^ ,:]+]]: tensor<?x2x8x8xf32>):
// CHECK-NEXT: [[V1:%[^ ,:]+]] = mm01.weight "model.layers.0.input_layernorm.weight" : tensor<16xbf16>
// CHECK-NEXT: [[V2:%[^ ,:]+]] = mm01.rms_norm [[ARG2]], [[V1]] eps(1.000000e-05) : tensor<?x?x16xf32>, tensor<16xbf16>
// CHECK-NEXT: [[V3:%[^ ,:]+]] = mm01.weight "model.layers.0.self_attn.qkv_proj.weight" : tensor<48x16xbf16>
// CHECK-NEXT: [[V4:%[^ ,:]+]] = mm01.linear [[V2]], [[V3]] : tensor<?x?x16xf32>, tensor<48x16xbf16> -> tensor<?x?x48xf32>
// CHECK-NEXT: [[V5:%[^ ,:]+]] = mm01.silu [[V4]] : tensor<?x?x48xf32>
// CHECK-NEXT: [[Q:%[^ ,:]+]], [[K:%[^ ,:]+]], [[V:%[^ ,:]+]] = mm01.split_qkv [[V5]] : tensor<?x?x48xf32> -> tensor<?x?x2x8xf32>
// CHECK-NEXT: [[OUTPUT:%[^ ,:]+]], [[NEW_STATE:%[^ ,:]+]] = mm01.lightning_attention [[Q]], [[K]], [[V]], [[ARG3]] decay([0.062500625000000004, 0.0039062890625000003]) : tensor<?x?x2x8xf32>, tensor<?x2x8x8xf32>
// CHECK-NEXT: [[V6:%[^ ,:]+]] = mm01.merge_heads [[OUTPUT]] : tensor<?x?x2x8xf32> -> tensor<?x?x16xf32>
// CHECK-NEXT: [[V7:%[^ ,:]+]] = mm01.weight "model.layers.0.self_attn.norm.weight" : tensor<16xbf16>
// CHECK-NEXT: [[V8:%[^ ,:]+]] = mm01.rms_norm [[V6]], [[V7]] eps(9.9999999999999995E-7) : tensor<?x?x16xf32>, tensor<16xbf16>
// CHECK-NEXT: [[V9:%[^ ,:]+]] = mm01.weight "model.layers.0.self_attn.output_gate.weight" : tensor<16x16xbf16>
// CHECK-NEXT: [[V10:%[^ ,:]+]] = mm01.linear [[V2]], [[V9]] : tensor<?x?x16xf32>, tensor<16x16xbf16> -> tensor<?x?x16xf32>
// CHECK-NEXT: [[V11:%[^ ,:]+]] = mm01.sigmoid [[V10]] : tensor<?x?x16xf32>
// CHECK-NEXT: [[V12:%[^ ,:]+]] = arith.mulf [[V8]], [[V11]] : tensor<?x?x16xf32>
// CHECK-NEXT: [[V13:%[^ ,:]+]] = mm01.weight "model.layers.0.self_attn.out_proj.weight" : tensor<16x16xbf16>
// CHECK-NEXT: [[V14:%[^ ,:]+]] = mm01.linear [[V12]], [[V13]] : tensor<?x?x16xf32>, tensor<16x16xbf16> -> tensor<?x?x16xf32>
// CHECK-NEXT: [[V15:%[^ ,:]+]] = mm01.deepnorm_residual [[V2]], [[V14]] alpha(2.000000e+00) beta(1.000000e+00) : tensor<?x?x16xf32>
// CHECK-NEXT: [[V16:%[^ ,:]+]] = mm01.weight "model.layers.0.post_attention_layernorm.weight" : tensor<16xbf16>
// CHECK-NEXT: [[V17:%[^ ,:]+]] = mm01.rms_norm [[V15]], [[V16]] eps(1.000000e-05) : tensor<?x?x16xf32>, tensor<16xbf16>
// CHECK-NEXT: [[V18:%[^ ,:]+]] = mm01.weight "model.layers.0.block_sparse_moe.gate.weight" : tensor<4x16xbf16>
// CHECK-NEXT: [[V19:%[^ ,:]+]] = mm01.linear [[V17]], [[V18]] : tensor<?x?x16xf32>, tensor<4x16xbf16> -> tensor<?x?x4xf32>
// CHECK-NEXT: [[WEIGHTS:%[^ ,:]+]], [[EXPERTS:%[^ ,:]+]] = mm01.moe_route [[V19]] top_k(2) : tensor<?x?x4xf32> -> tensor<?x?x2xf32>, tensor<?x?x2xi64>
// CHECK-NEXT: [[V20:%[^ ,:]+]] = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w1.weight" : tensor<4x8x16xbf16>
// CHECK-NEXT: [[V21:%[^ ,:]+]] = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w3.weight" : tensor<4x8x16xbf16>
// CHECK-NEXT: [[V22:%[^ ,:]+]] = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w2.weight" : tensor<4x16x8xbf16>
// CHECK-NEXT: [[V23:%[^ ,:]+]] = mm01.moe_experts [[V17]], [[WEIGHTS]], [[EXPERTS]] experts([[V20]], [[V21]], [[V22]]) : tensor<?x?x16xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
// CHECK-NEXT: [[V24:%[^ ,:]+]] = mm01.deepnorm_residual [[V17]], [[V23]] alpha(2.000000e+00) beta(1.000000e+00) : tensor<?x?x16xf32>
// CHECK-NEXT: mm01.yield [[V24]], [[NEW_STATE]] : tensor<?x?x16xf32>, tensor<?x2x8x8xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return [[V0]]#0, [[V0]]#1 : tensor<?x?x16xf32>, tensor<?x2x8x8xf32>
func.func @lightning_layer(%x0: tensor<?x?x16xf32>, %s0: tensor<?x2x8x8xf32>)
    -> (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) {
  %x1, %s1 = mm01.decoder_layer 0 <lightning> (%x0, %s0)
      : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) {
  ^bb0(%x: tensor<?x?x16xf32>, %s: tensor<?x2x8x8xf32>):
    %w_in = mm01.weight "model.layers.0.input_layernorm.weight" : tensor<16xbf16>
    %h = mm01.rms_norm %x, %w_in eps(1.0e-05) : tensor<?x?x16xf32>, tensor<16xbf16>
    %w_qkv = mm01.weight "model.layers.0.self_attn.qkv_proj.weight" : tensor<48x16xbf16>
    %qkv0 = mm01.linear %h, %w_qkv : tensor<?x?x16xf32>, tensor<48x16xbf16> -> tensor<?x?x48xf32>
    %qkv = mm01.silu %qkv0 : tensor<?x?x48xf32>
    %q, %k, %v = mm01.split_qkv %qkv : tensor<?x?x48xf32> -> tensor<?x?x2x8xf32>
    %o, %s_new = mm01.lightning_attention %q, %k, %v, %s decay([0.062500625, 0.0039062890625])
        : tensor<?x?x2x8xf32>, tensor<?x2x8x8xf32>
    %om = mm01.merge_heads %o : tensor<?x?x2x8xf32> -> tensor<?x?x16xf32>
    %w_norm = mm01.weight "model.layers.0.self_attn.norm.weight" : tensor<16xbf16>
    %on = mm01.rms_norm %om, %w_norm eps(1.0e-06) : tensor<?x?x16xf32>, tensor<16xbf16>
    %w_gate = mm01.weight "model.layers.0.self_attn.output_gate.weight" : tensor<16x16xbf16>
    %g0 = mm01.linear %h, %w_gate : tensor<?x?x16xf32>, tensor<16x16xbf16> -> tensor<?x?x16xf32>
    %g = mm01.sigmoid %g0 : tensor<?x?x16xf32>
    %og = arith.mulf %on, %g : tensor<?x?x16xf32>
    %w_out = mm01.weight "model.layers.0.self_attn.out_proj.weight" : tensor<16x16xbf16>
    %a = mm01.linear %og, %w_out : tensor<?x?x16xf32>, tensor<16x16xbf16> -> tensor<?x?x16xf32>
    %x1 = mm01.deepnorm_residual %h, %a alpha(2.0) beta(1.0) : tensor<?x?x16xf32>
    %w_post = mm01.weight "model.layers.0.post_attention_layernorm.weight" : tensor<16xbf16>
    %h2 = mm01.rms_norm %x1, %w_post eps(1.0e-05) : tensor<?x?x16xf32>, tensor<16xbf16>
    %w_router = mm01.weight "model.layers.0.block_sparse_moe.gate.weight" : tensor<4x16xbf16>
    %rl = mm01.linear %h2, %w_router : tensor<?x?x16xf32>, tensor<4x16xbf16> -> tensor<?x?x4xf32>
    %rw, %re = mm01.moe_route %rl top_k(2) : tensor<?x?x4xf32> -> tensor<?x?x2xf32>, tensor<?x?x2xi64>
    %w1 = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w1.weight" : tensor<4x8x16xbf16>
    %w3 = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w3.weight" : tensor<4x8x16xbf16>
    %w2 = mm01.expert_weights "model.layers.0.block_sparse_moe.experts.{e}.w2.weight" : tensor<4x16x8xbf16>
    %m = mm01.moe_experts %h2, %rw, %re experts(%w1, %w3, %w2)
        : tensor<?x?x16xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>,
          tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
    %y = mm01.deepnorm_residual %h2, %m alpha(2.0) beta(1.0) : tensor<?x?x16xf32>
    mm01.yield %y, %s_new : tensor<?x?x16xf32>, tensor<?x2x8x8xf32>
  }
  return %x1, %s1 : tensor<?x?x16xf32>, tensor<?x2x8x8xf32>
}

// Lightning layer 1, decode (T = 1), static batch, bf16 activations.
// CHECK-LABEL: func.func @lightning_decode_layer(
// CHECK-SAME: [[ARG0:%[^ ,:]+]]: tensor<2x1x16xbf16>, [[ARG1:%[^ ,:]+]]: tensor<2x2x8x8xf32>) -> (tensor<2x1x16xbf16>, tensor<2x2x8x8xf32>) {
// CHECK-NEXT: [[V0:%[^ ,:]+]]:2 = mm01.decoder_layer 1 <lightning>([[ARG0]], [[ARG1]]) : (tensor<2x1x16xbf16>, tensor<2x2x8x8xf32>) -> (tensor<2x1x16xbf16>, tensor<2x2x8x8xf32>) {
// CHECK-NEXT: ^bb0([[ARG2:%[^ ,:]+]]: tensor<2x1x16xbf16>, [[ARG3:%[^ ,:]+]]: tensor<2x2x8x8xf32>):
// CHECK-NEXT: [[V1:%[^ ,:]+]] = mm01.weight "model.layers.1.input_layernorm.weight" : tensor<16xbf16>
// CHECK-NEXT: [[V2:%[^ ,:]+]] = mm01.rms_norm [[ARG2]], [[V1]] eps(1.000000e-05) : tensor<2x1x16xbf16>, tensor<16xbf16>
// CHECK-NEXT: [[V3:%[^ ,:]+]] = mm01.weight "model.layers.1.self_attn.qkv_proj.weight" : tensor<48x16xbf16>
// CHECK-NEXT: [[V4:%[^ ,:]+]] = mm01.linear [[V2]], [[V3]] : tensor<2x1x16xbf16>, tensor<48x16xbf16> -> tensor<2x1x48xbf16>
// CHECK-NEXT: [[V5:%[^ ,:]+]] = mm01.silu [[V4]] : tensor<2x1x48xbf16>
// CHECK-NEXT: [[Q:%[^ ,:]+]], [[K:%[^ ,:]+]], [[V:%[^ ,:]+]] = mm01.split_qkv [[V5]] : tensor<2x1x48xbf16> -> tensor<2x1x2x8xbf16>
// CHECK-NEXT: [[OUTPUT:%[^ ,:]+]], [[NEW_STATE:%[^ ,:]+]] = mm01.lightning_decode [[Q]], [[K]], [[V]], [[ARG3]] decay([0.053572066326512388, 0.0033482541454070243]) : tensor<2x1x2x8xbf16>, tensor<2x2x8x8xf32>
// CHECK-NEXT: [[V6:%[^ ,:]+]] = mm01.merge_heads [[OUTPUT]] : tensor<2x1x2x8xbf16> -> tensor<2x1x16xbf16>
// CHECK-NEXT: [[V7:%[^ ,:]+]] = mm01.weight "model.layers.1.self_attn.norm.weight" : tensor<16xbf16>
// CHECK-NEXT: [[V8:%[^ ,:]+]] = mm01.rms_norm [[V6]], [[V7]] eps(9.9999999999999995E-7) : tensor<2x1x16xbf16>, tensor<16xbf16>
// CHECK-NEXT: [[V9:%[^ ,:]+]] = mm01.weight "model.layers.1.self_attn.output_gate.weight" : tensor<16x16xbf16>
// CHECK-NEXT: [[V10:%[^ ,:]+]] = mm01.linear [[V2]], [[V9]] : tensor<2x1x16xbf16>, tensor<16x16xbf16> -> tensor<2x1x16xbf16>
// CHECK-NEXT: [[V11:%[^ ,:]+]] = mm01.sigmoid [[V10]] : tensor<2x1x16xbf16>
// CHECK-NEXT: [[V12:%[^ ,:]+]] = arith.mulf [[V8]], [[V11]] : tensor<2x1x16xbf16>
// CHECK-NEXT: [[V13:%[^ ,:]+]] = mm01.weight "model.layers.1.self_attn.out_proj.weight" : tensor<16x16xbf16>
// CHECK-NEXT: [[V14:%[^ ,:]+]] = mm01.linear [[V12]], [[V13]] : tensor<2x1x16xbf16>, tensor<16x16xbf16> -> tensor<2x1x16xbf16>
// CHECK-NEXT: [[V15:%[^ ,:]+]] = mm01.deepnorm_residual [[V2]], [[V14]] alpha(2.000000e+00) beta(1.000000e+00) : tensor<2x1x16xbf16>
// CHECK-NEXT: [[V16:%[^ ,:]+]] = mm01.weight "model.layers.1.post_attention_layernorm.weight" : tensor<16xbf16>
// CHECK-NEXT: [[V17:%[^ ,:]+]] = mm01.rms_norm [[V15]], [[V16]] eps(1.000000e-05) : tensor<2x1x16xbf16>, tensor<16xbf16>
// CHECK-NEXT: [[V18:%[^ ,:]+]] = mm01.weight "model.layers.1.block_sparse_moe.gate.weight" : tensor<4x16xbf16>
// CHECK-NEXT: [[V19:%[^ ,:]+]] = mm01.linear [[V17]], [[V18]] : tensor<2x1x16xbf16>, tensor<4x16xbf16> -> tensor<2x1x4xbf16>
// CHECK-NEXT: [[WEIGHTS:%[^ ,:]+]], [[EXPERTS:%[^ ,:]+]] = mm01.moe_route [[V19]] top_k(2) : tensor<2x1x4xbf16> -> tensor<2x1x2xf32>, tensor<2x1x2xi64>
// CHECK-NEXT: [[V20:%[^ ,:]+]] = mm01.expert_weights "model.layers.1.block_sparse_moe.experts.{e}.w1.weight" : tensor<4x8x16xbf16>
// CHECK-NEXT: [[V21:%[^ ,:]+]] = mm01.expert_weights "model.layers.1.block_sparse_moe.experts.{e}.w3.weight" : tensor<4x8x16xbf16>
// CHECK-NEXT: [[V22:%[^ ,:]+]] = mm01.expert_weights "model.layers.1.block_sparse_moe.experts.{e}.w2.weight" : tensor<4x16x8xbf16>
// CHECK-NEXT: [[V23:%[^ ,:]+]] = mm01.moe_experts [[V17]], [[WEIGHTS]], [[EXPERTS]] experts([[V20]], [[V21]], [[V22]]) : tensor<2x1x16xbf16>, tensor<2x1x2xf32>, tensor<2x1x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
// CHECK-NEXT: [[V24:%[^ ,:]+]] = mm01.deepnorm_residual [[V17]], [[V23]] alpha(2.000000e+00) beta(1.000000e+00) : tensor<2x1x16xbf16>
// CHECK-NEXT: mm01.yield [[V24]], [[NEW_STATE]] : tensor<2x1x16xbf16>, tensor<2x2x8x8xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return [[V0]]#0, [[V0]]#1 : tensor<2x1x16xbf16>, tensor<2x2x8x8xf32>
func.func @lightning_decode_layer(%x0: tensor<2x1x16xbf16>, %s0: tensor<2x2x8x8xf32>)
    -> (tensor<2x1x16xbf16>, tensor<2x2x8x8xf32>) {
  %x1, %s1 = mm01.decoder_layer 1 <lightning> (%x0, %s0)
      : (tensor<2x1x16xbf16>, tensor<2x2x8x8xf32>) -> (tensor<2x1x16xbf16>, tensor<2x2x8x8xf32>) {
  ^bb0(%x: tensor<2x1x16xbf16>, %s: tensor<2x2x8x8xf32>):
    %w_in = mm01.weight "model.layers.1.input_layernorm.weight" : tensor<16xbf16>
    %h = mm01.rms_norm %x, %w_in eps(1.0e-05) : tensor<2x1x16xbf16>, tensor<16xbf16>
    %w_qkv = mm01.weight "model.layers.1.self_attn.qkv_proj.weight" : tensor<48x16xbf16>
    %qkv0 = mm01.linear %h, %w_qkv : tensor<2x1x16xbf16>, tensor<48x16xbf16> -> tensor<2x1x48xbf16>
    %qkv = mm01.silu %qkv0 : tensor<2x1x48xbf16>
    %q, %k, %v = mm01.split_qkv %qkv : tensor<2x1x48xbf16> -> tensor<2x1x2x8xbf16>
    %o, %s_new = mm01.lightning_decode %q, %k, %v, %s decay([0.05357206632651239, 0.0033482541454070243])
        : tensor<2x1x2x8xbf16>, tensor<2x2x8x8xf32>
    %om = mm01.merge_heads %o : tensor<2x1x2x8xbf16> -> tensor<2x1x16xbf16>
    %w_norm = mm01.weight "model.layers.1.self_attn.norm.weight" : tensor<16xbf16>
    %on = mm01.rms_norm %om, %w_norm eps(1.0e-06) : tensor<2x1x16xbf16>, tensor<16xbf16>
    %w_gate = mm01.weight "model.layers.1.self_attn.output_gate.weight" : tensor<16x16xbf16>
    %g0 = mm01.linear %h, %w_gate : tensor<2x1x16xbf16>, tensor<16x16xbf16> -> tensor<2x1x16xbf16>
    %g = mm01.sigmoid %g0 : tensor<2x1x16xbf16>
    %og = arith.mulf %on, %g : tensor<2x1x16xbf16>
    %w_out = mm01.weight "model.layers.1.self_attn.out_proj.weight" : tensor<16x16xbf16>
    %a = mm01.linear %og, %w_out : tensor<2x1x16xbf16>, tensor<16x16xbf16> -> tensor<2x1x16xbf16>
    %x1 = mm01.deepnorm_residual %h, %a alpha(2.0) beta(1.0) : tensor<2x1x16xbf16>
    %w_post = mm01.weight "model.layers.1.post_attention_layernorm.weight" : tensor<16xbf16>
    %h2 = mm01.rms_norm %x1, %w_post eps(1.0e-05) : tensor<2x1x16xbf16>, tensor<16xbf16>
    %w_router = mm01.weight "model.layers.1.block_sparse_moe.gate.weight" : tensor<4x16xbf16>
    %rl = mm01.linear %h2, %w_router : tensor<2x1x16xbf16>, tensor<4x16xbf16> -> tensor<2x1x4xbf16>
    %rw, %re = mm01.moe_route %rl top_k(2) : tensor<2x1x4xbf16> -> tensor<2x1x2xf32>, tensor<2x1x2xi64>
    %w1 = mm01.expert_weights "model.layers.1.block_sparse_moe.experts.{e}.w1.weight" : tensor<4x8x16xbf16>
    %w3 = mm01.expert_weights "model.layers.1.block_sparse_moe.experts.{e}.w3.weight" : tensor<4x8x16xbf16>
    %w2 = mm01.expert_weights "model.layers.1.block_sparse_moe.experts.{e}.w2.weight" : tensor<4x16x8xbf16>
    %m = mm01.moe_experts %h2, %rw, %re experts(%w1, %w3, %w2)
        : tensor<2x1x16xbf16>, tensor<2x1x2xf32>, tensor<2x1x2xi64>,
          tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
    %y = mm01.deepnorm_residual %h2, %m alpha(2.0) beta(1.0) : tensor<2x1x16xbf16>
    mm01.yield %y, %s_new : tensor<2x1x16xbf16>, tensor<2x2x8x8xf32>
  }
  return %x1, %s1 : tensor<2x1x16xbf16>, tensor<2x2x8x8xf32>
}

// Softmax layer 7 (H = 2, Hkv = 1, D = 8, rotary_dim 4), dynamic batch, seq
// and cache capacity; the extra attribute checks attr-dict-with-keyword.
// CHECK-LABEL: func.func @softmax_layer(
// CHECK-SAME: [[ARG0:%[^ ,:]+]]: tensor<?x?x16xf32>, [[ARG1:%[^ ,:]+]]: tensor<?x?xi64>, [[ARG2:%[^ ,:]+]]: tensor<?x?x1x8xf32>, [[ARG3:%[^ ,:]+]]: tensor<?x?x1x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) {
// CHECK-NEXT: [[V0:%[^ ,:]+]]:3 = mm01.decoder_layer 7 <softmax>([[ARG0]], [[ARG1]], [[ARG2]], [[ARG3]]) attributes {mm01.note = "full attention"} : (tensor<?x?x16xf32>, tensor<?x?xi64>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) {
// CHECK-NEXT: ^bb0([[ARG4:%[^ ,:]+]]: tensor<?x?x16xf32>, [[ARG5:%[^ ,:]+]]: tensor<?x?xi64>, [[ARG6:%[^ ,:]+]]: tensor<?x?x1x8xf32>, [[ARG7:%[^ ,:]+]]: tensor<?x?x1x8xf32>):
// CHECK-NEXT: [[V1:%[^ ,:]+]] = mm01.weight "model.layers.7.input_layernorm.weight" : tensor<16xbf16>
// CHECK-NEXT: [[V2:%[^ ,:]+]] = mm01.rms_norm [[ARG4]], [[V1]] eps(1.000000e-05) : tensor<?x?x16xf32>, tensor<16xbf16>
// CHECK-NEXT: [[V3:%[^ ,:]+]] = mm01.weight "model.layers.7.self_attn.q_proj.weight" : tensor<16x16xbf16>
// CHECK-NEXT: [[V4:%[^ ,:]+]] = mm01.linear [[V2]], [[V3]] : tensor<?x?x16xf32>, tensor<16x16xbf16> -> tensor<?x?x16xf32>
// CHECK-NEXT: [[V5:%[^ ,:]+]] = mm01.split_heads [[V4]] : tensor<?x?x16xf32> -> tensor<?x?x2x8xf32>
// CHECK-NEXT: [[V6:%[^ ,:]+]] = mm01.rope [[V5]], [[ARG5]] theta(1.000000e+07) rotary_dim(4) : tensor<?x?x2x8xf32>, tensor<?x?xi64>
// CHECK-NEXT: [[V7:%[^ ,:]+]] = mm01.weight "model.layers.7.self_attn.k_proj.weight" : tensor<8x16xbf16>
// CHECK-NEXT: [[V8:%[^ ,:]+]] = mm01.linear [[V2]], [[V7]] : tensor<?x?x16xf32>, tensor<8x16xbf16> -> tensor<?x?x8xf32>
// CHECK-NEXT: [[V9:%[^ ,:]+]] = mm01.split_heads [[V8]] : tensor<?x?x8xf32> -> tensor<?x?x1x8xf32>
// CHECK-NEXT: [[V10:%[^ ,:]+]] = mm01.rope [[V9]], [[ARG5]] theta(1.000000e+07) rotary_dim(4) : tensor<?x?x1x8xf32>, tensor<?x?xi64>
// CHECK-NEXT: [[V11:%[^ ,:]+]] = mm01.weight "model.layers.7.self_attn.v_proj.weight" : tensor<8x16xbf16>
// CHECK-NEXT: [[V12:%[^ ,:]+]] = mm01.linear [[V2]], [[V11]] : tensor<?x?x16xf32>, tensor<8x16xbf16> -> tensor<?x?x8xf32>
// CHECK-NEXT: [[V13:%[^ ,:]+]] = mm01.split_heads [[V12]] : tensor<?x?x8xf32> -> tensor<?x?x1x8xf32>
// CHECK-NEXT: [[OUTPUT:%[^ ,:]+]], [[NEW_KEY_CACHE:%[^ ,:]+]], [[NEW_VALUE_CACHE:%[^ ,:]+]] = mm01.softmax_attention [[V6]], [[V10]], [[V13]], cache([[ARG6]], [[ARG7]]) positions([[ARG5]]) scale(0.35355339059327373) : tensor<?x?x2x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?xi64>
// CHECK-NEXT: [[V14:%[^ ,:]+]] = mm01.merge_heads [[OUTPUT]] : tensor<?x?x2x8xf32> -> tensor<?x?x16xf32>
// CHECK-NEXT: [[V15:%[^ ,:]+]] = mm01.weight "model.layers.7.self_attn.o_proj.weight" : tensor<16x16xbf16>
// CHECK-NEXT: [[V16:%[^ ,:]+]] = mm01.linear [[V14]], [[V15]] : tensor<?x?x16xf32>, tensor<16x16xbf16> -> tensor<?x?x16xf32>
// CHECK-NEXT: [[V17:%[^ ,:]+]] = mm01.deepnorm_residual [[V2]], [[V16]] alpha(2.000000e+00) beta(1.000000e+00) : tensor<?x?x16xf32>
// CHECK-NEXT: [[V18:%[^ ,:]+]] = mm01.weight "model.layers.7.post_attention_layernorm.weight" : tensor<16xbf16>
// CHECK-NEXT: [[V19:%[^ ,:]+]] = mm01.rms_norm [[V17]], [[V18]] eps(1.000000e-05) : tensor<?x?x16xf32>, tensor<16xbf16>
// CHECK-NEXT: [[V20:%[^ ,:]+]] = mm01.weight "model.layers.7.block_sparse_moe.gate.weight" : tensor<4x16xbf16>
// CHECK-NEXT: [[V21:%[^ ,:]+]] = mm01.linear [[V19]], [[V20]] : tensor<?x?x16xf32>, tensor<4x16xbf16> -> tensor<?x?x4xf32>
// CHECK-NEXT: [[WEIGHTS:%[^ ,:]+]], [[EXPERTS:%[^ ,:]+]] = mm01.moe_route [[V21]] top_k(2) : tensor<?x?x4xf32> -> tensor<?x?x2xf32>, tensor<?x?x2xi64>
// CHECK-NEXT: [[V22:%[^ ,:]+]] = mm01.expert_weights "model.layers.7.block_sparse_moe.experts.{e}.w1.weight" : tensor<4x8x16xbf16>
// CHECK-NEXT: [[V23:%[^ ,:]+]] = mm01.expert_weights "model.layers.7.block_sparse_moe.experts.{e}.w3.weight" : tensor<4x8x16xbf16>
// CHECK-NEXT: [[V24:%[^ ,:]+]] = mm01.expert_weights "model.layers.7.block_sparse_moe.experts.{e}.w2.weight" : tensor<4x16x8xbf16>
// CHECK-NEXT: [[V25:%[^ ,:]+]] = mm01.moe_experts [[V19]], [[WEIGHTS]], [[EXPERTS]] experts([[V22]], [[V23]], [[V24]]) : tensor<?x?x16xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
// CHECK-NEXT: [[V26:%[^ ,:]+]] = mm01.deepnorm_residual [[V19]], [[V25]] alpha(2.000000e+00) beta(1.000000e+00) : tensor<?x?x16xf32>
// CHECK-NEXT: mm01.yield [[V26]], [[NEW_KEY_CACHE]], [[NEW_VALUE_CACHE]] : tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return [[V0]]#0, [[V0]]#1, [[V0]]#2 : tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>
func.func @softmax_layer(%x0: tensor<?x?x16xf32>, %pos: tensor<?x?xi64>,
                         %kc0: tensor<?x?x1x8xf32>, %vc0: tensor<?x?x1x8xf32>)
    -> (tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) {
  %x1, %kc1, %vc1 = mm01.decoder_layer 7 <softmax> (%x0, %pos, %kc0, %vc0) attributes {mm01.note = "full attention"}
      : (tensor<?x?x16xf32>, tensor<?x?xi64>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>)
        -> (tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) {
  ^bb0(%x: tensor<?x?x16xf32>, %p: tensor<?x?xi64>, %kc: tensor<?x?x1x8xf32>, %vc: tensor<?x?x1x8xf32>):
    %w_in = mm01.weight "model.layers.7.input_layernorm.weight" : tensor<16xbf16>
    %h = mm01.rms_norm %x, %w_in eps(1.0e-05) : tensor<?x?x16xf32>, tensor<16xbf16>
    %w_q = mm01.weight "model.layers.7.self_attn.q_proj.weight" : tensor<16x16xbf16>
    %q0 = mm01.linear %h, %w_q : tensor<?x?x16xf32>, tensor<16x16xbf16> -> tensor<?x?x16xf32>
    %q1 = mm01.split_heads %q0 : tensor<?x?x16xf32> -> tensor<?x?x2x8xf32>
    %q = mm01.rope %q1, %p theta(1.0e+07) rotary_dim(4) : tensor<?x?x2x8xf32>, tensor<?x?xi64>
    %w_k = mm01.weight "model.layers.7.self_attn.k_proj.weight" : tensor<8x16xbf16>
    %k0 = mm01.linear %h, %w_k : tensor<?x?x16xf32>, tensor<8x16xbf16> -> tensor<?x?x8xf32>
    %k1 = mm01.split_heads %k0 : tensor<?x?x8xf32> -> tensor<?x?x1x8xf32>
    %k = mm01.rope %k1, %p theta(1.0e+07) rotary_dim(4) : tensor<?x?x1x8xf32>, tensor<?x?xi64>
    %w_v = mm01.weight "model.layers.7.self_attn.v_proj.weight" : tensor<8x16xbf16>
    %v0 = mm01.linear %h, %w_v : tensor<?x?x16xf32>, tensor<8x16xbf16> -> tensor<?x?x8xf32>
    %v = mm01.split_heads %v0 : tensor<?x?x8xf32> -> tensor<?x?x1x8xf32>
    %o, %kc_new, %vc_new = mm01.softmax_attention %q, %k, %v, cache(%kc, %vc) positions(%p) scale(0.35355339059327373)
        : tensor<?x?x2x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?xi64>
    %om = mm01.merge_heads %o : tensor<?x?x2x8xf32> -> tensor<?x?x16xf32>
    %w_o = mm01.weight "model.layers.7.self_attn.o_proj.weight" : tensor<16x16xbf16>
    %a = mm01.linear %om, %w_o : tensor<?x?x16xf32>, tensor<16x16xbf16> -> tensor<?x?x16xf32>
    %x1 = mm01.deepnorm_residual %h, %a alpha(2.0) beta(1.0) : tensor<?x?x16xf32>
    %w_post = mm01.weight "model.layers.7.post_attention_layernorm.weight" : tensor<16xbf16>
    %h2 = mm01.rms_norm %x1, %w_post eps(1.0e-05) : tensor<?x?x16xf32>, tensor<16xbf16>
    %w_router = mm01.weight "model.layers.7.block_sparse_moe.gate.weight" : tensor<4x16xbf16>
    %rl = mm01.linear %h2, %w_router : tensor<?x?x16xf32>, tensor<4x16xbf16> -> tensor<?x?x4xf32>
    %rw, %re = mm01.moe_route %rl top_k(2) : tensor<?x?x4xf32> -> tensor<?x?x2xf32>, tensor<?x?x2xi64>
    %w1 = mm01.expert_weights "model.layers.7.block_sparse_moe.experts.{e}.w1.weight" : tensor<4x8x16xbf16>
    %w3 = mm01.expert_weights "model.layers.7.block_sparse_moe.experts.{e}.w3.weight" : tensor<4x8x16xbf16>
    %w2 = mm01.expert_weights "model.layers.7.block_sparse_moe.experts.{e}.w2.weight" : tensor<4x16x8xbf16>
    %m = mm01.moe_experts %h2, %rw, %re experts(%w1, %w3, %w2)
        : tensor<?x?x16xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>,
          tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>
    %y = mm01.deepnorm_residual %h2, %m alpha(2.0) beta(1.0) : tensor<?x?x16xf32>
    mm01.yield %y, %kc_new, %vc_new : tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>
  }
  return %x1, %kc1, %vc1 : tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>
}

// The generic form carries the same properties and attributes. The decay rates
// keep every digit in both forms (the custom form prints them with printFloat).
// GENERIC: "mm01.weight"() <{name = "model.norm.weight"}> {mm01.tag = "final norm"} : () -> tensor<16xbf16>
// GENERIC: "mm01.expert_weights"() <{name_format = "model.layers.0.block_sparse_moe.experts.{e}.w1.weight"}> : () -> tensor<4x8x16xbf16>
// GENERIC: "mm01.embedding"(%{{.*}}, %{{.*}}) : (tensor<32x16xbf16>, tensor<2x5xi64>) -> tensor<2x5x16xf32>
// GENERIC: "mm01.rms_norm"(%{{.*}}, %{{.*}}) <{epsilon = 1.000000e-05 : f64}> : (tensor<2x5x16xf32>, tensor<16xbf16>) -> tensor<2x5x16xf32>
// GENERIC: "mm01.linear"(%{{.*}}, %{{.*}}) : (tensor<2x5x16xf32>, tensor<48x16xbf16>) -> tensor<2x5x48xf32>
// GENERIC: "mm01.silu"(%{{.*}}) : (tensor<2x5x48xf32>) -> tensor<2x5x48xf32>
// GENERIC: "mm01.sigmoid"(%{{.*}}) : (tensor<?x?x48xbf16>) -> tensor<?x?x48xbf16>
// GENERIC: "mm01.deepnorm_residual"(%{{.*}}, %{{.*}}) <{alpha = 3.5565587999999999 : f64, beta = 1.000000e+00 : f64}> : (tensor<2x5x16xf32>, tensor<2x5x16xf32>) -> tensor<2x5x16xf32>
// GENERIC: "mm01.split_qkv"(%{{.*}}) : (tensor<2x5x48xf32>) -> (tensor<2x5x2x8xf32>, tensor<2x5x2x8xf32>, tensor<2x5x2x8xf32>)
// GENERIC: "mm01.split_heads"(%{{.*}}) : (tensor<?x5x16xf32>) -> tensor<?x5x2x8xf32>
// GENERIC: "mm01.merge_heads"(%{{.*}}) : (tensor<?x5x2x8xf32>) -> tensor<?x5x16xf32>
// GENERIC: "mm01.lightning_attention"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{decay = array<f64: 6.250000e-02, 3.906250e-03>}> : (tensor<2x5x2x8xf32>, tensor<2x5x2x8xf32>, tensor<2x5x2x8xf32>, tensor<2x2x8x8xf32>) -> (tensor<2x5x2x8xf32>, tensor<2x2x8x8xf32>)
// GENERIC: "mm01.lightning_decode"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{decay = array<f64: 6.250000e-02, 3.906250e-03>}> : (tensor<?x1x2x8xbf16>, tensor<?x1x2x8xbf16>, tensor<?x1x2x8xbf16>, tensor<?x2x8x8xf32>) -> (tensor<?x1x2x8xbf16>, tensor<?x2x8x8xf32>)
// GENERIC: "mm01.rope"(%{{.*}}, %{{.*}}) <{rotary_dim = 4 : i64, theta = 1.000000e+07 : f64}> : (tensor<2x5x2x8xf32>, tensor<2x5xi64>) -> tensor<2x5x2x8xf32>
// GENERIC: "mm01.softmax_attention"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{scale = 0.35355339059327379 : f64}> : (tensor<2x5x2x8xf32>, tensor<2x5x1x8xf32>, tensor<2x5x1x8xf32>, tensor<2x64x1x8xf32>, tensor<2x64x1x8xf32>, tensor<2x5xi64>) -> (tensor<2x5x2x8xf32>, tensor<2x64x1x8xf32>, tensor<2x64x1x8xf32>)
// GENERIC: "mm01.moe_route"(%{{.*}}) <{top_k = 2 : i64}> : (tensor<2x5x4xf32>) -> (tensor<2x5x2xf32>, tensor<2x5x2xi64>)
// GENERIC: "mm01.moe_experts"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (tensor<2x5x16xf32>, tensor<2x5x2xf32>, tensor<2x5x2xi64>, tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16x8xbf16>) -> tensor<2x5x16xf32>
// GENERIC: "mm01.decoder_layer"(%{{.*}}, %{{.*}}) <{index = 0 : i64, kind = #mm01.attention_kind<lightning>}> ({
// GENERIC: "mm01.lightning_attention"({{.*}}) <{decay = array<f64: 0.062500625000000004, 0.0039062890625000003>}>
// GENERIC: "mm01.yield"(%{{.*}}, %{{.*}}) : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> ()
// GENERIC: }) : (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x2x8x8xf32>)
// GENERIC: "mm01.decoder_layer"(%{{.*}}, %{{.*}}) <{index = 1 : i64, kind = #mm01.attention_kind<lightning>}> ({
// GENERIC: "mm01.lightning_decode"({{.*}}) <{decay = array<f64: 0.053572066326512388, 0.0033482541454070243>}>
// GENERIC: "mm01.decoder_layer"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{index = 7 : i64, kind = #mm01.attention_kind<softmax>}> ({
// GENERIC: "mm01.yield"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) -> ()
// GENERIC: }) {mm01.note = "full attention"} : (tensor<?x?x16xf32>, tensor<?x?xi64>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>)
