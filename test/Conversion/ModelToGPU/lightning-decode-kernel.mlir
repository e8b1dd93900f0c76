// The engine's lightning decode kernel (buildLightningDecode): one token per
// sequence, bare-pointer parameters bound by name, q/k/v strided views of the
// interleaved QKV projection with SiLU on load (q, k staged once per block in
// workgroup memory), the fp32 state read and
// written once as 16-byte vectors; its PTX; the scalar fallback when the v/out
// strides break 4-element alignment; diagnostics; and mm01-compile using it
// for decode (prefill keeps the chunked prefill kernel).
// REQUIRES: fixtures
// RUN: mm01-opt %s --mm01-test-lightning-decode-kernel="heads=4 dim=64 silu=1" | FileCheck %s --check-prefix=IR
// RUN: mm01-opt %s --mm01-test-lightning-decode-kernel="heads=4 dim=64 silu=1" --mm01-gpu-kernel-codegen=format=isa | FileCheck %s --check-prefix=PTX
// RUN: mm01-opt %s --mm01-test-lightning-decode-kernel="heads=4 dim=64 layout=padded block-columns=32 threads=32" | FileCheck %s --check-prefix=PADDED
// RUN: mm01-opt %s --mm01-test-lightning-decode-kernel="heads=2 dim=64 elt=f32 layout=separate" --mm01-gpu-kernel-codegen=format=isa | FileCheck %s --check-prefix=F32
// RUN: not mm01-opt %s --mm01-test-lightning-decode-kernel="heads=2 dim=96" 2>&1 | FileCheck %s --check-prefix=ERR-DIM
// RUN: not mm01-opt %s --mm01-test-lightning-decode-kernel="heads=2 dim=64 decay=0.5" 2>&1 | FileCheck %s --check-prefix=ERR-DECAY
// RUN: not mm01-opt %s --mm01-test-lightning-decode-kernel="heads=2 dim=64 elt=f16" 2>&1 | FileCheck %s --check-prefix=ERR-ELT
// RUN: not mm01-opt %s --mm01-test-lightning-decode-kernel="heads=2 dim=64 block-columns=4 threads=1024" 2>&1 | FileCheck %s --check-prefix=ERR-ROWS
// RUN: mm01-compile %fixtures/minimax-tiny --target=sm_90a --max-batch=2 --max-context=256 --emit=schedule -o %t.sched.mlir
// RUN: FileCheck %s --check-prefix=SCHED < %t.sched.mlir
// RUN: mm01-opt %t.sched.mlir --mm01-gpu-kernel-codegen=format=isa | FileCheck %s --check-prefix=ENGINE-PTX
// RUN: mm01-compile %fixtures/minimax-tiny --target=sm_90a --max-batch=64 --max-context=256 --emit=schedule -o %t.sched64.mlir
// RUN: FileCheck %s --check-prefix=SCHED64 < %t.sched64.mlir
// RUN: mm01-opt %s --mm01-test-lightning-decode-kernel="heads=8 dim=128 max-batch=256 layout=separate auto-tiles=1" | FileCheck %s --check-prefix=AUTO8
// RUN: mm01-opt %s --mm01-test-lightning-decode-kernel="heads=64 dim=128 max-batch=256 layout=separate auto-tiles=1" | FileCheck %s --check-prefix=AUTO64
// RUN: mm01-opt %s --mm01-test-lightning-decode-kernel="heads=8 dim=128 max-batch=4 auto-tiles=1" | FileCheck %s --check-prefix=AUTO-ALLSMALL
// RUN: not mm01-opt %s --mm01-test-lightning-decode-kernel="heads=8 dim=128 max-batch=4 small-batch-max=4" 2>&1 | FileCheck %s --check-prefix=ERR-SMALL
// RUN: mm01-opt %s --mm01-test-lightning-decode-kernel="heads=8 dim=128 layout=separate block-columns=64 threads=512" | FileCheck %s --check-prefix=QKVEC
// RUN: mm01-opt %s --mm01-test-lightning-decode-kernel="heads=8 dim=128 layout=separate block-columns=16 threads=512" | FileCheck %s --check-prefix=QKSCALAR

module {}

