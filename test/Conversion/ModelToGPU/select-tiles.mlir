// mm01-select-tiles: each tunable kernel's configuration as `mm01k.tiles`,
// chosen per entry and target; hand-written configurations are kept and
// honoured by mm01-model-to-kernels, bad ones refused.
//
// The minimax-tiny fixture at 2 × 600 tokens: no sequence split (600 tokens
// are under one 1024-token segment); decode gets the decode kernels' tiles,
// the per-token attention kernel and 16-row MoE tiles.
// RUN: mm01-compile %fixtures/minimax-tiny --batch=2 --seq=600 --cache=1024 --dtype=bf16 --emit=mlir -o %t.tiny.mlir
// RUN: mm01-opt %t.tiny.mlir --mm01-inline-layers --mm01-fuse --mm01-select-tiles | FileCheck %s --check-prefix=TINY
// RUN: not mm01-opt %t.tiny.mlir --mm01-inline-layers --mm01-fuse --mm01-model-to-kernels 2>&1 | FileCheck %s --check-prefix=NOTILES
// One 8192-token sequence: 8 segments for 132 SMs (capped by 8192 / 1024),
// 4 for an 8-SM GPU (2 waves of 4 heads).
// RUN: mm01-compile %fixtures/minimax-tiny --batch=1 --seq=8192 --cache=8192 --dtype=bf16 --emit=mlir --entry=prefill -o %t.long.mlir
// RUN: mm01-opt %t.long.mlir --mm01-inline-layers --mm01-fuse --mm01-select-tiles | FileCheck %s --check-prefix=LONG
// RUN: mm01-opt %t.long.mlir --mm01-inline-layers --mm01-fuse --mm01-select-tiles=sm-count=8 | FileCheck %s --check-prefix=SMALL
// From 16384 tokens a split entry also gets a long-call plan for calls of
// one sequence: the same segments with the scan in the outputs kernel.
// RUN: mm01-compile %fixtures/minimax-tiny --batch=1 --seq=16384 --cache=16384 --dtype=bf16 --emit=mlir --entry=prefill -o %t.longer.mlir
// RUN: mm01-opt %t.longer.mlir --mm01-inline-layers --mm01-fuse --mm01-select-tiles | FileCheck %s --check-prefix=LONGSCAN
// The hand-written module below.
// RUN: mm01-opt %s --split-input-file --mm01-fuse --mm01-select-tiles | FileCheck %s --check-prefix=KEEP
// RUN: mm01-opt %s --split-input-file --verify-diagnostics --mm01-fuse --mm01-select-tiles --mm01-model-to-kernels | FileCheck %s --check-prefix=HONOUR
// RUN: not mm01-opt %s --split-input-file --mm01-select-tiles=sm-count=0 2>&1 | FileCheck %s --check-prefix=SMCOUNT
// lightning-state-update=bf16: the state update's operand rounded to bf16
// once (state_hilo = 0, the `_bf16state` kernels); =hilo: bf16 hi + lo
// throughout (state_hilo_tail_log2 = 0; the default, hilo-tail, is hi + lo
// only over the returned state's 2^-12 window: 12, `_hilotail12` kernels);
// anything else is refused.
// RUN: mm01-opt %t.long.mlir --mm01-inline-layers --mm01-fuse --mm01-select-tiles=lightning-state-update=bf16 | FileCheck %s --check-prefix=BF16STATE
// RUN: mm01-opt %t.long.mlir --mm01-gpu-schedule=lightning-state-update=bf16 | FileCheck %s --check-prefix=BF16KERNEL
// RUN: mm01-opt %t.long.mlir --mm01-inline-layers --mm01-fuse --mm01-select-tiles=lightning-state-update=hilo | FileCheck %s --check-prefix=HILOSTATE
// RUN: mm01-opt %t.long.mlir --mm01-gpu-schedule | FileCheck %s --check-prefix=TAILKERNEL
// RUN: not mm01-opt %t.long.mlir --mm01-select-tiles=lightning-state-update=fp8 2>&1 | FileCheck %s --check-prefix=BADSTATE
// Value slices only where 2 x heads fill >= 7/8 of the SMs in one wave:
// 128 blocks are 80% of 160 SMs, too few.
// RUN: mm01-opt %s --split-input-file --mm01-fuse --mm01-select-tiles=sm-count=160 | FileCheck %s --check-prefix=WIDE

// BF16STATE: mm01.fusion <silu_lightning> attributes {mm01k.tiles = {{{.*}}stages = 4 : i64, state_hilo = 0 : i64, state_hilo_tail_log2 = 0 : i64, state_stages
// BF16KERNEL: mm01k.launch @mm01_kernels::@lightning_prefill_h4_d64_bf16_c64_s8_silu_bf16state_wg_out
// BF16KERNEL-NOT: _c64_s8_silu_wg_out
// HILOSTATE: mm01.fusion <silu_lightning> attributes {mm01k.tiles = {{{.*}}stages = 4 : i64, state_hilo = 1 : i64, state_hilo_tail_log2 = 0 : i64, state_stages
// TAILKERNEL: mm01k.launch @mm01_kernels::@lightning_prefill_h4_d64_bf16_c64_s8_silu_hilotail12_wg_out
// BADSTATE: mm01-select-tiles: lightning-state-update must be 'hilo-tail', 'hilo' or 'bf16', got 'fp8'

