// The mm01-gpu-codegen pipeline down to PTX (format=isa: no CUDA needed).
// RUN: mm01-opt %s --mm01-gpu-codegen | FileCheck %s
// Other chips need their own PTX version.
// RUN: mm01-opt %s --mm01-gpu-codegen="chip=sm_90 features=+ptx80 block-columns=32 threads=128" | FileCheck %s --check-prefix=SM90

// The kernel becomes a gpu.binary holding PTX, the host side keeps the launch.
// CHECK: gpu.binary @mm01_lightning_decode  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, properties = {{.*}}assembly = "
// CHECK-SAME: .version 8.0
// CHECK-SAME: .target sm_90a
// decay table: 8 f32 = 32 bytes, in global memory
// CHECK-SAME: .global .align 16 .b8 lightning_decode_h8_d128_bf16_c64_t256_decay[32]
// CHECK-SAME: .visible .entry lightning_decode_h8_d128_bf16_c64_t256(
// 5 memrefs of rank 4 = 55 parameters (allocated, aligned, offset, 4 sizes, 4 strides)
// CHECK-SAME: lightning_decode_h8_d128_bf16_c64_t256_param_54
// CHECK-SAME: .maxntid 256, 1, 1
// CHECK-SAME: .shared .align 16 .b8 __wg_lightning_decode_h8_d128_bf16_c64_t256_0[2048]
// CHECK-SAME: ld.global.nc.b32
// v: 4 bf16 in one 8-byte load
// CHECK-SAME: ld.global.v4.b16
// state: 16-byte loads, 8 rows per thread, all loads before the first store
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: fma.rn.f32
// CHECK-SAME: st.global.v4.b32
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: st.shared.v4.b32
// CHECK-SAME: bar.sync
// CHECK-SAME: ld.shared.v4.b32
// o: 4 bf16 in one 8-byte store
// CHECK-SAME: cvt.rn.bf16x2.f32
// CHECK-SAME: st.global.v2.b32
// CHECK-NOT: ld.local
// CHECK-NOT: st.local
// CHECK: func.func private @lightning_decode_h8_d128_bf16_c64_t256_launch_b1(
// CHECK:   gpu.launch_func  @mm01_lightning_decode::@lightning_decode_h8_d128_bf16_c64_t256

// SM90: .target sm_90
// SM90-SAME: .entry lightning_decode_h8_d128_bf16_c32_t128(
func.func @decode(%q: tensor<1x1x8x128xbf16>, %k: tensor<1x1x8x128xbf16>,
    %v: tensor<1x1x8x128xbf16>, %s: tensor<1x8x128x128xf32>)
    -> (tensor<1x1x8x128xbf16>, tensor<1x8x128x128xf32>) {
  %o, %s1 = mm01.lightning_decode %q, %k, %v, %s
      decay([0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625])
      : tensor<1x1x8x128xbf16>, tensor<1x8x128x128xf32>
  return %o, %s1 : tensor<1x1x8x128xbf16>, tensor<1x8x128x128xf32>
}
