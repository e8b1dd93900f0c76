// RUN: mm01-opt %s -split-input-file -mm01-runner-abi -verify-diagnostics | FileCheck %s
// RUN: mm01-opt %s -split-input-file -mm01-runner-abi -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" -verify-diagnostics | FileCheck %s --check-prefix=BUF

// Public functions get read-only arguments and stay out of line; private
// ones are left alone.
// CHECK-LABEL: func.func @f
// CHECK-SAME: (%{{.*}}: tensor<4xf32> {bufferization.writable = false}, %{{.*}}: tensor<4xf32> {bufferization.writable = false})
// CHECK-SAME: attributes {passthrough = ["noinline"]}
// CHECK-LABEL: func.func private @helper(%{{.*}}: tensor<4xf32>) -> tensor<4xf32> {

// The in-place candidate (the elementwise result could reuse %a's buffer)
// gets a fresh buffer instead: the caller's input stays untouched.
// BUF-LABEL: func.func @f
// BUF-SAME: (%[[A:.*]]: memref<4xf32>, %[[B:.*]]: memref<4xf32>)
// BUF: %[[NEW:.*]] = memref.alloc()
// BUF: linalg.generic {{.*}} outs(%[[NEW]] : memref<4xf32>)
// BUF: return %[[NEW]]
#id = affine_map<(i) -> (i)>
func.func @f(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%b : tensor<4xf32>) outs(%a : tensor<4xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

// expected-error @below {{argument 0 of @dynamic has type 'tensor<?x4xf32>': the CPU pipeline passes buffers as bare pointers and needs static shapes}}
func.func @dynamic(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %x : tensor<?x4xf32>
}

// -----

// expected-error @below {{argument 0 of @printMemrefF32 has type 'memref<*xf32>'}}
func.func private @printMemrefF32(memref<*xf32>)