// TINY-LABEL: func.func @prefill
// TINY: mm01.rms_norm {{.*}} {mm01k.tiles = {threads = 128 : i64}}
// TINY: mm01.fusion <silu_lightning> attributes {mm01k.tiles = {chunk = 64 : i64, early_first_segment = 0 : i64, local_states_drop_log2 = 64 : i64, local_states_outputs_drop_log2 = 32 : i64, local_states_parts = 2 : i64, local_states_split_chunks = 16 : i64, long_call_early_first_segment = 0 : i64, long_call_local_states_parts = 8 : i64, long_call_scan_in_outputs = 0 : i64, long_call_segment_lead_tokens = 0 : i64, long_call_segments = 2 : i64, long_call_tokens = 0 : i64, long_call_value_slices = 1 : i64, min_segment_tokens = 1024 : i64, one_wave_segment_tokens = 2048 : i64, scan_in_outputs = 0 : i64, segment_lead_tokens = 0 : i64, segments = 1 : i64, shortest_segment_tokens = 512 : i64, stages = 4 : i64, state_hilo = 1 : i64, state_hilo_tail_log2 = 12 : i64, state_stages = 2 : i64, value_slices = 1 : i64, warps = 8 : i64, wgmma = 1 : i64}}
// TINY: mm01.fusion <gated_rms_norm> attributes {mm01k.tiles = {threads = 128 : i64}}
// TINY: mm01.fusion <deepnorm_rms_norm> attributes {mm01k.tiles = {threads = 128 : i64}}
// TINY: mm01.moe_experts {{.*}}down_tile_m = 128 : i64{{.*}}gate_up_tile_m = 128 : i64{{.*}}tensor_cores = 1 : i64}
// TINY: mm01.fusion <rope_attention> attributes {mm01k.tiles = {key_tile = 64 : i64, query_tile = 64 : i64, tile_stages = {{[0-9]+}} : i64, tile_warps = 4 : i64, warps = 0 : i64}}
// TINY-LABEL: func.func @decode
// TINY: mm01.fusion <silu_lightning> attributes {mm01k.tiles = {cols = 16 : i64, small_batch_max = 0 : i64, small_cols = 16 : i64, small_threads = 256 : i64, threads = 256 : i64}}
// TINY: mm01.moe_experts {{.*}}down_tile_m = 16 : i64{{.*}}gate_up_tile_m = 16 : i64
// TINY: mm01.fusion <rope_attention> attributes {mm01k.tiles = {key_tile = 0 : i64, query_tile = 0 : i64, tile_stages = 0 : i64, tile_warps = 0 : i64, warps = 8 : i64}}

// LONGSCAN: mm01.fusion <silu_lightning> attributes {mm01k.tiles = {{{.*}} local_states_parts = 2 : i64, {{.*}} long_call_early_first_segment = 0 : i64, long_call_local_states_parts = 2 : i64, long_call_scan_in_outputs = 1 : i64, long_call_segment_lead_tokens = 512 : i64, long_call_segments = [[NS:[0-9]+]] : i64, long_call_tokens = 16384 : i64, long_call_value_slices = 1 : i64, {{.*}} scan_in_outputs = 0 : i64, segment_lead_tokens = 512 : i64, segments = [[NS]] : i64,
// LONG: mm01.fusion <silu_lightning> attributes {mm01k.tiles = {chunk = 64 : i64, early_first_segment = 0 : i64, local_states_drop_log2 = 64 : i64, local_states_outputs_drop_log2 = 32 : i64, local_states_parts = 2 : i64, local_states_split_chunks = 16 : i64, long_call_early_first_segment = 0 : i64, long_call_local_states_parts = 8 : i64, long_call_scan_in_outputs = 0 : i64, long_call_segment_lead_tokens = 0 : i64, long_call_segments = 2 : i64, long_call_tokens = 0 : i64, long_call_value_slices = 1 : i64, min_segment_tokens = 1024 : i64, one_wave_segment_tokens = 2048 : i64, scan_in_outputs = 0 : i64, segment_lead_tokens = 512 : i64, segments = 8 : i64, shortest_segment_tokens = 512 : i64, stages = 4 : i64, state_hilo = 1 : i64, state_hilo_tail_log2 = 12 : i64, state_stages = 2 : i64, value_slices = 1 : i64, warps = 8 : i64, wgmma = 1 : i64}}
// SMALL: mm01.fusion <silu_lightning> attributes {mm01k.tiles = {chunk = 64 : i64, early_first_segment = 0 : i64, local_states_drop_log2 = 64 : i64, local_states_outputs_drop_log2 = 32 : i64, local_states_parts = 2 : i64, local_states_split_chunks = 16 : i64, long_call_early_first_segment = 0 : i64, long_call_local_states_parts = 8 : i64, long_call_scan_in_outputs = 0 : i64, long_call_segment_lead_tokens = 0 : i64, long_call_segments = 2 : i64, long_call_tokens = 0 : i64, long_call_value_slices = 1 : i64, min_segment_tokens = 1024 : i64, one_wave_segment_tokens = 2048 : i64, scan_in_outputs = 0 : i64, segment_lead_tokens = 512 : i64, segments = 4 : i64, shortest_segment_tokens = 512 : i64, stages = 4 : i64, state_hilo = 1 : i64, state_hilo_tail_log2 = 12 : i64, state_stages = 2 : i64, value_slices = 1 : i64, warps = 8 : i64, wgmma = 1 : i64}}

