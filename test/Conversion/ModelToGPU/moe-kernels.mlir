// The MoE kernel generators (MoEKernels.h) on an empty module: the route
// kernel and the experts plan (permute, gate_up, down, combine), their
// launch manifest, and their PTX (format=isa: no CUDA needed). The numerics
// are checked on a GPU by test/gpu/moe_launcher.cpp.
// RUN: mm01-opt %s --mm01-test-moe-kernels="hidden=256 inter=64 experts=8 top-k=2 max-tokens=1024" | FileCheck %s
// RUN: mm01-opt %s --mm01-test-moe-kernels="hidden=256 inter=64 experts=8 top-k=2 max-tokens=1024" --mm01-gpu-kernel-codegen=format=isa | FileCheck %s --check-prefix=PTX
// Awkward sizes: I = 336 is no multiple of the 64-column tile (grid y =
// cdiv(336, 64) = 6, column guards) nor of the 32-deep K chunk of down.
// RUN: mm01-opt %s --mm01-test-moe-kernels="hidden=512 inter=336 experts=32 top-k=2 elt=f32 max-tokens=64" | FileCheck %s --check-prefix=AWK

// Grids depend on `tokens` only: the grouped GEMMs take the worst case of
// row tiles (cdiv(tokens*k, BM) + one partial tile per non-empty expert).
// CHECK: module attributes {gpu.container_module, mm01.moe_manifest = "workspace 256+cdiv(tokens*8,16)*16+tokens*1280\0A
// CHECK-SAME: route moe_route_e8_k2_bf16 grid cdiv(tokens,128) 1 1 block 128 1 1 smem 0 params logits,weights,ids,tokens\0A
// CHECK-SAME: experts moe_permute_e8_k2_d256_i64_bf16 grid 1 1 1 block 1024 1 1 smem 0 params ids,workspace,tokens\0A
// CHECK-SAME: experts moe_gate_up_e8_k2_d256_i64_bf16_m32n64k32_t2x4 grid cdiv(tokens*2,32)+min(8,tokens*2) 1 1 block 256 1 1 smem 0 params x,w1,w3,workspace,tokens\0A
// CHECK-SAME: experts moe_down_e8_k2_d256_i64_bf16_m32n64k32_t2x4 grid cdiv(tokens*2,32)+min(8,tokens*2) 4 1 block 256 1 1 smem 0 params w2,workspace,tokens\0A
// CHECK-SAME: experts moe_combine_e8_k2_d256_i64_bf16 grid tokens 1 1 block 128 1 1 smem 0 params weights,workspace,out,tokens\0A
// CHECK: gpu.module @mm01_moe
// Pointer parameters are 1-D static memrefs sized for max-tokens; the
// workspace is bytes (256 + 4*2048 + 2048*(64+256)*2).
// CHECK: gpu.func @moe_route_e8_k2_bf16(%{{.*}}: memref<8192xbf16>, %{{.*}}: memref<2048xf32>, %{{.*}}: memref<2048xi32>, %{{.*}}: i32) workgroup(%{{.*}} : memref<1152xf32, #gpu.address_space<workgroup>>) kernel
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: math.exp
// CHECK: gpu.func @moe_permute_e8_k2_d256_i64_bf16(%{{.*}}: memref<2048xi32>, %{{.*}}: memref<1319168xi8>, %{{.*}}: i32) workgroup(%{{.*}} : memref<8xi32, #gpu.address_space<workgroup>>, %{{.*}} : memref<8xi32, #gpu.address_space<workgroup>>) kernel
// CHECK: memref.atomic_rmw addi
// CHECK: gpu.barrier
// CHECK: memref.atomic_rmw addi
// CHECK: gpu.func @moe_gate_up_e8_k2_d256_i64_bf16_m32n64k32_t2x4(%{{.*}}: memref<262144xbf16>, %{{.*}}: memref<131072xbf16>, %{{.*}}: memref<131072xbf16>, %{{.*}}: memref<1319168xi8>, %{{.*}}: i32)
// CHECK-SAME: workgroup(%{{.*}} : memref<1056xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<2080xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<2080xf32, #gpu.address_space<workgroup>>)
// CHECK: memref.view
// CHECK: vector.load {{.*}} : memref<262144xbf16>, vector<8xbf16>
// CHECK: arith.mulf {{.*}} fastmath<contract> : f32
// CHECK: arith.addf {{.*}} fastmath<contract> : f32
// CHECK: math.exp
// CHECK: gpu.func @moe_down_e8_k2_d256_i64_bf16_m32n64k32_t2x4(%{{.*}}: memref<131072xbf16>, %{{.*}}: memref<1319168xi8>, %{{.*}}: i32)
// CHECK: gpu.func @moe_combine_e8_k2_d256_i64_bf16(%{{.*}}: memref<2048xf32>, %{{.*}}: memref<1319168xi8>, %{{.*}}: memref<262144xbf16>, %{{.*}}: i32)
// CHECK: vector.store {{.*}} : memref<262144xbf16>, vector<8xbf16>