// Interleaved QKV (token stride 3HD = 768, head stride 3D = 192), out [T, H, D].
// IR: mm01.lightning_decode = "kernel=lightning_decode_h4_d64_bf16_c64_t256_silu H=4 D=64 elt=bf16 silu=1 cols=64 threads=256 q=768,192 k=768,192 v=768,192 out=256,64 grid=batch*4,1,1 params=q,k,v,state,out"
// IR: gpu.module @mm01_lightning_decode_kernel
// e^{-λ} with λ_h = 2^(-8(h+1)/4): f64 exp rounded to f32.
// IR: memref.global "private" constant @lightning_decode_h4_d64_bf16_c64_t256_silu_decay : memref<4xf32> = dense<[0.778800785, 0.93941307, 0.984496414, 0.996101379]>
// Extents: q/k/v (16-1)·768 + 3·192 + 64, state 16·4·64·64, out 16·256.
// IR: gpu.func @lightning_decode_h4_d64_bf16_c64_t256_silu(%arg0: memref<12160xbf16>, %arg1: memref<12160xbf16>, %arg2: memref<12160xbf16>, %arg3: memref<262144xf32>, %arg4: memref<4096xbf16>)
// IR-SAME: workgroup(%[[SMEM:[a-z0-9]*]] : memref<8x64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[QK:[a-z0-9]*]] : memref<64x2xf32, #gpu.address_space<workgroup>> {llvm.align = 8 : i64})
// IR-SAME: kernel attributes {known_block_size = array<i32: 256, 1, 1>}
// IR: memref.get_global @lightning_decode_h4_d64_bf16_c64_t256_silu_decay
// 4 rows per thread: the state vectors are loaded first.
// IR-COUNT-4: vector.load %arg3[%{{.*}}] {alignment = 16 : i64} : memref<262144xf32>, vector<4xf32>
// v: one 4-element vector load (stride 192 keeps the alignment), SiLU per
// element: ex2.approx and rcp.approx, no division.
// IR: vector.load %arg2[%{{.*}}] {alignment = 8 : i64} : memref<12160xbf16>, vector<4xbf16>
// IR-NOT: arith.divf
// IR: llvm.inline_asm asm_dialect = att "ex2.approx.f32 $0, $1;", "=f,f"
// IR: llvm.inline_asm asm_dialect = att "rcp.approx.f32 $0, $1;", "=f,f"
// IR: arith.truncf
// SiLU(q_i), SiLU(k_i) once per block: slot tid < 2D = 128 (q below D, k
// above), staged as pairs in workgroup memory, then a barrier.
// IR: scf.if
// IR: scf.if
// IR: memref.load %arg0
// IR: llvm.inline_asm asm_dialect = att "ex2.approx.f32 $0, $1;", "=f,f"
// IR: memref.store %{{.*}}, %[[QK]][%{{.*}}, %c0{{.*}}]
// IR: } else {
// IR: memref.load %arg1
// IR: memref.store %{{.*}}, %[[QK]][%{{.*}}, %c1{{.*}}]
// IR-NOT: arith.divf
// IR: gpu.barrier
// Each thread reads the (q_i, k_i) of its 4 rows back, then the updates.
// IR-COUNT-4: vector.load %[[QK]][%{{.*}}, %{{.*}}] {alignment = 8 : i64} : memref<64x2xf32, #gpu.address_space<workgroup>>, vector<2xf32>
// IR-NOT: memref.load %arg0
// IR-NOT: memref.load %arg1
// IR: vector.fma
// IR: vector.store %{{.*}}, %arg3[%{{.*}}] {alignment = 16 : i64} : memref<262144xf32>, vector<4xf32>
// IR-COUNT-4: gpu.shuffle  xor %{{.*}}, %c16_i32
// IR-NOT: gpu.shuffle
// IR: vector.store %{{.*}}, %[[SMEM]]
// IR: gpu.barrier
// IR: scf.if
// IR-COUNT-8: vector.load %[[SMEM]]
// IR: vector.store %{{.*}}, %arg4[%{{.*}}] {alignment = 8 : i64} : memref<4096xbf16>, vector<4xbf16>
// IR: gpu.return

// PTX: .target sm_90a
// PTX-SAME: .global .align 16 .b8 lightning_decode_h4_d64_bf16_c64_t256_silu_decay[16]
// PTX-SAME: .visible .entry lightning_decode_h4_d64_bf16_c64_t256_silu(
// Bare pointers: 5 parameters.
// PTX-SAME: lightning_decode_h4_d64_bf16_c64_t256_silu_param_4
// PTX-NOT: _param_5
// PTX-SAME: .maxntid 256, 1, 1
// PTX-SAME: ld.global.nc.b32
// PTX-SAME: ld.global.v4.b32
// PTX-SAME: ld.global.v4.b32
// PTX-SAME: ld.global.v4.b32
// PTX-SAME: ld.global.v4.b32
// PTX-NOT: ld.global.v4.b32
// PTX-SAME: ld.global.v4.b16
// PTX-NOT: div.rn
// PTX-SAME: ex2.approx.f32
// PTX-SAME: rcp.approx.f32
// PTX-SAME: st.shared.b32
// PTX-SAME: bar.sync
// PTX-SAME: ld.shared.v2.b32
// PTX-SAME: st.global.v4.b32
// PTX-SAME: st.global.v4.b32
// PTX-SAME: st.global.v4.b32
// PTX-SAME: st.global.v4.b32
// PTX-SAME: shfl.sync.bfly.b32
// PTX-SAME: bar.sync
// PTX-SAME: st.global.v2.b32
// PTX-NOT: .local