// SMCOUNT: mm01-select-tiles: sm-count must be positive
// NOTILES: 'mm01.rms_norm' op GPU target: no tile configuration ('mm01k.tiles' dictionary) for the rms_norm kernel; run mm01-select-tiles first

// A configuration present before the pass is kept, and the generators
// follow it: a 256-thread norm block, lightning with 2 segments (local
// states, scan, outputs) where the default would not split.
// KEEP-LABEL: func.func @prefill
// KEEP: mm01.rms_norm {{.*}} {mm01k.tiles = {threads = 256 : i64}}
// KEEP: mm01.fusion <silu_lightning> attributes {mm01k.tiles = {chunk = 64 : i64, early_first_segment = 0 : i64, local_states_drop_log2 = 64 : i64, local_states_outputs_drop_log2 = 32 : i64, local_states_parts = 2 : i64, local_states_split_chunks = 16 : i64, long_call_early_first_segment = 0 : i64, long_call_local_states_parts = 8 : i64, long_call_scan_in_outputs = 0 : i64, long_call_segment_lead_tokens = 0 : i64, long_call_segments = 2 : i64, long_call_tokens = 0 : i64, long_call_value_slices = 1 : i64, min_segment_tokens = 64 : i64, one_wave_segment_tokens = 2048 : i64, scan_in_outputs = 0 : i64, segment_lead_tokens = 0 : i64, segments = 2 : i64, shortest_segment_tokens = 64 : i64, stages = 2 : i64, state_hilo = 1 : i64, state_hilo_tail_log2 = 0 : i64, state_stages = 3 : i64, value_slices = 1 : i64, warps = 8 : i64, wgmma = 0 : i64}}
// HONOUR-LABEL: func.func @prefill
// HONOUR: mm01k.launch @mm01_kernels::@rms_norm_d128_bf16 grid ["tokens", "1", "1"] block [256, 1, 1]
// The hand-written pipelines: 3 stages of {K, V} (3 x 18432 bytes) for the
// local states, 2 of {Q, K, V} beside P and Sb (2 x 27648 + 18432) for the
// outputs.
// HONOUR: mm01k.launch @mm01_kernels::@lightning_prefill_h2_d64_bf16_c64_s2_silu_states{{.*}}dynamic_smem = 55296
// HONOUR: mm01k.launch @mm01_kernels::@lightning_prefill_h2_d64_bf16_c64_s2_silu_scan
// HONOUR: mm01k.launch @mm01_kernels::@lightning_prefill_h2_d64_bf16_c64_s2_silu_out{{.*}}dynamic_smem = 73728
module {
  func.func @prefill(%x: tensor<1x256x128xbf16>, %s: tensor<1x2x64x64xf32> {mm01.name = "layer0.lightning_state"})
      -> (tensor<1x256x128xbf16> {mm01.name = "out"}, tensor<1x2x64x64xf32> {mm01.name = "state"}) attributes {mm01.entry = "prefill"} {
    %w = mm01.weight "norm" : tensor<128xbf16>
    %n = mm01.rms_norm %x, %w eps(1.0e-5) {mm01k.tiles = {threads = 256}} : tensor<1x256x128xbf16>, tensor<128xbf16>
    %wq = mm01.weight "qkv" : tensor<384x128xbf16>
    %p = mm01.linear %n, %wq : tensor<1x256x128xbf16>, tensor<384x128xbf16> -> tensor<1x256x384xbf16>
    %o:2 = mm01.fusion <silu_lightning> attributes {mm01k.tiles = {chunk = 64, early_first_segment = 0, local_states_drop_log2 = 64, local_states_outputs_drop_log2 = 32, local_states_parts = 2, local_states_split_chunks = 16, long_call_early_first_segment = 0, long_call_local_states_parts = 8, long_call_scan_in_outputs = 0, long_call_segment_lead_tokens = 0, long_call_segments = 2, long_call_tokens = 0, long_call_value_slices = 1, min_segment_tokens = 64, one_wave_segment_tokens = 2048, scan_in_outputs = 0, segment_lead_tokens = 0, segments = 2, shortest_segment_tokens = 64, stages = 2, state_hilo = 1, state_hilo_tail_log2 = 0, state_stages = 3, value_slices = 1, warps = 8, wgmma = 0}} : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32> {
      %a = mm01.silu %p : tensor<1x256x384xbf16>
      %q, %k, %v = mm01.split_qkv %a : tensor<1x256x384xbf16> -> tensor<1x256x2x64xbf16>
      %r, %s1 = mm01.lightning_attention %q, %k, %v, %s decay([0.5, 0.25]) : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
      mm01.yield %r, %s1 : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
    }
    %m = mm01.merge_heads %o#0 : tensor<1x256x2x64xbf16> -> tensor<1x256x128xbf16>
    return %m, %o#1 : tensor<1x256x128xbf16>, tensor<1x2x64x64xf32>
  }
}

