// The MoE kernel generators (MoEKernels.h) on an empty module: the route
// kernel and the experts plan (permute, gate_up, down, combine), their
// launch manifest, and their PTX (format=isa: no CUDA needed). bf16 grouped
// GEMMs run on tensor cores (cp.async -> ldmatrix -> mma.sync); f32 ones, and
// bf16 ones with tensor-cores=0, as SIMT f32 FMAs. The numerics are checked
// on a GPU by test/gpu/moe_launcher.cpp.
// RUN: mm01-opt %s --mm01-test-moe-kernels="hidden=256 inter=64 experts=8 top-k=2 max-tokens=1024" | FileCheck %s
// RUN: mm01-opt %s --mm01-test-moe-kernels="hidden=256 inter=64 experts=8 top-k=2 max-tokens=1024" --mm01-gpu-kernel-codegen=format=isa | FileCheck %s --check-prefix=PTX
// The SIMT GEMMs of bf16 (the previous plan, kept for comparison).
// RUN: mm01-opt %s --mm01-test-moe-kernels="hidden=256 inter=64 experts=8 top-k=2 max-tokens=1024 tensor-cores=0" | FileCheck %s --check-prefix=SIMT
// RUN: mm01-opt %s --mm01-test-moe-kernels="hidden=256 inter=64 experts=8 top-k=2 max-tokens=1024 tensor-cores=0" --mm01-gpu-kernel-codegen=format=isa | FileCheck %s --check-prefix=SIMT-PTX
// Awkward sizes: I = 336 is no multiple of the 64-column tile (grid y =
// cdiv(336, 64) = 6, column guards) nor of the 32-deep K chunk of down.
// RUN: mm01-opt %s --mm01-test-moe-kernels="hidden=512 inter=336 experts=32 top-k=2 elt=f32 max-tokens=64" | FileCheck %s --check-prefix=AWK
// RUN: mm01-opt %s --mm01-test-moe-kernels="hidden=512 inter=336 experts=32 top-k=2 elt=f32 max-tokens=64" --mm01-gpu-kernel-codegen=format=isa | FileCheck %s --check-prefix=AWK-PTX
// d = 264, I = 200 (multiples of 8, not of 16): K tails inside a 16-deep mma.
// RUN: mm01-opt %s --mm01-test-moe-kernels="hidden=264 inter=200 experts=6 top-k=3 max-tokens=600" | FileCheck %s --check-prefix=AWK-TC
// Decode-sized calls (max-tokens 16: one row per expert) get 16-row tiles;
// explicit tiles are honoured.
// RUN: mm01-opt %s --mm01-test-moe-kernels="hidden=2048 inter=1408 experts=32 top-k=2 max-tokens=16" | FileCheck %s --check-prefix=DECODE
// RUN: mm01-opt %s --mm01-test-moe-kernels="hidden=512 inter=336 experts=32 top-k=2 gate-up-tiles=32,64,64,2,2,3 down-tiles=64,128,32,2,2,2" | FileCheck %s --check-prefix=EXPLICIT