// Rows of D + 2 = 66 elements: v and out are not 4-element aligned, so they
// go element by element; the state stays vectorized. One warp: no workgroup
// memory, 8 column groups (shuffle offsets 8 and 16).
// PADDED: q=264,66 k=264,66 v=264,66 out=264,66 grid=batch*4,2,1
// PADDED: gpu.func @lightning_decode_h4_d64_bf16_c32_t32(
// PADDED-NOT: workgroup
// PADDED-SAME: known_block_size = array<i32: 32, 1, 1>
// PADDED-NOT: vector.load %arg2
// PADDED-COUNT-4: memref.load %arg2
// PADDED: vector.load %arg3[%{{.*}}] {alignment = 16 : i64}
// PADDED-COUNT-4: gpu.shuffle  xor %{{.*}}, %c8_i32
// PADDED-NOT: gpu.barrier
// PADDED: scf.if
// PADDED-COUNT-4: memref.store %{{.*}}, %arg4
// PADDED-NOT: vector.store %{{.*}}, %arg4

// f32, separate q/k/v: v and o as 16-byte vectors, no SiLU.
// F32: .visible .entry lightning_decode_h2_d64_f32_c64_t256(
// F32-NOT: ex2.approx
// F32-SAME: ld.global.v4.b32
// F32-SAME: st.global.v4.b32
// F32-NOT: .local

// ERR-DIM: lightning decode kernel generator: D = 96 is not divisible by block-columns = 64
// ERR-DECAY: lightning decode kernel generator: expects 2 decay rates, got 1
// ERR-ELT: lightning decode kernel generator: activation element type 'f16' is not supported (bf16 or f32)
// ERR-ROWS: lightning decode kernel generator: D = 64 is not divisible by the 1024 row groups of a block

// The engine schedule: prefill keeps the chunked prefill kernel, decode
// launches the decode kernel on views of the QKV projection (offsets 0, D,
// 2D), the layer's state in place and a fresh output; the grid reads only
// `batch` (CUDA graphs).
// SCHED-LABEL: func.func @prefill
// SCHED: mm01k.launch @mm01_kernels::@lightning_prefill_h4_d64_bf16_c64_s{{[0-9]+}}_silu_hilotail12_wg_out
// SCHED-LABEL: func.func @decode
// SCHED-SAME: %[[STATE:arg[0-9]+]]: tensor<2x4x64x64xf32> {mm01.name = "layer0.lightning_state"
// SCHED: %[[QKV:.*]] = mm01k.gemm {{.*}} {k = "256", m = "batch", n = "768", trans_b}
// SCHED: %[[OUT:.*]] = tensor.empty() {{.*}}: tensor<2x256xbf16>
// At most 2 sequences (4 heads of D = 64): every call is small, one kernel
// of 16 columns, one row per thread (chooseLightningDecodeTiles).
// SCHED: mm01k.launch @mm01_kernels::@lightning_decode_h4_d64_bf16_c16_t256_silu grid ["batch*4", "4", "1"] block [256, 1, 1]
// SCHED-SAME: ins(%[[QKV]], %[[QKV]], %[[QKV]] : tensor<2x768xbf16>, tensor<2x768xbf16>, tensor<2x768xbf16>) outs(%[[STATE]], %[[OUT]] :
// SCHED-SAME: param_names = ["q", "k", "v", "state", "out"], param_offsets = array<i64: 0, 64, 128, 0, 0>
// SCHED-NOT: when =
// SCHED-NOT: lightning_prefill
// SCHED-LABEL: gpu.module @mm01_kernels
// SCHED: gpu.func @lightning_decode_h4_d64_bf16_c16_t256_silu(%{{.*}}: memref<{{[0-9]+}}xbf16>, %{{.*}}: memref<{{[0-9]+}}xbf16>, %{{.*}}: memref<{{[0-9]+}}xbf16>, %{{.*}}: memref<32768xf32>, %{{.*}}: memref<{{[0-9]+}}xbf16>)