// -----

// Refusals: a missing key, an unknown key, a non-integer, a bad split, and
// a configuration the generator rejects.
module {
  func.func @prefill(%x: tensor<1x256x128xbf16>, %s: tensor<1x2x64x64xf32> {mm01.name = "layer0.lightning_state"})
      -> (tensor<1x256x128xbf16> {mm01.name = "out"}) attributes {mm01.entry = "prefill"} {
    %w = mm01.weight "norm" : tensor<128xbf16>
    // expected-error @below {{GPU target: mm01k.tiles of the rms_norm kernel: 'threads' is missing}}
    %n = mm01.rms_norm %x, %w eps(1.0e-5) {mm01k.tiles = {}} : tensor<1x256x128xbf16>, tensor<128xbf16>
    return %n : tensor<1x256x128xbf16>
  }
}

// -----

module {
  func.func @prefill(%x: tensor<1x256x128xbf16>) -> (tensor<1x256x128xbf16> {mm01.name = "out"}) attributes {mm01.entry = "prefill"} {
    %w = mm01.weight "norm" : tensor<128xbf16>
    // expected-error @below {{GPU target: mm01k.tiles of the rms_norm kernel: unknown key 'warps'}}
    %n = mm01.rms_norm %x, %w eps(1.0e-5) {mm01k.tiles = {threads = 128, warps = 4}} : tensor<1x256x128xbf16>, tensor<128xbf16>
    return %n : tensor<1x256x128xbf16>
  }
}

// -----

module {
  func.func @prefill(%x: tensor<1x256x128xbf16>) -> (tensor<1x256x128xbf16> {mm01.name = "out"}) attributes {mm01.entry = "prefill"} {
    %w = mm01.weight "norm" : tensor<128xbf16>
    // expected-error @below {{GPU target: mm01k.tiles of the rms_norm kernel: 'threads' is not an integer}}
    %n = mm01.rms_norm %x, %w eps(1.0e-5) {mm01k.tiles = {threads = "many"}} : tensor<1x256x128xbf16>, tensor<128xbf16>
    return %n : tensor<1x256x128xbf16>
  }
}

// -----

module {
  func.func @prefill(%x: tensor<1x256x128xbf16>) -> (tensor<1x256x128xbf16> {mm01.name = "out"}) attributes {mm01.entry = "prefill"} {
    %w = mm01.weight "norm" : tensor<128xbf16>
    // expected-error @below {{threads 100}}
    %n = mm01.rms_norm %x, %w eps(1.0e-5) {mm01k.tiles = {threads = 100}} : tensor<1x256x128xbf16>, tensor<128xbf16>
    return %n : tensor<1x256x128xbf16>
  }
}

// -----

module {
  func.func @prefill(%p: tensor<1x256x384xbf16>, %s: tensor<1x2x64x64xf32> {mm01.name = "layer0.lightning_state"})
      -> (tensor<1x256x2x64xbf16> {mm01.name = "out"}) attributes {mm01.entry = "prefill"} {
    // expected-error @below {{GPU target: mm01k.tiles of the lightning_prefill kernel: 'segments' must be at least 1}}
    %o:2 = mm01.fusion <silu_lightning> attributes {mm01k.tiles = {chunk = 64, early_first_segment = 0, local_states_drop_log2 = 64, local_states_outputs_drop_log2 = 32, local_states_parts = 2, local_states_split_chunks = 16, long_call_early_first_segment = 0, long_call_local_states_parts = 8, long_call_scan_in_outputs = 0, long_call_segment_lead_tokens = 0, long_call_segments = 2, long_call_tokens = 0, long_call_value_slices = 1, min_segment_tokens = 1024, one_wave_segment_tokens = 2048, scan_in_outputs = 0, segment_lead_tokens = 0, segments = 0, shortest_segment_tokens = 512, stages = 0, state_hilo = 1, state_hilo_tail_log2 = 0, state_stages = 0, value_slices = 1, warps = 8, wgmma = 1}} : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32> {
      %a = mm01.silu %p : tensor<1x256x384xbf16>
      %q, %k, %v = mm01.split_qkv %a : tensor<1x256x384xbf16> -> tensor<1x256x2x64xbf16>
      %r, %s1 = mm01.lightning_attention %q, %k, %v, %s decay([0.5, 0.25]) : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
      mm01.yield %r, %s1 : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
    }
    return %o#0 : tensor<1x256x2x64xbf16>
  }
}

