// RUN: mm01-opt %s -mm01-cpu-pipeline | FileCheck %s
// RUN: mm01-opt %s -mm01-cpu-pipeline | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR

// The whole CPU pipeline on a small model-level function: a decoder layer
// (inlined), lightning attention (lowered by the AttentionToLinalg passes),
// and weights that become arguments. Everything ends in the LLVM dialect.

// Loop nests live in private noinline functions, with noalias pointers and
// vectorisation hints where they apply.
// CHECK: llvm.func @prefill__loop0(%{{.*}}: !llvm.ptr {llvm.noalias}
// CHECK-SAME: passthrough = ["noinline"]
// CHECK: llvm.br {{.*}} {loop_annotation = #{{.*}}}
// No runtime-library copies.
// CHECK-NOT: llvm.call @memrefCopy

// The entry point keeps the weight list and takes one pointer per buffer
// (bare-pointer convention): ids, state, 3 weights, then the 2 outputs.
// CHECK: llvm.func @prefill(%{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr)
// CHECK-SAME: mm01.weights = ["model.embed_tokens.weight", "model.layers.0.self_attn.qkv_proj.weight", "lm_head.weight"]
// CHECK-SAME: passthrough = ["noinline"]
// CHECK-NOT: = mm01.
// CHECK-NOT: memref.
// CHECK-NOT: linalg.
// CHECK-NOT: scf.

// LLVMIR: define void @prefill(ptr
// LLVMIR-DAG: !{!"llvm.loop.vectorize.enable", i1 true}
// LLVMIR-DAG: !{!"llvm.loop.vectorize.width", i32 16}
func.func @prefill(%ids: tensor<1x4xi64>, %s: tensor<1x2x4x4xf32>)
    -> (tensor<1x4x16xf32>, tensor<1x2x4x4xf32>) {
  %t = mm01.weight "model.embed_tokens.weight" : tensor<16x8xbf16>
  %x = mm01.embedding %t[%ids] : tensor<16x8xbf16>, tensor<1x4xi64> -> tensor<1x4x8xf32>
  %y, %s1 = mm01.decoder_layer 0 <lightning> (%x, %s)
      : (tensor<1x4x8xf32>, tensor<1x2x4x4xf32>) -> (tensor<1x4x8xf32>, tensor<1x2x4x4xf32>) {
  ^bb0(%a: tensor<1x4x8xf32>, %st: tensor<1x2x4x4xf32>):
    %w = mm01.weight "model.layers.0.self_attn.qkv_proj.weight" : tensor<24x8xbf16>
    %qkv = mm01.linear %a, %w : tensor<1x4x8xf32>, tensor<24x8xbf16> -> tensor<1x4x24xf32>
    %q, %k, %v = mm01.split_qkv %qkv : tensor<1x4x24xf32> -> tensor<1x4x2x4xf32>
    %o, %st1 = mm01.lightning_attention %q, %k, %v, %st decay([0.5, 0.25])
        : tensor<1x4x2x4xf32>, tensor<1x2x4x4xf32>
    %m = mm01.merge_heads %o : tensor<1x4x2x4xf32> -> tensor<1x4x8xf32>
    mm01.yield %m, %st1 : tensor<1x4x8xf32>, tensor<1x2x4x4xf32>
  }
  %lm = mm01.weight "lm_head.weight" : tensor<16x8xbf16>
  %logits = mm01.linear %y, %lm : tensor<1x4x8xf32>, tensor<16x8xbf16> -> tensor<1x4x16xf32>
  return %logits, %s1 : tensor<1x4x16xf32>, tensor<1x2x4x4xf32>
}
