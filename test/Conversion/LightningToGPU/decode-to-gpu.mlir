// RUN: mm01-opt %s --mm01-lightning-decode-to-gpu -split-input-file | FileCheck %s
// RUN: mm01-opt %s --mm01-lightning-decode-to-gpu="block-columns=32 threads=32" -split-input-file | FileCheck %s --check-prefix=ONEWARP

// f32, static B = 2: the tensor op becomes a bufferization boundary around a
// call of the host launch function; the kernel lives in a gpu.module.

// CHECK: module attributes {gpu.container_module}
// CHECK-LABEL: func.func @decode_f32(
// CHECK-DAG:  %[[Q:.*]] = bufferization.to_buffer %arg0 read_only : tensor<2x1x2x64xf32> to memref<2x1x2x64xf32>
// CHECK-DAG:  %[[K:.*]] = bufferization.to_buffer %arg1 read_only
// CHECK-DAG:  %[[V:.*]] = bufferization.to_buffer %arg2 read_only
// CHECK-DAG:  %[[S0:.*]] = bufferization.to_buffer %arg3 read_only : tensor<2x2x64x64xf32> to memref<2x2x64x64xf32>
// CHECK:      %[[S:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x2x64x64xf32>
// CHECK:      memref.copy %[[S0]], %[[S]]
// CHECK:      %[[O:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x1x2x64xf32>
// CHECK:      call @lightning_decode_h2_d64_f32_c64_t256_launch_b2(%[[Q]], %[[K]], %[[V]], %[[S]], %[[O]])
// CHECK:      %[[OT:.*]] = bufferization.to_tensor %[[O]] restrict writable
// CHECK:      %[[ST:.*]] = bufferization.to_tensor %[[S]] restrict writable
// CHECK:      return %[[OT]], %[[ST]]
// CHECK-NOT:  mm01.lightning_decode

// CHECK: gpu.module @mm01_lightning_decode {
// CHECK:   memref.global "private" constant @lightning_decode_h2_d64_f32_c64_t256_decay : memref<2xf32> = dense<[0.93941307, 0.996101379]>
// CHECK:   gpu.func @lightning_decode_h2_d64_f32_c64_t256(%{{.*}}: memref<?x1x2x64xf32>, %{{.*}}: memref<?x1x2x64xf32>, %{{.*}}: memref<?x1x2x64xf32>, %{{.*}}: memref<?x2x64x64xf32>, %{{.*}}: memref<?x1x2x64xf32>)
// CHECK-SAME:  workgroup(%[[SMEM:[a-z0-9]*]] : memref<8x64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-SAME:  kernel attributes {known_block_size = array<i32: 256, 1, 1>}
// CHECK:     gpu.thread_id x
// CHECK:     gpu.block_id x
// CHECK:     gpu.block_id y
// CHECK:     memref.get_global @lightning_decode_h2_d64_f32_c64_t256_decay
// 4 rows per thread (D / (256 / (64 / 4))): 4 state vector loads, then 4 stores.
// CHECK-COUNT-4: vector.load %arg3[{{.*}}] {alignment = 16 : i64} : memref<?x2x64x64xf32>, vector<4xf32>
// CHECK:         vector.fma
// CHECK:         vector.store {{.*}}, %arg3[{{.*}}] {alignment = 16 : i64}
// 16 column groups: butterfly offsets 16 only, for each of the 4 lanes.
// CHECK-COUNT-4: gpu.shuffle  xor %{{.*}}, %c16_i32
// CHECK-NOT:     gpu.shuffle
// CHECK:         vector.store {{.*}}, %[[SMEM]]
// CHECK:         gpu.barrier
// CHECK:         scf.if
// CHECK-COUNT-8:   vector.load %[[SMEM]]
// CHECK:           vector.store {{.*}}, %arg4[{{.*}}] {alignment = 16 : i64} : memref<?x1x2x64xf32>, vector<4xf32>
// CHECK:     gpu.return

// CHECK:      func.func private @lightning_decode_h2_d64_f32_c64_t256_launch_b2(%arg0: memref<2x1x2x64xf32>, %arg1: memref<2x1x2x64xf32>, %arg2: memref<2x1x2x64xf32>, %arg3: memref<2x2x64x64xf32>, %arg4: memref<2x1x2x64xf32>)
// CHECK-DAG:    %[[GX:.*]] = arith.muli %{{.*}}, %{{.*}} : index
// CHECK-DAG:    memref.cast %arg0 : memref<2x1x2x64xf32> to memref<?x1x2x64xf32>
// CHECK:        gpu.launch_func  @mm01_lightning_decode::@lightning_decode_h2_d64_f32_c64_t256 blocks in (%[[GX]], %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}})  args(