// -----

module {
  func.func @prefill(%x: tensor<1x16x64xbf16>, %l: tensor<1x16x4xf32>) -> (tensor<1x16x64xbf16> {mm01.name = "out"}) attributes {mm01.entry = "prefill"} {
    %w, %e = mm01.moe_route %l top_k(2) : tensor<1x16x4xf32> -> tensor<1x16x2xf32>, tensor<1x16x2xi64>
    %w1 = mm01.expert_weights "e.{e}.w1" : tensor<4x32x64xbf16>
    %w3 = mm01.expert_weights "e.{e}.w3" : tensor<4x32x64xbf16>
    %w2 = mm01.expert_weights "e.{e}.w2" : tensor<4x64x32xbf16>
    // expected-error @below {{GPU target: mm01k.tiles of the moe_experts kernel: 'tensor_cores' must be 0 or 1}}
    %y = mm01.moe_experts %x, %w, %e experts(%w1, %w3, %w2) {mm01k.tiles = {tensor_cores = 2}}
        : tensor<1x16x64xbf16>, tensor<1x16x2xf32>, tensor<1x16x2xi64>, tensor<4x32x64xbf16>, tensor<4x32x64xbf16>, tensor<4x64x32xbf16>
    return %y : tensor<1x16x64xbf16>
  }
}

// -----

// Value slices narrower than 64 columns are refused by the generator.
module {
  func.func @prefill(%p: tensor<1x256x384xbf16>, %s: tensor<1x2x64x64xf32> {mm01.name = "layer0.lightning_state"})
      -> (tensor<1x256x2x64xbf16> {mm01.name = "out"}) attributes {mm01.entry = "prefill"} {
    %o:2 = mm01.fusion <silu_lightning> attributes {mm01k.tiles = {chunk = 64, early_first_segment = 0, local_states_drop_log2 = 64, local_states_outputs_drop_log2 = 32, local_states_parts = 2, local_states_split_chunks = 16, long_call_early_first_segment = 0, long_call_local_states_parts = 8, long_call_scan_in_outputs = 0, long_call_segment_lead_tokens = 0, long_call_segments = 2, long_call_tokens = 0, long_call_value_slices = 1, min_segment_tokens = 1024, one_wave_segment_tokens = 2048, scan_in_outputs = 0, segment_lead_tokens = 0, segments = 1, shortest_segment_tokens = 512, stages = 0, state_hilo = 1, state_hilo_tail_log2 = 0, state_stages = 0, value_slices = 2, warps = 8, wgmma = 1}} : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32> {
      %a = mm01.silu %p : tensor<1x256x384xbf16>
      %q, %k, %v = mm01.split_qkv %a : tensor<1x256x384xbf16> -> tensor<1x256x2x64xbf16>
      // expected-error @below {{valueSlices = 2 is not supported: 1, or a split of the value dimension into slices of at least 64 columns with the wgmma kernels (D = 64)}}
      %r, %s1 = mm01.lightning_attention %q, %k, %v, %s decay([0.5, 0.25]) : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
      mm01.yield %r, %s1 : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
    }
    return %o#0 : tensor<1x256x2x64xbf16>
  }
}

// -----

// Bad state-tail and halves keys are refused by the generator.
module {
  func.func @prefill(%p: tensor<1x256x384xbf16>, %s: tensor<1x2x64x64xf32> {mm01.name = "layer0.lightning_state"})
      -> (tensor<1x256x2x64xbf16> {mm01.name = "out"}) attributes {mm01.entry = "prefill"} {
    %o:2 = mm01.fusion <silu_lightning> attributes {mm01k.tiles = {chunk = 64, early_first_segment = 0, local_states_drop_log2 = 64, local_states_outputs_drop_log2 = 32, local_states_parts = 2, local_states_split_chunks = 1, long_call_early_first_segment = 0, long_call_local_states_parts = 8, long_call_scan_in_outputs = 0, long_call_segment_lead_tokens = 0, long_call_segments = 2, long_call_tokens = 0, long_call_value_slices = 1, min_segment_tokens = 64, one_wave_segment_tokens = 2048, scan_in_outputs = 0, segment_lead_tokens = 0, segments = 2, shortest_segment_tokens = 64, stages = 0, state_hilo = 1, state_hilo_tail_log2 = 0, state_stages = 0, value_slices = 1, warps = 8, wgmma = 1}} : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32> {
      %a = mm01.silu %p : tensor<1x256x384xbf16>
      %q, %k, %v = mm01.split_qkv %a : tensor<1x256x384xbf16> -> tensor<1x256x2x64xbf16>
      // expected-error @below {{localStatesSplitChunks = 1 must be 0 (one local-states block per segment) or at least 2}}
      %r, %s1 = mm01.lightning_attention %q, %k, %v, %s decay([0.5, 0.25]) : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
      mm01.yield %r, %s1 : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
    }
    return %o#0 : tensor<1x256x2x64xbf16>
  }
}

