// REQUIRES: mlir-runner
// RUN: mm01-opt %s -mm01-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN:   | FileCheck %s

// Numbers through the whole CPU pipeline and the stock mlir-runner. (The
// pipeline passes memrefs as bare pointers, so results are printed element
// by element with the scalar print functions of the runner utils.)

func.func private @printF32(f32)
func.func private @printI64(i64)
func.func private @printComma()
func.func private @printNewline()


func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index

  // rms_norm: row 0 has rms sqrt(7.5), row 1 sqrt(17.0625).
  // CHECK:      0.365148, 0.730296, 2.19089, 0.730296,
  // CHECK-NEXT: -0.484182, 0.121045, 0, 0.968364,
  %x = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [-2.0, 0.5, 0.0, 8.0]]> : tensor<2x4xf32>
  %w = arith.constant dense<[1.0, 1.0, 2.0, 0.5]> : tensor<4xbf16>
  %y = mm01.rms_norm %x, %w eps(1.0e-5) : tensor<2x4xf32>, tensor<4xbf16>
  %ym = bufferization.to_buffer %y : tensor<2x4xf32> to memref<2x4xf32>
  scf.for %i = %c0 to %c2 step %c1 {
    scf.for %j = %c0 to %c4 step %c1 {
      %v = memref.load %ym[%i, %j] : memref<2x4xf32>
      func.call @printF32(%v) : (f32) -> ()
      func.call @printComma() : () -> ()
    }
    func.call @printNewline() : () -> ()
  }

  // moe_route with ties: the lower expert index wins; weights renormalised.
  // CHECK-NEXT: 1, 0.5, 2, 0.5,
  // CHECK-NEXT: 0, 0.5, 1, 0.5,
  // CHECK-NEXT: 2, 0.5, 3, 0.5,
  %l = arith.constant dense<[[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, 2.0, 2.0], [0.0, 1.0, 2.0, 2.0]]> : tensor<3x4xf32>
  %rw, %re = mm01.moe_route %l top_k(2) : tensor<3x4xf32> -> tensor<3x2xf32>, tensor<3x2xi64>
  %rwm = bufferization.to_buffer %rw : tensor<3x2xf32> to memref<3x2xf32>
  %rem = bufferization.to_buffer %re : tensor<3x2xi64> to memref<3x2xi64>
  scf.for %i = %c0 to %c3 step %c1 {
    scf.for %j = %c0 to %c2 step %c1 {
      %e = memref.load %rem[%i, %j] : memref<3x2xi64>
      func.call @printI64(%e) : (i64) -> ()
      func.call @printComma() : () -> ()
      %v = memref.load %rwm[%i, %j] : memref<3x2xf32>
      func.call @printF32(%v) : (f32) -> ()
      func.call @printComma() : () -> ()
    }
    func.call @printNewline() : () -> ()
  }
  return
}