// Grids depend on `tokens` only: the grouped GEMMs take the worst case of
// row tiles (cdiv(tokens*k, BM) + one partial tile per non-empty expert).
// 128-row tiles (1024*2/8 = 256 rows per expert): gate_up 128 x 64 (of w1
// and of w3) on 4 x 2 warps, down 128 x 128 on 2 x 4 warps, 3 stages of
// 64-deep K chunks (108 KiB of dynamic shared memory: two blocks per SM).
// CHECK: module attributes {gpu.container_module, mm01.moe_manifest = "workspace 256+cdiv(tokens*8,16)*16+tokens*1280\0A
// CHECK-SAME: route moe_route_e8_k2_bf16 grid cdiv(tokens,128) 1 1 block 128 1 1 smem 0 params logits,weights,ids,tokens\0A
// CHECK-SAME: experts moe_permute_e8_k2_d256_i64_bf16 grid 1 1 1 block 1024 1 1 smem 0 params ids,workspace,tokens\0A
// CHECK-SAME: experts moe_gate_up_e8_k2_d256_i64_bf16_tc_m128n64k64_w4x2_s3 grid cdiv(tokens*2,128)+min(8,tokens*2) 1 1 block 256 1 1 smem 110592 params x,w1,w3,workspace,tokens\0A
// CHECK-SAME: experts moe_down_e8_k2_d256_i64_bf16_tc_m128n128k64_w2x4_s3 grid cdiv(tokens*2,128)+min(8,tokens*2) 2 1 block 256 1 1 smem 110592 params w2,workspace,tokens\0A
// CHECK-SAME: experts moe_combine_e8_k2_d256_i64_bf16 grid tokens 1 1 block 128 1 1 smem 0 params weights,workspace,out,tokens\0A
// CHECK: gpu.module @mm01_moe
// Pointer parameters are 1-D static memrefs sized for max-tokens; the
// workspace is bytes (256 + 4*2048 + 2048*(64+256)*2). Shared buffers are
// 16-byte aligned (LLVM vectorises neighbouring accesses to them).
// CHECK-LABEL: gpu.func @moe_route_e8_k2_bf16(%{{.*}}: memref<8192xbf16>, %{{.*}}: memref<2048xf32>, %{{.*}}: memref<2048xi32>, %{{.*}}: i32) workgroup(%{{.*}} : memref<1152xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: math.exp
// CHECK-LABEL: gpu.func @moe_permute_e8_k2_d256_i64_bf16(%{{.*}}: memref<2048xi32>, %{{.*}}: memref<1319168xi8>, %{{.*}}: i32) workgroup(%{{.*}} : memref<8xi32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<8xi32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel
// CHECK: memref.atomic_rmw addi
// CHECK: gpu.barrier
// CHECK: memref.atomic_rmw addi
// gate_up: no f32 FMA loop; the K chunks go global -> shared by cp.async
// (src-size operand: zero fill past the tile's rows/columns/K), S-1 = 2
// groups ahead, then ldmatrix.x4 and bf16 mma.sync m16n8k16; the epilogue
// rounds h1, h3, silu(h1) and g to bf16 and stores bf16 pairs into h.
// CHECK-LABEL: gpu.func @moe_gate_up_e8_k2_d256_i64_bf16_tc_m128n64k64_w4x2_s3(%{{.*}}: memref<262144xbf16>, %{{.*}}: memref<131072xbf16>, %{{.*}}: memref<131072xbf16>, %{{.*}}: memref<1319168xi8>, %{{.*}}: i32) kernel
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>, nvvm.minctasm = 2 : i32
// CHECK-NOT: fastmath<contract>
// CHECK: gpu.dynamic_shared_memory
// CHECK: nvvm.cp.async.shared.global {{.*}}, 16, cache =  cg, {{.*}} : !llvm.ptr<3>, !llvm.ptr<1>, i32
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for
// CHECK-NEXT: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.ldmatrix {{.*}}num = 4 : i32
// CHECK: nvvm.mma.sync {{.*}}layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK-NOT: fastmath<contract>
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: math.exp
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: vector.store {{.*}} : memref<131072xbf16>, vector<2xbf16>
// CHECK-LABEL: gpu.func @moe_down_e8_k2_d256_i64_bf16_tc_m128n128k64_w2x4_s3(%{{.*}}: memref<131072xbf16>, %{{.*}}: memref<1319168xi8>, %{{.*}}: i32)
// CHECK-NOT: fastmath<contract>
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.ldmatrix
// CHECK: nvvm.mma.sync
// CHECK: vector.store {{.*}} : memref<524288xbf16>, vector<2xbf16>
// CHECK-LABEL: gpu.func @moe_combine_e8_k2_d256_i64_bf16(%{{.*}}: memref<2048xf32>, %{{.*}}: memref<1319168xi8>, %{{.*}}: memref<262144xbf16>, %{{.*}}: i32)
// CHECK: vector.store {{.*}} : memref<262144xbf16>, vector<8xbf16>