// -----

module {
  func.func @prefill(%p: tensor<1x256x384xbf16>, %s: tensor<1x2x64x64xf32> {mm01.name = "layer0.lightning_state"})
      -> (tensor<1x256x2x64xbf16> {mm01.name = "out"}) attributes {mm01.entry = "prefill"} {
    %o:2 = mm01.fusion <silu_lightning> attributes {mm01k.tiles = {chunk = 64, early_first_segment = 0, local_states_drop_log2 = -3, local_states_outputs_drop_log2 = 32, local_states_parts = 2, local_states_split_chunks = 16, long_call_early_first_segment = 0, long_call_local_states_parts = 8, long_call_scan_in_outputs = 0, long_call_segment_lead_tokens = 0, long_call_segments = 2, long_call_tokens = 0, long_call_value_slices = 1, min_segment_tokens = 64, one_wave_segment_tokens = 2048, scan_in_outputs = 0, segment_lead_tokens = 0, segments = 2, shortest_segment_tokens = 64, stages = 0, state_hilo = 1, state_hilo_tail_log2 = 0, state_stages = 0, value_slices = 1, warps = 8, wgmma = 1}} : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32> {
      %a = mm01.silu %p : tensor<1x256x384xbf16>
      %q, %k, %v = mm01.split_qkv %a : tensor<1x256x384xbf16> -> tensor<1x256x2x64xbf16>
      // expected-error @below {{localStatesDropLog2 = -3 must be >= 0 (0: local states from every token)}}
      %r, %s1 = mm01.lightning_attention %q, %k, %v, %s decay([0.5, 0.25]) : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
      mm01.yield %r, %s1 : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
    }
    return %o#0 : tensor<1x256x2x64xbf16>
  }
}

// -----

// 64 heads of 128 at batch 1: two value slices fill 128 SMs without a
// sequence split (no local-states pass, no scan).
// KEEP-LABEL: func.func @prefill_h64
// KEEP: mm01.fusion <silu_lightning> attributes {mm01k.tiles = {chunk = 64 : i64, early_first_segment = 0 : i64, local_states_drop_log2 = 64 : i64, local_states_outputs_drop_log2 = 32 : i64, local_states_parts = 2 : i64, local_states_split_chunks = 16 : i64, long_call_early_first_segment = 0 : i64, long_call_local_states_parts = 8 : i64, long_call_scan_in_outputs = 0 : i64, long_call_segment_lead_tokens = 0 : i64, long_call_segments = 2 : i64, long_call_tokens = 0 : i64, long_call_value_slices = 1 : i64, min_segment_tokens = 1024 : i64, one_wave_segment_tokens = 2048 : i64, scan_in_outputs = 0 : i64, segment_lead_tokens = 0 : i64, segments = 1 : i64, shortest_segment_tokens = 512 : i64, stages = 4 : i64, state_hilo = 1 : i64, state_hilo_tail_log2 = 12 : i64, state_stages = 4 : i64, value_slices = 2 : i64, warps = 8 : i64, wgmma = 1 : i64}}
// WIDE-LABEL: func.func @prefill_h64
// WIDE: mm01.fusion <silu_lightning> attributes {mm01k.tiles = {{{.*}}segments = 1 : i64{{.*}}value_slices = 1 : i64
// HONOUR-LABEL: func.func @prefill_h64
// HONOUR-NOT: _states
// HONOUR: mm01k.launch @mm01_kernels::@lightning_prefill_h64_d128_bf16_c64_s1_silu_hilotail12_wg_v2_out grid ["2", "64", "batch"] block [256, 1, 1]{{.*}}dynamic_smem = 181248
module {
  func.func @prefill_h64(%p: tensor<1x256x24576xbf16>, %s: tensor<1x64x128x128xf32> {mm01.name = "layer0.lightning_state"})
      -> (tensor<1x256x64x128xbf16> {mm01.name = "out"}, tensor<1x64x128x128xf32> {mm01.name = "state"}) attributes {mm01.entry = "prefill"} {
    %a = mm01.silu %p : tensor<1x256x24576xbf16>
    %q, %k, %v = mm01.split_qkv %a : tensor<1x256x24576xbf16> -> tensor<1x256x64x128xbf16>
    %r, %s1 = mm01.lightning_attention %q, %k, %v, %s decay([0.9170040432046712, 0.8408964152537145, 0.7711054127039704, 0.7071067811865476, 0.6484197773255048, 0.5946035575013605, 0.5452538663326288, 0.5, 0.4585020216023356, 0.42044820762685725, 0.3855527063519852, 0.3535533905932738, 0.3242098886627524, 0.29730177875068026, 0.2726269331663144, 0.25, 0.2292510108011678, 0.21022410381342863, 0.1927763531759926, 0.1767766952966369, 0.1621049443313762, 0.14865088937534013, 0.1363134665831572, 0.125, 0.1146255054005839, 0.10511205190671431, 0.0963881765879963, 0.08838834764831845, 0.0810524721656881, 0.07432544468767006, 0.0681567332915786, 0.0625, 0.05731275270029195, 0.052556025953357156, 0.04819408829399815, 0.04419417382415922, 0.04052623608284405, 0.03716272234383503, 0.0340783666457893, 0.03125, 0.028656376350145975, 0.026278012976678578, 0.024097044146999074, 0.02209708691207961, 0.020263118041422026, 0.018581361171917516, 0.01703918332289465, 0.015625, 0.014328188175072988, 0.013139006488339289, 0.012048522073499537, 0.011048543456039806, 0.010131559020711013, 0.009290680585958758, 0.008519591661447326, 0.0078125, 0.007164094087536494, 0.0065695032441696445, 0.0060242610367497685, 0.005524271728019903, 0.005065779510355506, 0.004645340292979379, 0.004259795830723663, 0.00390625]) : tensor<1x256x64x128xbf16>, tensor<1x64x128x128xf32>
    return %r, %s1 : tensor<1x256x64x128xbf16>, tensor<1x64x128x128xf32>
  }
}

