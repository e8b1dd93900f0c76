// The softmax attention kernels of one spec (test pass), as gpu.funcs.
// RUN: mm01-opt %s --mm01-test-softmax-attention-kernels="heads=4 kv-heads=2 dim=64 rotary-dim=32" | FileCheck %s
// A second build of the same spec reuses the kernels; another spec (f32,
// R = D, other strides) gets its own.
// RUN: mm01-opt %s --mm01-test-softmax-attention-kernels="heads=4 kv-heads=2 dim=64 rotary-dim=32" --mm01-test-softmax-attention-kernels="heads=4 kv-heads=2 dim=64 rotary-dim=32" | FileCheck %s --check-prefix=REUSE
// RUN: mm01-opt %s --mm01-test-softmax-attention-kernels="heads=8 kv-heads=8 dim=128 rotary-dim=128 elt=f32 q-stride=3072 warps=2 max-tokens=16" | FileCheck %s --check-prefix=F32

// What the engine needs (a module attribute, printed first): grids over
// tokens only, parameters by name.
// CHECK: mm01.softmax_attention.manifest = "spec 4 2 64 32 10000 0.125 bf16 256 128 128 256 4 1024 1024;kernel softmax_attention_cache_write_h4_kv2_d64_r32_bf16 tokens 1 1 128 1 1 0 k v key_cache value_cache positions token_seq;kernel softmax_attention_h4_kv2_d64_r32_bf16_w8 tokens 2 1 256 1 1 0 q key_cache value_cache out positions token_seq"
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

// F32: "spec 8 8 128 128 10000 0.088388347648318433 f32 3072 1024 1024 1024 4 1024 16;kernel softmax_attention_cache_write_h8_kv8_d128_r128_f32 tokens 1 1 128 1 1 0 k v key_cache value_cache positions token_seq;kernel softmax_attention_h8_kv8_d128_r128_f32_w2 tokens 8 1 64 1 1 0 q key_cache value_cache out positions token_seq"
// F32: memref.global "private" constant @softmax_attention_inv_freq_r128_{{[0-9]+}} : memref<64xf32>
// F32: gpu.func @softmax_attention_cache_write_h8_kv8_d128_r128_f32(%{{.*}}: memref<16384xf32>
// F32: gpu.func @softmax_attention_h8_kv8_d128_r128_f32_w2(%{{.*}}: memref<47104xf32>
// F32-SAME: workgroup(%{{.*}} : memref<260xf32, #gpu.address_space<workgroup>>)
// F32-SAME: known_block_size = array<i32: 64, 1, 1>
// F32: vector.load %{{.*}} : memref<47104xf32>, vector<4xf32>
// F32-NOT: arith.truncf {{.*}} to bf16
// F32: gpu.return
module {
}
