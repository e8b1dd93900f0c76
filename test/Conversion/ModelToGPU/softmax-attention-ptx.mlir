// MiniMax-01's softmax attention layer shape through the upstream GPU
// lowering (bare-pointer calling convention) to PTX (format=isa: no CUDA
// needed; sin/cos/exp are PTX approximations). The NOLIB run uses the
// engine's codegen pipeline (mm01-gpu-kernel-codegen) without CUDA_HOME and
// checks for spills; the kernels' max is arith.maxnumf, a libdevice call
// (__nv_fmaxf) that mm01-compile links by always passing the toolkit.
// RUN: mm01-opt %s --pass-pipeline="builtin.module(mm01-test-softmax-attention-kernels{heads=64 kv-heads=8 dim=128 rotary-dim=64 theta=10000000 max-batch=8 max-context=4096 max-tokens=4096},nvvm-attach-target{chip=sm_90a features=+ptx80 O=3},gpu.module(canonicalize,cse,convert-scf-to-cf,convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1},canonicalize,cse),reconcile-unrealized-casts,gpu-module-to-binary{format=isa})" | FileCheck %s
// RUN: mm01-opt %s --pass-pipeline="builtin.module(mm01-test-softmax-attention-kernels{heads=64 kv-heads=8 dim=128 rotary-dim=64 theta=10000000 max-batch=8 max-context=4096 max-tokens=4096})" | env -u CUDA_HOME mm01-opt --mm01-gpu-kernel-codegen="format=isa" | FileCheck %s --check-prefix=NOLIB
// The tensor-core prefill kernel of the same layer (prefill=1 tiles: 64
// query rows = 8 tokens x 8 heads, 64 keys, 4 warps, 2 stages).
// RUN: mm01-opt %s --pass-pipeline="builtin.module(mm01-test-softmax-attention-kernels{heads=64 kv-heads=8 dim=128 rotary-dim=64 theta=10000000 max-batch=8 max-context=4096 max-tokens=4096 prefill=1})" | env -u CUDA_HOME mm01-opt --mm01-gpu-kernel-codegen="format=isa" > %t.tc.mlir
// RUN: FileCheck %s --check-prefix=TC < %t.tc.mlir
// RUN: FileCheck %s --check-prefix=TCOPS < %t.tc.mlir
// RUN: FileCheck %s --check-prefix=TCNOLOCAL < %t.tc.mlir

// CHECK: gpu.binary @mm01_softmax_attention
// CHECK-SAME: .target sm_90a
// CHECK-SAME: .global .align 16 .b8 softmax_attention_inv_freq_r64_{{[0-9]+}}[128]
// Bare pointers: 6 parameters of 8 bytes per kernel (_param_5 is the last).
// CHECK-SAME: .visible .entry softmax_attention_cache_write_h64_kv8_d128_r64_bf16(
// CHECK-SAME: .param .u64 {{.*}}softmax_attention_cache_write_h64_kv8_d128_r64_bf16_param_5\0A)
// CHECK-SAME: .maxntid 128, 1, 1
// f64 range reduction, then the approximations
// CHECK-SAME: cvt.rn.f32.f64
// CHECK-SAME: cos.approx.f32
// CHECK-SAME: sin.approx.f32
// CHECK-SAME: cvt.rn.bf16.f32
// CHECK-SAME: .visible .entry softmax_attention_h64_kv8_d128_r64_bf16_w8(
// CHECK-SAME: .param .u64 {{.*}}softmax_attention_h64_kv8_d128_r64_bf16_w8_param_5\0A)
// CHECK-SAME: .maxntid 256, 1, 1
// 8 warps x 8 heads x 130 f32
// CHECK-SAME: .shared .align 4 .b8 __wg_softmax_attention_h64_kv8_d128_r64_bf16_w8_0[33280]
// q: 4 bf16 (8 bytes) per lane and head
// CHECK-SAME: ld.global.v4.b16
// the key-row loop: one 8-byte K and V load per lane, 8 heads x 5 shuffles
// CHECK-SAME: ld.global.v4.b16
// CHECK-SAME: ld.global.v4.b16
// CHECK-COUNT-40: shfl.sync.bfly.b32
// CHECK-SAME: ex2.approx.ftz.f32
// CHECK-SAME: bar.sync
// CHECK-SAME: div.rn.f32
// CHECK-SAME: st.global.b16
// No local memory (spills) anywhere.
// NOLIB: gpu.binary
// NOLIB-NOT: .local
// TC: gpu.binary
// TC-SAME: .visible .entry softmax_attention_h64_kv8_d128_r64_bf16_q64k64w4s2(
// Bare pointers and the i32 batch: 8 parameters.
// TC-SAME: .param .u32 {{.*}}softmax_attention_h64_kv8_d128_r64_bf16_q64k64w4s2_param_7\0A)
// TC-SAME: .maxntid 128, 1, 1
// q rows, then K and V tiles: 16-byte cp.async
// TC-SAME: cp.async.cg.shared.global [%rd{{[0-9]+}}], [%rd{{[0-9]+}}], 16;
// TC-SAME: cp.async.wait_group {{\\09}}1;
// TC-SAME: cos.approx.f32
// Q fragments by ldmatrix (D/16 = 8 x4 loads) before the key-tile loop.
// TC-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// The loop (its blocks in any order): K by ldmatrix, QKᵀ and P·V on tensor
// cores, V by ldmatrix.trans, ex2 softmax, P packed to bf16, out = O / l.
// TCOPS: gpu.binary
// TCOPS-DAG: cp.async.wait_group {{\\09}}0;
// TCOPS-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// TCOPS-DAG: ex2.approx.ftz.f32
// TCOPS-DAG: cvt.rn.bf16x2.f32
// TCOPS-DAG: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// TCOPS-DAG: div.rn.f32
// No local memory (spills) anywhere.
// TCNOLOCAL: gpu.binary
// TCNOLOCAL-NOT: .local
module {
}