// -----

// The same 64 heads at up to 32768 tokens: the value slices, and a
// long-call plan (two segments, the first one's local state in 8 parts, the
// first segment 2048 tokens longer and started beside the local states: no
// scan kernel) that calls of one sequence from 16384 tokens run instead; every launch
// carries its plan's condition, so exactly one plan runs per call.
// KEEP-LABEL: func.func @prefill_h64_long
// KEEP: long_call_early_first_segment = 1 : i64, long_call_local_states_parts = 8 : i64, long_call_scan_in_outputs = 0 : i64, long_call_segment_lead_tokens = 2048 : i64, long_call_segments = 2 : i64, long_call_tokens = 16384 : i64, long_call_value_slices = 1 : i64{{.*}}segments = 1 : i64{{.*}}value_slices = 2 : i64
// HONOUR-LABEL: func.func @prefill_h64_long
// HONOUR: mm01k.launch @mm01_kernels::@lightning_prefill_h64_d128_bf16_c64_s1_silu_hilotail12_wg_v2_out grid ["2", "64", "batch"]{{.*}}when = "1 - min(lt(batch, 2), ge(tokens, 16384))"
// HONOUR: mm01k.launch @mm01_kernels::@lightning_prefill_h64_d128_bf16_c64_s2_silu_hilotail12_wg_states grid ["8", "64", "batch"]{{.*}}when = "min(lt(batch, 2), ge(tokens, 16384))"
// HONOUR-NOT: _scan
// HONOUR: mm01k.launch @mm01_kernels::@lightning_prefill_h64_d128_bf16_c64_s2_silu_hilotail12_wg_out grid ["2", "64", "batch"]{{.*}}overlap_previous{{.*}}when = "min(lt(batch, 2), ge(tokens, 16384))"
module {
  func.func @prefill_h64_long(%p: tensor<1x32768x24576xbf16>, %s: tensor<1x64x128x128xf32> {mm01.name = "layer0.lightning_state"})
      -> (tensor<1x32768x64x128xbf16> {mm01.name = "out"}, tensor<1x64x128x128xf32> {mm01.name = "state"}) attributes {mm01.entry = "prefill"} {
    %a = mm01.silu %p : tensor<1x32768x24576xbf16>
    %q, %k, %v = mm01.split_qkv %a : tensor<1x32768x24576xbf16> -> tensor<1x32768x64x128xbf16>
    %r, %s1 = mm01.lightning_attention %q, %k, %v, %s decay([0.9170040432046712, 0.8408964152537145, 0.7711054127039704, 0.7071067811865476, 0.6484197773255048, 0.5946035575013605, 0.5452538663326288, 0.5, 0.4585020216023356, 0.42044820762685725, 0.3855527063519852, 0.3535533905932738, 0.3242098886627524, 0.29730177875068026, 0.2726269331663144, 0.25, 0.2292510108011678, 0.21022410381342863, 0.1927763531759926, 0.1767766952966369, 0.1621049443313762, 0.14865088937534013, 0.1363134665831572, 0.125, 0.1146255054005839, 0.10511205190671431, 0.0963881765879963, 0.08838834764831845, 0.0810524721656881, 0.07432544468767006, 0.0681567332915786, 0.0625, 0.05731275270029195, 0.052556025953357156, 0.04819408829399815, 0.04419417382415922, 0.04052623608284405, 0.03716272234383503, 0.0340783666457893, 0.03125, 0.028656376350145975, 0.026278012976678578, 0.024097044146999074, 0.02209708691207961, 0.020263118041422026, 0.018581361171917516, 0.01703918332289465, 0.015625, 0.014328188175072988, 0.013139006488339289, 0.012048522073499537, 0.011048543456039806, 0.010131559020711013, 0.009290680585958758, 0.008519591661447326, 0.0078125, 0.007164094087536494, 0.0065695032441696445, 0.0060242610367497685, 0.005524271728019903, 0.005065779510355506, 0.004645340292979379, 0.004259795830723663, 0.00390625]) : tensor<1x32768x64x128xbf16>, tensor<1x64x128x128xf32>
    return %r, %s1 : tensor<1x32768x64x128xbf16>, tensor<1x64x128x128xf32>
  }
}