// With one warp per block there is no workgroup memory: the whole
// reduction is gpu.shuffle (8 column groups: offsets 8 and 16).
// ONEWARP:     gpu.func @lightning_decode_h2_d64_f32_c32_t32(
// ONEWARP-NOT: workgroup
// ONEWARP-SAME: known_block_size = array<i32: 32, 1, 1>
// ONEWARP-COUNT-16: vector.load %arg3
// ONEWARP-COUNT-4: gpu.shuffle  xor %{{.*}}, %c8_i32
// ONEWARP-NOT:  gpu.barrier
// ONEWARP:      gpu.return
func.func @decode_f32(%q: tensor<2x1x2x64xf32>, %k: tensor<2x1x2x64xf32>,
    %v: tensor<2x1x2x64xf32>, %s: tensor<2x2x64x64xf32>)
    -> (tensor<2x1x2x64xf32>, tensor<2x2x64x64xf32>) {
  %o, %s1 = mm01.lightning_decode %q, %k, %v, %s decay([0.0625, 0.00390625])
      : tensor<2x1x2x64xf32>, tensor<2x2x64x64xf32>
  return %o, %s1 : tensor<2x1x2x64xf32>, tensor<2x2x64x64xf32>
}

// -----

// bf16, dynamic B; two ops with the same rates share one kernel, a third op
// with other rates gets a second kernel (suffix _1). bf16 is extended to f32
// and o is truncated back.

// CHECK-LABEL: func.func @decode_bf16(
// CHECK:      %[[Q:.*]] = bufferization.to_buffer %arg0 read_only : tensor<?x1x4x128xbf16> to memref<?x1x4x128xbf16>
// CHECK:      %[[B:.*]] = memref.dim %[[Q]], %c0
// CHECK:      memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x4x128x128xf32>
// CHECK:      memref.alloc(%[[B]]) {alignment = 64 : i64} : memref<?x1x4x128xbf16>
// CHECK:      call @lightning_decode_h4_d128_bf16_c64_t256_launch(
// CHECK:      call @lightning_decode_h4_d128_bf16_c64_t256_launch(
// CHECK:      call @lightning_decode_h4_d128_bf16_c64_t256_1_launch(
// CHECK: gpu.module @mm01_lightning_decode
// CHECK:   gpu.func @lightning_decode_h4_d128_bf16_c64_t256(
// CHECK:     vector.load %arg2[{{.*}}] {alignment = 8 : i64} : memref<?x1x4x128xbf16>, vector<4xbf16>
// CHECK:     arith.extf %{{.*}} : vector<4xbf16> to vector<4xf32>
// CHECK:     arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// CHECK:     vector.store %{{.*}}, %arg4[{{.*}}] {alignment = 8 : i64} : memref<?x1x4x128xbf16>, vector<4xbf16>
// CHECK:   gpu.func @lightning_decode_h4_d128_bf16_c64_t256_1(
// CHECK-NOT: gpu.func
// CHECK:      func.func private @lightning_decode_h4_d128_bf16_c64_t256_launch(%arg0: memref<?x1x4x128xbf16>,
// CHECK:        %[[DB:.*]] = memref.dim %arg0, %c0
// CHECK:        %[[GX:.*]] = arith.muli %[[DB]], %c4
// CHECK:        gpu.launch_func  @mm01_lightning_decode::@lightning_decode_h4_d128_bf16_c64_t256 blocks in (%[[GX]], %c2, %c1) threads in (%c256, %c1, %c1)
// CHECK:      func.func private @lightning_decode_h4_d128_bf16_c64_t256_1_launch(
func.func @decode_bf16(%q: tensor<?x1x4x128xbf16>, %k: tensor<?x1x4x128xbf16>,
    %v: tensor<?x1x4x128xbf16>, %s: tensor<?x4x128x128xf32>)
    -> (tensor<?x1x4x128xbf16>, tensor<?x4x128x128xf32>, tensor<?x4x128x128xf32>) {
  %o, %s1 = mm01.lightning_decode %q, %k, %v, %s decay([0.5, 0.25, 0.125, 0.0625])
      : tensor<?x1x4x128xbf16>, tensor<?x4x128x128xf32>
  %o2, %s2 = mm01.lightning_decode %o, %k, %v, %s1 decay([0.5, 0.25, 0.125, 0.0625])
      : tensor<?x1x4x128xbf16>, tensor<?x4x128x128xf32>
  %o3, %s3 = mm01.lightning_decode %o2, %k, %v, %s decay([0.5, 0.25, 0.125, 0.03125])
      : tensor<?x1x4x128xbf16>, tensor<?x4x128x128xf32>
  return %o3, %s2, %s3 : tensor<?x1x4x128xbf16>, tensor<?x4x128x128xf32>, tensor<?x4x128x128xf32>
}
