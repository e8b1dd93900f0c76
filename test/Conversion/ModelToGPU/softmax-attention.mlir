// The softmax attention kernels of one spec (test pass), as gpu.funcs.
// RUN: mm01-opt %s --mm01-test-softmax-attention-kernels="heads=4 kv-heads=2 dim=64 rotary-dim=32" | FileCheck %s
// A second build of the same spec reuses the kernels; another spec (f32,
// R = D, other strides) gets its own.
// RUN: mm01-opt %s --mm01-test-softmax-attention-kernels="heads=4 kv-heads=2 dim=64 rotary-dim=32" --mm01-test-softmax-attention-kernels="heads=4 kv-heads=2 dim=64 rotary-dim=32" | FileCheck %s --check-prefix=REUSE
// RUN: mm01-opt %s --mm01-test-softmax-attention-kernels="heads=8 kv-heads=8 dim=128 rotary-dim=128 elt=f32 q-stride=3072 warps=2 max-tokens=16" | FileCheck %s --check-prefix=F32
// The tensor-core prefill kernel (prefill=1: the tiles a prefill entry gets).
// RUN: mm01-opt %s --mm01-test-softmax-attention-kernels="heads=4 kv-heads=2 dim=64 rotary-dim=32 prefill=1" | FileCheck %s --check-prefix=TC
// Prefill and decode specs of one layer share the cache-write kernel.
// RUN: mm01-opt %s --mm01-test-softmax-attention-kernels="heads=4 kv-heads=2 dim=64 rotary-dim=32 prefill=1" --mm01-test-softmax-attention-kernels="heads=4 kv-heads=2 dim=64 rotary-dim=32" | FileCheck %s --check-prefix=SHARE
// f32 keeps the per-token kernel even for prefill; explicit tiles are honoured.
// RUN: mm01-opt %s --mm01-test-softmax-attention-kernels="heads=4 kv-heads=2 dim=64 rotary-dim=32 elt=f32 prefill=1" | FileCheck %s --check-prefix=F32PRE
// RUN: mm01-opt %s --mm01-test-softmax-attention-kernels="heads=6 kv-heads=2 dim=96 rotary-dim=32 query-tile=128 key-tile=32 tile-stages=3" | FileCheck %s --check-prefix=TILES

// What the engine needs (a module attribute, printed first): grids over
// tokens only, parameters by name.
// CHECK: mm01.softmax_attention.manifest = "spec 4 2 64 32 10000 0.125 bf16 256 128 128 256 4 1024 1024 0 0 0 0;kernel softmax_attention_cache_write_h4_kv2_d64_r32_bf16 tokens 1 1 128 1 1 0 k v key_cache value_cache positions token_seq;kernel softmax_attention_h4_kv2_d64_r32_bf16_w8 tokens 2 1 256 1 1 0 q key_cache value_cache out positions token_seq"
// CHECK: gpu.module @mm01_softmax_attention
// inv_freq table of the R/2 = 16 frequencies.
// CHECK: memref.global "private" constant @softmax_attention_inv_freq_r32_{{[0-9]+}} : memref<16xf32>
// Cache write: pointers are 1-D static memrefs (bare pointers), one block
// of 128 threads per token.
// CHECK-LABEL: gpu.func @softmax_attention_cache_write_h4_kv2_d64_r32_bf16(
// CHECK-SAME: %{{.*}}: memref<131072xbf16>, %{{.*}}: memref<131072xbf16>, %{{.*}}: memref<524288xbf16>, %{{.*}}: memref<524288xbf16>, %{{.*}}: memref<1024xi32>, %{{.*}}: memref<1024xi32>)
// CHECK-SAME: kernel
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: gpu.block_id x
// CHECK: scf.if
// CHECK: memref.get_global @softmax_attention_inv_freq_r32_
// CHECK: scf.for
// CHECK: scf.if
// CHECK: "cos.approx.f32 $0, $1;"
// CHECK: "sin.approx.f32 $0, $1;"
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: gpu.return
// Attention: one block of 8 warps (automatic) per (token, KV head); workgroup memory for
// the merge of the warps: 8 warps x 2 heads x (64 + 2) f32.
// CHECK-LABEL: gpu.func @softmax_attention_h4_kv2_d64_r32_bf16_w8(
// CHECK-SAME: %{{.*}}: memref<262144xbf16>, %{{.*}}: memref<524288xbf16>, %{{.*}}: memref<524288xbf16>, %{{.*}}: memref<262144xbf16>, %{{.*}}: memref<1024xi32>, %{{.*}}: memref<1024xi32>)
// CHECK-SAME: workgroup(%{{.*}} : memref<1056xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
// CHECK: gpu.block_id y
// q: 2 bf16 per lane
// CHECK: vector.load %{{.*}} : memref<262144xbf16>, vector<2xbf16>
// CHECK: scf.for {{.*}} iter_args(
// CHECK: vector.load %{{.*}} : memref<524288xbf16>, vector<2xbf16>
// CHECK: vector.load %{{.*}} : memref<524288xbf16>, vector<2xbf16>
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: "ex2.approx.ftz.f32 $0, $1;"
// CHECK: scf.yield
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: arith.divf
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: gpu.return