// -----

// A long-call plan needs an explicit split.
module {
  func.func @prefill(%p: tensor<1x256x384xbf16>, %s: tensor<1x2x64x64xf32> {mm01.name = "layer0.lightning_state"})
      -> (tensor<1x256x2x64xbf16> {mm01.name = "out"}) attributes {mm01.entry = "prefill"} {
    %o:2 = mm01.fusion <silu_lightning> attributes {mm01k.tiles = {chunk = 64, early_first_segment = 0, local_states_drop_log2 = 64, local_states_outputs_drop_log2 = 32, local_states_parts = 2, local_states_split_chunks = 16, long_call_early_first_segment = 0, long_call_local_states_parts = 8, long_call_scan_in_outputs = 0, long_call_segment_lead_tokens = 0, long_call_segments = 0, long_call_tokens = 128, long_call_value_slices = 1, min_segment_tokens = 64, one_wave_segment_tokens = 2048, scan_in_outputs = 0, segment_lead_tokens = 0, segments = 2, shortest_segment_tokens = 64, stages = 0, state_hilo = 1, state_hilo_tail_log2 = 0, state_stages = 0, value_slices = 1, warps = 8, wgmma = 1}} : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32> {
      %a = mm01.silu %p : tensor<1x256x384xbf16>
      %q, %k, %v = mm01.split_qkv %a : tensor<1x256x384xbf16> -> tensor<1x256x2x64xbf16>
      // expected-error @below {{longCallSegments = 0 must be at least 1 (the long-call plan's split is explicit)}}
      %r, %s1 = mm01.lightning_attention %q, %k, %v, %s decay([0.5, 0.25]) : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
      mm01.yield %r, %s1 : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
    }
    return %o#0 : tensor<1x256x2x64xbf16>
  }
}

// -----

// Decode: a negative small-batch bound, and a small-batch tiling the
// generator rejects.
module {
  func.func @decode(%p: tensor<2x1x384xbf16>, %s: tensor<2x2x64x64xf32> {mm01.name = "layer0.lightning_state"})
      -> (tensor<2x1x2x64xbf16> {mm01.name = "out"}) attributes {mm01.entry = "decode"} {
    // expected-error @below {{GPU target: mm01k.tiles of the lightning_decode kernel: 'small_batch_max' = -1 must be >= 0 (0: no small-batch kernel)}}
    %o:2 = mm01.fusion <silu_lightning> attributes {mm01k.tiles = {cols = 64, small_batch_max = -1, small_cols = 16, small_threads = 256, threads = 512}} : tensor<2x1x2x64xbf16>, tensor<2x2x64x64xf32> {
      %a = mm01.silu %p : tensor<2x1x384xbf16>
      %q, %k, %v = mm01.split_qkv %a : tensor<2x1x384xbf16> -> tensor<2x1x2x64xbf16>
      %r, %s1 = mm01.lightning_decode %q, %k, %v, %s decay([0.5, 0.25]) : tensor<2x1x2x64xbf16>, tensor<2x2x64x64xf32>
      mm01.yield %r, %s1 : tensor<2x1x2x64xbf16>, tensor<2x2x64x64xf32>
    }
    return %o#0 : tensor<2x1x2x64xbf16>
  }
}

// -----

module {
  func.func @decode(%p: tensor<2x1x384xbf16>, %s: tensor<2x2x64x64xf32> {mm01.name = "layer0.lightning_state"})
      -> (tensor<2x1x2x64xbf16> {mm01.name = "out"}) attributes {mm01.entry = "decode"} {
    %o:2 = mm01.fusion <silu_lightning> attributes {mm01k.tiles = {cols = 64, small_batch_max = 1, small_cols = 3, small_threads = 256, threads = 512}} : tensor<2x1x2x64xbf16>, tensor<2x2x64x64xf32> {
      %a = mm01.silu %p : tensor<2x1x384xbf16>
      %q, %k, %v = mm01.split_qkv %a : tensor<2x1x384xbf16> -> tensor<2x1x2x64xbf16>
      // expected-error @below {{lightning decode kernel generator: block-columns = 3 must be a power of two in [4, 128]}}
      %r, %s1 = mm01.lightning_decode %q, %k, %v, %s decay([0.5, 0.25]) : tensor<2x1x2x64xbf16>, tensor<2x2x64x64xf32>
      mm01.yield %r, %s1 : tensor<2x1x2x64xbf16>, tensor<2x2x64x64xf32>
    }
    return %o#0 : tensor<2x1x2x64xbf16>
  }
}
