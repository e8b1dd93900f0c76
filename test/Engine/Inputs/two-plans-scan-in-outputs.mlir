// The two-plans layer (Inputs/two-plans.mlir) with a split in both plans:
// two segments with the scan kernel, and a long-call plan (calls of one
// sequence from 128 tokens) of three segments with the scan in the outputs
// kernel (test/Engine/compile-when.test).
module attributes {mm01.config = {head_dim = 64 : i64, hidden_size = 128 : i64, intermediate_size = 64 : i64, layer_types = ["linear_attention"], num_attention_heads = 2 : i64, num_experts_per_tok = 2 : i64, num_hidden_layers = 1 : i64, num_key_value_heads = 2 : i64, num_local_experts = 8 : i64, rms_norm_eps = 1.0e-05 : f64, rope_theta = 1.0e+07 : f64, rotary_dim = 32 : i64, vocab_size = 512 : i64, linear_attn_alpha_factor = 2.0 : f64, linear_attn_beta_factor = 1.0 : f64, full_attn_alpha_factor = 2.0 : f64, full_attn_beta_factor = 1.0 : f64, mlp_alpha_factor = 2.0 : f64, mlp_beta_factor = 1.0 : f64}} {
  func.func @prefill(%p: tensor<1x256x384xbf16> {mm01.name = "qkv"}, %s: tensor<1x2x64x64xf32> {mm01.name = "layer0.lightning_state"})
      -> (tensor<1x256x2x64xbf16> {mm01.name = "out"}, tensor<1x2x64x64xf32> {mm01.name = "layer0.lightning_state"}) attributes {mm01.entry = "prefill"} {
    %o:2 = mm01.fusion <silu_lightning> attributes {mm01k.tiles = {chunk = 64, early_first_segment = 0, local_states_drop_log2 = 64, local_states_outputs_drop_log2 = 32, local_states_parts = 2, local_states_split_chunks = 16, long_call_early_first_segment = 0, long_call_local_states_parts = 2, long_call_scan_in_outputs = 1, long_call_segment_lead_tokens = 0, long_call_segments = 3, long_call_tokens = 128, long_call_value_slices = 1, min_segment_tokens = 64, one_wave_segment_tokens = 2048, scan_in_outputs = 0, segment_lead_tokens = 0, segments = 2, shortest_segment_tokens = 64, stages = 0, state_hilo = 1, state_hilo_tail_log2 = 0, state_stages = 0, value_slices = 1, warps = 8, wgmma = 1}} : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32> {
      %a = mm01.silu %p : tensor<1x256x384xbf16>
      %q, %k, %v = mm01.split_qkv %a : tensor<1x256x384xbf16> -> tensor<1x256x2x64xbf16>
      %r, %s1 = mm01.lightning_attention %q, %k, %v, %s decay([0.5, 0.25]) : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
      mm01.yield %r, %s1 : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
    }
    return %o#0, %o#1 : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
  }
}
