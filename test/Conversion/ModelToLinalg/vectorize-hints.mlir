// RUN: mm01-opt %s -mm01-vectorize-hints | FileCheck %s

// CHECK: #[[VEC:.*]] = #llvm.loop_vectorize<disable = false, width = 16 : i32>
// CHECK: #[[ANN:.*]] = #llvm.loop_annotation<vectorize = #[[VEC]]>

// An axpy row (stores at the induction variable): vectorise.
// CHECK-LABEL: func.func @axpy
// CHECK: scf.for
// CHECK: scf.for
// CHECK: } {llvm.loop = #[[ANN]]}
// CHECK-NEXT: }
// CHECK-NEXT: return
func.func @axpy(%x: memref<8xf32>, %w: memref<8x16xf32>, %y: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  scf.for %k = %c0 to %c8 step %c1 {
    scf.for %n = %c0 to %c16 step %c1 {
      %a = memref.load %x[%k] : memref<8xf32>
      %b = memref.load %w[%k, %n] : memref<8x16xf32>
      %acc = memref.load %y[%n] : memref<16xf32>
      %p = arith.mulf %a, %b : f32
      %s = arith.addf %acc, %p : f32
      memref.store %s, %y[%n] : memref<16xf32>
    }
  }
  return
}

// A dot product accumulates into one address: no hint (no reassociation).
// CHECK-LABEL: func.func @dot
// CHECK-NOT: llvm.loop
// CHECK: return
func.func @dot(%x: memref<8xf32>, %y: memref<8xf32>, %out: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %k = %c0 to %c8 step %c1 {
    %a = memref.load %x[%k] : memref<8xf32>
    %b = memref.load %y[%k] : memref<8xf32>
    %acc = memref.load %out[] : memref<f32>
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    memref.store %s, %out[] : memref<f32>
  }
  return
}

// A call in the body: no hint.
// CHECK-LABEL: func.func @with_call
// CHECK-NOT: llvm.loop
// CHECK: return
func.func private @g(f32) -> f32
func.func @with_call(%x: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %k = %c0 to %c8 step %c1 {
    %a = memref.load %x[%k] : memref<8xf32>
    %b = func.call @g(%a) : (f32) -> f32
    memref.store %b, %x[%k] : memref<8xf32>
  }
  return
}