// (exp comes from libdevice: inlined when the toolkit is found, else an
// extern __nv_expf; not checked here.)
// PTX: gpu.binary @mm01_moe  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, properties = {{.*}}assembly = "
// PTX-SAME: .target sm_90a
// The tensor-core GEMMs' stages: dynamic shared memory.
// PTX-SAME: .shared .align 16 .b8 __dynamic_shmem__0
// Bare pointers: one .u64 per memref, the i32 `tokens`.
// PTX-SAME: .visible .entry moe_route_e8_k2_bf16(
// PTX-SAME: .param .u64 .ptr .align 1 moe_route_e8_k2_bf16_param_0
// PTX-SAME: .param .u32 moe_route_e8_k2_bf16_param_3
// PTX-SAME: .maxntid 128, 1, 1
// PTX-SAME: .shared .align 16 .b8 __wg_moe_route_e8_k2_bf16_0[4608]
// PTX-SAME: bar.sync
// PTX-SAME: .visible .entry moe_permute_e8_k2_d256_i64_bf16(
// PTX-SAME: .maxntid 1024, 1, 1
// PTX-SAME: atom.shared.add.u32
// PTX-SAME: bar.sync
// PTX-SAME: atom.shared.add.u32
// gate_up on tensor cores: two blocks per SM (ptxas keeps <= 128 registers).
// PTX-SAME: .visible .entry moe_gate_up_e8_k2_d256_i64_bf16_tc_m128n64k64_w4x2_s3(
// PTX-SAME: .maxntid 256, 1, 1
// PTX-SAME: .minnctapersm 2
// PTX-SAME: cp.async.cg.shared.global [%rd{{[0-9]+}}], [%rd{{[0-9]+}}], 16, %r{{[0-9]+}};
// PTX-SAME: cp.async.commit_group;
// (The K loop is rotated: the MMAs come before the wait and the barrier.)
// PTX-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-SAME: cp.async.wait_group{{[^;]*}}1;
// PTX-SAME: bar.sync
// PTX-SAME: cvt.rn.bf16.f32
// PTX-SAME: st.global.v2.b16
// PTX-SAME: .visible .entry moe_down_e8_k2_d256_i64_bf16_tc_m128n128k64_w2x4_s3(
// PTX-SAME: cp.async.cg.shared.global
// PTX-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-SAME: cvt.rn.bf16x2.f32
// PTX-SAME: st.global.b32
// combine: 8 bf16 per 16-byte load/store.
// PTX-SAME: .visible .entry moe_combine_e8_k2_d256_i64_bf16(
// PTX-SAME: ld.global.v4.b32
// PTX-SAME: cvt.rn.bf16x2.f32
// PTX-SAME: st.global.v4.b32
// PTX-NOT: .local

// SIMT: experts moe_gate_up_e8_k2_d256_i64_bf16_m32n64k32_t2x4 grid cdiv(tokens*2,32)+min(8,tokens*2) 1 1 block 256 1 1 smem 0 params x,w1,w3,workspace,tokens\0A
// SIMT-SAME: experts moe_down_e8_k2_d256_i64_bf16_m32n64k32_t2x4 grid cdiv(tokens*2,32)+min(8,tokens*2) 4 1 block 256 1 1 smem 0 params w2,workspace,tokens\0A
// SIMT-LABEL: gpu.func @moe_gate_up_e8_k2_d256_i64_bf16_m32n64k32_t2x4(%{{.*}}: memref<262144xbf16>, %{{.*}}: memref<131072xbf16>, %{{.*}}: memref<131072xbf16>, %{{.*}}: memref<1319168xi8>, %{{.*}}: i32)
// SIMT-SAME: workgroup(%{{.*}} : memref<1056xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<2080xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<2080xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// SIMT-NOT: nvvm.
// SIMT: memref.view
// SIMT: vector.load {{.*}} : memref<262144xbf16>, vector<8xbf16>
// SIMT-NOT: nvvm.
// SIMT: arith.mulf {{.*}} fastmath<contract> : f32
// SIMT: arith.addf {{.*}} fastmath<contract> : f32
// SIMT-NOT: nvvm.
// SIMT: math.exp
// SIMT-NOT: nvvm.
// SIMT-LABEL: gpu.func @moe_down_e8_k2_d256_i64_bf16_m32n64k32_t2x4(%{{.*}}: memref<131072xbf16>, %{{.*}}: memref<1319168xi8>, %{{.*}}: i32)
// SIMT-NOT: nvvm.
// SIMT: arith.mulf {{.*}} fastmath<contract> : f32
// SIMT-NOT: nvvm.
// SIMT-LABEL: gpu.func @moe_combine_e8_k2_d256_i64_bf16(

