// RUN: mm01-opt %s -mm01-outline-loops | FileCheck %s

// Each top-level loop nest moves into a private noinline function; nests
// with the same code share one. Constants and views are cloned into the
// callee (trip counts stay static, and each memref argument is a whole
// buffer), other values become arguments. Buffers that are allocations or the
// caller's arguments are listed in mm01.noalias_args.

// CHECK-LABEL: func.func private @f__loop0
// CHECK-SAME: (%[[SRC:.*]]: memref<4x8xf32>, %[[DST:.*]]: memref<4x8xf32>)
// CHECK-SAME: attributes {mm01.noalias_args = array<i64: 0, 1>, passthrough = ["noinline"]}
// CHECK-DAG: arith.constant 4 : index
// CHECK-DAG: arith.constant 8 : index
// CHECK: scf.for
// CHECK: scf.for
// CHECK: memref.load %[[SRC]]
// CHECK: memref.store %{{.*}}, %[[DST]]

// The subview of %b is rebuilt inside; only %b is passed.
// CHECK-LABEL: func.func private @f__loop1
// CHECK-SAME: (%[[BUF:.*]]: memref<4x8xf32>) attributes {mm01.noalias_args = array<i64: 0>, passthrough = ["noinline"]}
// CHECK: %[[VIEW:.*]] = memref.subview %[[BUF]][0, 0] [4, 4] [1, 1]
// CHECK: memref.load %[[BUF]]
// CHECK: memref.store %{{.*}}, %[[VIEW]]

// CHECK-LABEL: func.func @f
// CHECK-SAME: (%[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<4x8xf32>, %[[C:.*]]: memref<4x8xf32>)
// CHECK: %[[T:.*]] = memref.alloc()
// CHECK-NEXT: call @f__loop0(%[[A]], %[[T]])
// CHECK-NEXT: call @f__loop0(%[[T]], %[[B]])
// CHECK: memref.subview %[[B]]
// CHECK-NEXT: call @f__loop0(%[[T]], %[[C]])
// CHECK-NEXT: call @f__loop1(%[[B]])
// CHECK-NEXT: memref.dealloc %[[T]]
// CHECK-NOT: scf.for
func.func @f(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %c: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %t = memref.alloc() : memref<4x8xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      %v = memref.load %a[%i, %j] : memref<4x8xf32>
      memref.store %v, %t[%i, %j] : memref<4x8xf32>
    }
  }
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      %v = memref.load %t[%i, %j] : memref<4x8xf32>
      memref.store %v, %b[%i, %j] : memref<4x8xf32>
    }
  }
  %sub = memref.subview %b[0, 0] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1]>>
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      %v = memref.load %t[%i, %j] : memref<4x8xf32>
      memref.store %v, %c[%i, %j] : memref<4x8xf32>
    }
  }
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c4 step %c1 {
      %v = memref.load %b[%i, %j] : memref<4x8xf32>
      memref.store %v, %sub[%j, %i] : memref<4x4xf32, strided<[8, 1]>>
    }
  }
  memref.dealloc %t : memref<4x8xf32>
  return
}