// (exp comes from libdevice: inlined when the toolkit is found, else an
// extern __nv_expf; not checked here.)
// PTX: gpu.binary @mm01_moe  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, properties = {{.*}}assembly = "
// PTX-SAME: .target sm_90a
// Bare pointers: one .u64 per memref, the i32 `tokens`.
// PTX-SAME: .visible .entry moe_route_e8_k2_bf16(
// PTX-SAME: .param .u64 .ptr .align 1 moe_route_e8_k2_bf16_param_0
// PTX-SAME: .param .u32 moe_route_e8_k2_bf16_param_3
// PTX-SAME: .maxntid 128, 1, 1
// PTX-SAME: .shared .align 4 .b8 __wg_moe_route_e8_k2_bf16_0[4608]
// PTX-SAME: bar.sync
// PTX-SAME: .visible .entry moe_permute_e8_k2_d256_i64_bf16(
// PTX-SAME: .maxntid 1024, 1, 1
// PTX-SAME: atom.shared.add.u32
// PTX-SAME: bar.sync
// PTX-SAME: atom.shared.add.u32
// gate_up: 16-byte loads, f32 FMAs, silu, bf16 rounding of h1, h3, silu, g.
// PTX-SAME: .visible .entry moe_gate_up_e8_k2_d256_i64_bf16_m32n64k32_t2x4(
// PTX-SAME: .maxntid 256, 1, 1
// PTX-SAME: .shared .align 4 .b8 __wg_moe_gate_up_e8_k2_d256_i64_bf16_m32n64k32_t2x4_0[4224]
// (The K loop is rotated: its 16-byte loads come after the FMAs.)
// PTX-SAME: bar.sync
// PTX-SAME: fma.rn.f32
// PTX-SAME: ld.global.v4.b32
// PTX-SAME: cvt.rn.bf16.f32
// PTX-SAME: st.global.b16
// PTX-SAME: .visible .entry moe_down_e8_k2_d256_i64_bf16_m32n64k32_t2x4(
// PTX-SAME: fma.rn.f32
// PTX-SAME: ld.global.v4.b32
// PTX-SAME: st.global.b16
// combine: 8 bf16 per 16-byte load/store.
// PTX-SAME: .visible .entry moe_combine_e8_k2_d256_i64_bf16(
// PTX-SAME: ld.global.v4.b32
// PTX-SAME: cvt.rn.bf16x2.f32
// PTX-SAME: st.global.v4.b32
// PTX-NOT: .local

// AWK: experts moe_gate_up_e32_k2_d512_i336_f32_m32n64k32_t2x4 grid cdiv(tokens*2,32)+min(32,tokens*2) 6 1
// AWK-SAME: experts moe_down_e32_k2_d512_i336_f32_m32n64k32_t2x4 grid cdiv(tokens*2,32)+min(32,tokens*2) 8 1
// f32: 4 values per 16-byte vector.
// AWK: gpu.func @moe_gate_up_e32_k2_d512_i336_f32_m32n64k32_t2x4(
// AWK: vector.load {{.*}} vector<4xf32>
module {
}