// REUSE-COUNT-2: gpu.func @
// REUSE-NOT: gpu.func @

// F32: "spec 8 8 128 128 10000 0.088388347648318433 f32 3072 1024 1024 1024 4 1024 16 0 0 0 0;kernel softmax_attention_cache_write_h8_kv8_d128_r128_f32 tokens 1 1 128 1 1 0 k v key_cache value_cache positions token_seq;kernel softmax_attention_h8_kv8_d128_r128_f32_w2 tokens 8 1 64 1 1 0 q key_cache value_cache out positions token_seq"
// F32: memref.global "private" constant @softmax_attention_inv_freq_r128_{{[0-9]+}} : memref<64xf32>
// F32: gpu.func @softmax_attention_cache_write_h8_kv8_d128_r128_f32(%{{.*}}: memref<16384xf32>
// F32: gpu.func @softmax_attention_h8_kv8_d128_r128_f32_w2(%{{.*}}: memref<47104xf32>
// F32-SAME: workgroup(%{{.*}} : memref<260xf32, #gpu.address_space<workgroup>>)
// F32-SAME: known_block_size = array<i32: 64, 1, 1>
// F32: vector.load %{{.*}} : memref<47104xf32>, vector<4xf32>
// F32-NOT: arith.truncf {{.*}} to bf16
// F32: gpu.return
// TC: mm01.softmax_attention.manifest = "spec 4 2 64 32 10000 0.125 bf16 256 128 128 256 4 1024 1024 64 64 4 2;kernel softmax_attention_cache_write_h4_kv2_d64_r32_bf16 tokens 1 1 128 1 1 0 k v key_cache value_cache positions token_seq;kernel softmax_attention_h4_kv2_d64_r32_bf16_q64k64w4s2 cdiv(tokens*2,64)+batch 2 1 128 1 1 46336 q key_cache value_cache out positions token_seq cu_seqlens batch"
// Row tiles of G = 2 stacked heads, 4 warps; shared memory 2·(64+8)·(64 +
// 2·2·64) + 4·64 = 46336 bytes (dynamic). The block finds its sequence in
// cu_seqlens and its (rows, KV head).
// TC-LABEL: gpu.func @softmax_attention_h4_kv2_d64_r32_bf16_q64k64w4s2(
// TC-SAME: %{{.*}}: memref<5xi32>, %{{.*}}: i32) kernel
// TC-SAME: known_block_size = array<i32: 128, 1, 1>
// TC: gpu.grid_dim x
// TC: scf.for {{.*}} iter_args(
// TC: gpu.dynamic_shared_memory
// raw q rows: 4 cp.async of 16 bytes per thread, one group
// TC-COUNT-4: nvvm.cp.async.shared.global
// TC: nvvm.cp.async.commit.group
// RoPE(q) in shared memory after the q group landed, rounded to bf16
// TC: nvvm.cp.async.wait.group 1
// TC: "cos.approx.f32 $0, $1;"
// TC: arith.truncf %{{.*}} : f32 to bf16
// Q fragments (D/16 = 4 ldmatrix.x4), then the key-tile loop: S = Q·Kᵀ by
// 4 x 8 mma.sync fed by ldmatrix, the causal mask, online softmax (quad
// shuffles, ex2), P·V by 4 x 8 mma.sync with ldmatrix.trans of V.
// TC-COUNT-4: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>
// TC: scf.for {{.*}} iter_args(
// TC: nvvm.cp.async.wait.group 0
// TC: gpu.barrier
// TC: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>
// TC-COUNT-2: nvvm.mma.sync
// TC: scf.if {{.*}} -> (f32
// TC: arith.select
// TC: gpu.shuffle  xor
// TC: "ex2.approx.ftz.f32 $0, $1;"
// TC: arith.truncf {{.*}} : f32 to bf16
// TC: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<col>
// TC: nvvm.mma.sync
// TC: scf.yield
// out = O / l, rounded once, stored as bf16 pairs
// TC: arith.divf
// TC: vector.store %{{.*}} : memref<262144xbf16>, vector<2xbf16>
// TC: gpu.return

// SHARE-COUNT-1: gpu.func @softmax_attention_cache_write_h4_kv2_d64_r32_bf16(
// SHARE-NOT: gpu.func @softmax_attention_cache_write
// SHARE-DAG: gpu.func @softmax_attention_h4_kv2_d64_r32_bf16_q64k64w4s2(
// SHARE-DAG: gpu.func @softmax_attention_h4_kv2_d64_r32_bf16_w8(

// F32PRE: "spec 4 2 64 32 10000 0.125 f32 256 128 128 256 4 1024 1024 0 0 0 0;
// F32PRE-SAME: kernel softmax_attention_h4_kv2_d64_r32_f32_w8 tokens 2 1 256

// TILES: "spec 6 2 96 32 10000 {{.*}} 128 32 8 3;
// TILES-SAME: kernel softmax_attention_h6_kv2_d96_r32_bf16_q128k32w8s3 cdiv(tokens*3,128)+batch 2 1 256 1 1 {{[0-9]+}} q
module {
}
