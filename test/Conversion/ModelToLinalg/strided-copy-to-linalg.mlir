// RUN: mm01-opt %s -mm01-strided-copy-to-linalg | FileCheck %s

// A copy out of a strided view becomes linalg.copy (loops later), not a call
// to memrefCopy; a copy between identity layouts stays a memref.copy.
// CHECK-LABEL: func.func @copies
// CHECK: linalg.copy ins(%{{.*}} : memref<2x4xf32, strided<[12, 1], offset: 4>>) outs(%{{.*}} : memref<2x4xf32>)
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<2x4xf32> to memref<2x4xf32>
func.func @copies(%src: memref<2x12xf32>, %dst: memref<2x4xf32>, %dst2: memref<2x4xf32>) {
  %v = memref.subview %src[0, 4] [2, 4] [1, 1] : memref<2x12xf32> to memref<2x4xf32, strided<[12, 1], offset: 4>>
  memref.copy %v, %dst : memref<2x4xf32, strided<[12, 1], offset: 4>> to memref<2x4xf32>
  memref.copy %dst, %dst2 : memref<2x4xf32> to memref<2x4xf32>
  return
}