// ENGINE-PTX-DAG: .entry lightning_prefill_h4_d64_bf16_c64_s{{[0-9]+}}_silu_hilotail12_wg_out(
// ENGINE-PTX-DAG: .entry lightning_decode_h4_d64_bf16_c16_t256_silu(

// Up to 64 sequences: 64 columns x 512 threads (2 rows per thread at
// D = 64) above 33 sequences, where 4 heads x 1 column block give more
// blocks than the 132 SMs; the small-batch kernel at or below. Exactly one
// of the two runs per call.
// SCHED64-LABEL: func.func @decode
// SCHED64: %[[W:.*]]:2 = mm01k.launch @mm01_kernels::@lightning_decode_h4_d64_bf16_c64_t512_silu grid ["batch*4", "1", "1"] block [512, 1, 1]
// SCHED64-SAME: outs(%[[STATE:arg[0-9]+]], %{{.*}} :
// SCHED64-SAME: when = "1 - le(batch, 33)"
// SCHED64-NEXT: mm01k.launch @mm01_kernels::@lightning_decode_h4_d64_bf16_c16_t256_silu grid ["batch*4", "4", "1"] block [256, 1, 1]
// SCHED64-SAME: outs(%[[W]]#0, %[[W]]#1 :
// SCHED64-SAME: when = "le(batch, 33)"

// The test pass with the engine's choice (132 SMs): H = 8, D = 128 gives
// 16 blocks of 64 columns per sequence, so up to 8 sequences run the
// 16-column kernel; H = 64 (128 blocks per sequence) only a single sequence.
// AUTO8-DAG: mm01.lightning_decode = "kernel=lightning_decode_h8_d128_bf16_c64_t512 H=8 D=128 elt=bf16 silu=0 cols=64 threads=512 q=1024,128 k=1024,128 v=1024,128 out=1024,128 grid=batch*8,2,1 params=q,k,v,state,out"
// AUTO8-DAG: mm01.lightning_decode_small = "kernel=lightning_decode_h8_d128_bf16_c16_t512 H=8 D=128 elt=bf16 silu=0 cols=16 threads=512 q=1024,128 k=1024,128 v=1024,128 out=1024,128 grid=batch*8,8,1 params=q,k,v,state,out batch_max=8"
// AUTO8-DAG: gpu.func @lightning_decode_h8_d128_bf16_c64_t512(
// AUTO8-DAG: gpu.func @lightning_decode_h8_d128_bf16_c16_t512(
// AUTO64: mm01.lightning_decode_small = "kernel=lightning_decode_h64_d128_bf16_c16_t512 {{.*}} batch_max=1"
// AUTO-ALLSMALL-NOT: mm01.lightning_decode_small
// AUTO-ALLSMALL: mm01.lightning_decode = "kernel=lightning_decode_h8_d128_bf16_c16_t512
// AUTO-ALLSMALL-NOT: mm01.lightning_decode_small
// ERR-SMALL: small-batch-max = 4 must be in [0, max-batch = 4)

// Without SiLU, a thread's R = 4 rows (i = rg * 4 + r) are contiguous: k_i
// and q_i of all four come as one 4-element vector each, after the state
// loads, instead of 8 scalar loads.
// QKVEC: gpu.func @lightning_decode_h8_d128_bf16_c64_t512(
// QKVEC: vector.load %arg2[%{{.*}}] {alignment = 8 : i64} : memref<{{[0-9]+}}xbf16>, vector<4xbf16>
// QKVEC-COUNT-4: vector.load %arg3[%{{.*}}] {alignment = 16 : i64} : memref<{{[0-9]+}}xf32>, vector<4xf32>
// QKVEC: vector.load %arg1[%{{.*}}] {alignment = 8 : i64} : memref<{{[0-9]+}}xbf16>, vector<4xbf16>
// QKVEC: vector.load %arg0[%{{.*}}] {alignment = 8 : i64} : memref<{{[0-9]+}}xbf16>, vector<4xbf16>
// QKVEC-NOT: memref.load %arg0
// QKVEC-NOT: memref.load %arg1
// QKVEC: gpu.return
// One row per thread (R = 1): q_i and k_i stay scalars.
// QKSCALAR: gpu.func @lightning_decode_h8_d128_bf16_c16_t512(
// QKSCALAR: vector.load %arg3
// QKSCALAR: memref.load %arg1
// QKSCALAR: memref.load %arg0
// QKSCALAR-NOT: vector.load %arg0
// QKSCALAR-NOT: vector.load %arg1
// QKSCALAR: gpu.return