// SIMT-PTX: .visible .entry moe_gate_up_e8_k2_d256_i64_bf16_m32n64k32_t2x4(
// SIMT-PTX-SAME: .maxntid 256, 1, 1
// SIMT-PTX-SAME: .shared .align 16 .b8 __wg_moe_gate_up_e8_k2_d256_i64_bf16_m32n64k32_t2x4_0[4224]
// (The K loop is rotated: its 16-byte loads come after the FMAs.)
// SIMT-PTX-SAME: bar.sync
// SIMT-PTX-SAME: fma.rn.f32
// SIMT-PTX-SAME: ld.global.v4.b32
// SIMT-PTX-SAME: cvt.rn.bf16.f32
// SIMT-PTX-SAME: st.global.b16
// SIMT-PTX-SAME: .visible .entry moe_down_e8_k2_d256_i64_bf16_m32n64k32_t2x4(
// SIMT-PTX-SAME: fma.rn.f32
// SIMT-PTX-SAME: ld.global.v4.b32
// SIMT-PTX-SAME: st.global.b16
// SIMT-PTX-SAME: .visible .entry moe_combine
// SIMT-PTX-NOT: mma.sync
// SIMT-PTX-NOT: ldmatrix
// SIMT-PTX-NOT: cp.async

// AWK: experts moe_gate_up_e32_k2_d512_i336_f32_m32n64k32_t2x4 grid cdiv(tokens*2,32)+min(32,tokens*2) 6 1
// AWK-SAME: experts moe_down_e32_k2_d512_i336_f32_m32n64k32_t2x4 grid cdiv(tokens*2,32)+min(32,tokens*2) 8 1
// f32: 4 values per 16-byte vector, SIMT FMAs, no tensor-core op.
// AWK-LABEL: gpu.func @moe_gate_up_e32_k2_d512_i336_f32_m32n64k32_t2x4(
// AWK-NOT: nvvm.
// AWK: vector.load {{.*}} vector<4xf32>
// AWK-NOT: nvvm.
// AWK: arith.addf {{.*}} fastmath<contract> : f32
// AWK-NOT: nvvm.
// AWK-LABEL: gpu.func @moe_down_e32_k2_d512_i336_f32_m32n64k32_t2x4(
// AWK-NOT: nvvm.
// AWK: arith.addf {{.*}} fastmath<contract> : f32
// AWK-NOT: nvvm.
// AWK-LABEL: gpu.func @moe_combine
// AWK-PTX: .visible .entry moe_gate_up_e32_k2_d512_i336_f32_m32n64k32_t2x4(
// AWK-PTX-NOT: mma.sync
// AWK-PTX-NOT: ldmatrix
// AWK-PTX-NOT: cp.async

// 600*3/6 = 300 rows per expert: 128-row tiles; gate_up N = 200 -> 4
// column tiles of 64, down N = 264 -> 3 of 128.
// AWK-TC: experts moe_gate_up_e6_k3_d264_i200_bf16_tc_m128n64k64_w4x2_s3 grid cdiv(tokens*3,128)+min(6,tokens*3) 4 1 block 256 1 1 smem 110592
// AWK-TC-SAME: experts moe_down_e6_k3_d264_i200_bf16_tc_m128n128k64_w2x4_s3 grid cdiv(tokens*3,128)+min(6,tokens*3) 3 1 block 256 1 1 smem 110592
// AWK-TC: nvvm.mma.sync
// AWK-TC: nvvm.mma.sync

// 16*2/32 = 1 row per expert: 16-row tiles on 1 x 4 warps, 4 stages of
// 64-deep K chunks (the weights stream through them).
// DECODE: experts moe_gate_up_e32_k2_d2048_i1408_bf16_tc_m16n64k64_w1x4_s4 grid cdiv(tokens*2,16)+min(32,tokens*2) 22 1 block 128 1 1 smem 82944
// DECODE-SAME: experts moe_down_e32_k2_d2048_i1408_bf16_tc_m16n64k64_w1x4_s4 grid cdiv(tokens*2,16)+min(32,tokens*2) 32 1 block 128 1 1 smem 46080

// EXPLICIT: experts moe_gate_up_e32_k2_d512_i336_bf16_tc_m32n64k64_w2x2_s3 grid cdiv(tokens*2,32)+min(32,tokens*2) 6 1 block 128 1 1 smem 69120
// EXPLICIT-SAME: experts moe_down_e32_k2_d512_i336_bf16_tc_m64n128k32_w2x2_s2 grid cdiv(tokens*2,64)+min(32,tokens*2) 4 1 block 128 1 1 smem 30720
module {
}
