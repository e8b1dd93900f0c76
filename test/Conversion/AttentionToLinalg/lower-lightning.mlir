// RUN: mm01-opt %s --mm01-lower-lightning=chunk-size=16 --split-input-file | FileCheck %s
// RUN: mm01-opt %s --mm01-lower-lightning --split-input-file | FileCheck %s --check-prefix=DEFAULT

// T = 37 with chunks of 16: a loop over the two full chunks, then a tail of 5.
// Maps of the batch_matmuls over (bh, i, j, k) and of the per-head tables (bh mod H).
// CHECK-DAG: #[[A_IK:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[B_JK:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG: #[[C_IJ:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[A_KI:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>
// CHECK-DAG: #[[B_KJ:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[HEAD_IJ:.*]] = affine_map<(d0, d1, d2) -> (d0 mod 2, d1, d2)>
// CHECK-DAG: #[[HEAD_I:.*]] = affine_map<(d0, d1, d2) -> (d0 mod 2, d1)>
// CHECK-DAG: #[[HEAD:.*]] = affine_map<(d0, d1, d2) -> (d0 mod 2)>

// CHECK-LABEL: func.func @prefill_tail
// CHECK-SAME: %[[QIN:[^:]*]]: tensor<2x37x2x8xf32>, %[[KIN:[^:]*]]: tensor<2x37x2x8xf32>, %[[VIN:[^:]*]]: tensor<2x37x2x8xf32>, %[[S0:[^:]*]]: tensor<2x2x8x8xf32>
// [B, T, H, D] -> f32 [B, H, T, D] -> [B*H, T, D]
// CHECK: linalg.generic {{.*}} ins(%[[QIN]] : tensor<2x37x2x8xf32>) outs(%{{.*}} : tensor<2x2x37x8xf32>)
// CHECK: %[[Q:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2], [3]] : tensor<2x2x37x8xf32> into tensor<4x37x8xf32>
// CHECK: %[[K:.*]] = tensor.collapse_shape
// CHECK: %[[V:.*]] = tensor.collapse_shape
// CHECK: %[[S:.*]] = tensor.collapse_shape %[[S0]] {{\[}}[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
// The decay rates, and the tables of a full chunk computed from them.
// CHECK: %[[LAMBDA:.*]] = arith.constant dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf64>
// CHECK: %[[OUT0:.*]] = tensor.empty() : tensor<4x37x8xf32>
// M[h, i, j] = i >= j ? exp(-λ (i - j)) : 0
// CHECK: %[[MASK:.*]] = linalg.generic {{.*}} ins(%[[LAMBDA]] : tensor<2xf64>) outs(%{{.*}} : tensor<2x16x16xf32>)
// CHECK: arith.cmpi sge
// CHECK: arith.subi
// CHECK: math.exp %{{.*}} : f64
// CHECK: arith.select
// CHECK: %[[QDEC:.*]] = linalg.generic {{.*}} ins(%[[LAMBDA]] : tensor<2xf64>) outs(%{{.*}} : tensor<2x16xf32>)
// CHECK: arith.addi
// CHECK: math.exp
// CHECK: %[[KDEC:.*]] = linalg.generic {{.*}} ins(%[[LAMBDA]] : tensor<2xf64>) outs(%{{.*}} : tensor<2x16xf32>)
// CHECK: arith.constant 15 : index
// CHECK: math.exp
// CHECK: %[[SDEC:.*]] = linalg.generic {{.*}} ins(%[[LAMBDA]] : tensor<2xf64>) outs(%{{.*}} : tensor<2xf32>)
// CHECK: arith.constant 1.600000e+01 : f64
// CHECK: math.exp
// The chunk loop over the two full chunks, carrying the state and the output.
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK: %[[LOOP:.*]]:2 = scf.for %[[T0:.*]] = %[[C0]] to %[[C32]] step %[[C16]] iter_args(%[[SP:.*]] = %[[S]], %[[OP:.*]] = %[[OUT0]]) -> (tensor<4x8x8xf32>, tensor<4x37x8xf32>) {
// CHECK:   %[[QC:.*]] = tensor.extract_slice %[[Q]][0, %[[T0]], 0] [4, 16, 8] [1, 1, 1] : tensor<4x37x8xf32> to tensor<4x16x8xf32>
// CHECK:   %[[KC:.*]] = tensor.extract_slice %[[K]][0, %[[T0]], 0] [4, 16, 8] [1, 1, 1]
// CHECK:   %[[VC:.*]] = tensor.extract_slice %[[V]][0, %[[T0]], 0] [4, 16, 8] [1, 1, 1]
// Intra-chunk: ((Q K^T) * M) V
// CHECK:   %[[QK:.*]] = linalg.batch_matmul indexing_maps = [#[[A_IK]], #[[B_JK]], #[[C_IJ]]] ins(%[[QC]], %[[KC]] : tensor<4x16x8xf32>, tensor<4x16x8xf32>) outs(%{{.*}} : tensor<4x16x16xf32>)
// CHECK:   %[[QKM:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[HEAD_IJ]], #[[ID3]]], {{.*}}} ins(%[[QK]], %[[MASK]] : tensor<4x16x16xf32>, tensor<2x16x16xf32>)
// CHECK:     arith.mulf
// CHECK:   %[[INTRA:.*]] = linalg.batch_matmul ins(%[[QKM]], %[[VC]] : tensor<4x16x16xf32>, tensor<4x16x8xf32>) outs(%{{.*}} : tensor<4x16x8xf32>)
// Inter-chunk: + (Q * e^{-λ(i+1)}) S_prev, accumulated onto the intra part.
// CHECK:   %[[QD:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[HEAD_I]], #[[ID3]]], {{.*}}} ins(%[[QC]], %[[QDEC]] : tensor<4x16x8xf32>, tensor<2x16xf32>)
// CHECK:   %[[O:.*]] = linalg.batch_matmul ins(%[[QD]], %[[SP]] : tensor<4x16x8xf32>, tensor<4x8x8xf32>) outs(%[[INTRA]] : tensor<4x16x8xf32>)
// State update: e^{-λm} S_prev (in place) + (K * e^{-λ(m-1-j)})^T V.
// CHECK:   %[[SD:.*]] = linalg.generic {indexing_maps = [#[[HEAD]], #[[ID3]]], {{.*}}} ins(%[[SDEC]] : tensor<2xf32>) outs(%[[SP]] : tensor<4x8x8xf32>)
// CHECK:   %[[KD:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[HEAD_I]], #[[ID3]]], {{.*}}} ins(%[[KC]], %[[KDEC]] : tensor<4x16x8xf32>, tensor<2x16xf32>)
// CHECK:   %[[SN:.*]] = linalg.batch_matmul indexing_maps = [#[[A_KI]], #[[B_KJ]], #[[C_IJ]]] ins(%[[KD]], %[[VC]] : tensor<4x16x8xf32>, tensor<4x16x8xf32>) outs(%[[SD]] : tensor<4x8x8xf32>)
// CHECK:   %[[ON:.*]] = tensor.insert_slice %[[O]] into %[[OP]][0, %[[T0]], 0] [4, 16, 8] [1, 1, 1] : tensor<4x16x8xf32> into tensor<4x37x8xf32>
// CHECK:   scf.yield %[[SN]], %[[ON]] : tensor<4x8x8xf32>, tensor<4x37x8xf32>
// CHECK: }
// The static tail chunk of 5 tokens at offset 32, with its own tables.
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x5x5xf32>)
// CHECK: %[[QT:.*]] = tensor.extract_slice %[[Q]][0, 32, 0] [4, 5, 8] [1, 1, 1] : tensor<4x37x8xf32> to tensor<4x5x8xf32>
// CHECK: linalg.batch_matmul {{.*}} ins(%[[QT]], %{{.*}} : tensor<4x5x8xf32>, tensor<4x5x8xf32>) outs(%{{.*}} : tensor<4x5x5xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %[[LOOP]]#0 : tensor<4x5x8xf32>, tensor<4x8x8xf32>)
// CHECK: linalg.generic {{.*}} outs(%[[LOOP]]#0 : tensor<4x8x8xf32>)
// CHECK: %[[SF:.*]] = linalg.batch_matmul indexing_maps = [#[[A_KI]], #[[B_KJ]], #[[C_IJ]]]
// CHECK: %[[OF:.*]] = tensor.insert_slice %{{.*}} into %[[LOOP]]#1[0, 32, 0] [4, 5, 8] [1, 1, 1]
// Back to [B, T, H, D] and [B, H, D, D].
// CHECK: %[[OE:.*]] = tensor.expand_shape %[[OF]] {{\[}}[0, 1], [2], [3]] output_shape [2, 2, 37, 8] : tensor<4x37x8xf32> into tensor<2x2x37x8xf32>
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[OE]] : tensor<2x2x37x8xf32>) outs(%{{.*}} : tensor<2x37x2x8xf32>)
// CHECK: %[[SOUT:.*]] = tensor.expand_shape %[[SF]] {{\[}}[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
// CHECK: return %[[OUT]], %[[SOUT]]
// CHECK-NOT: mm01.lightning_attention
func.func @prefill_tail(%q: tensor<2x37x2x8xf32>, %k: tensor<2x37x2x8xf32>,
                        %v: tensor<2x37x2x8xf32>, %s: tensor<2x2x8x8xf32>)
    -> (tensor<2x37x2x8xf32>, tensor<2x2x8x8xf32>) {
  %o, %s1 = mm01.lightning_attention %q, %k, %v, %s decay([0.5, 0.25])
      : tensor<2x37x2x8xf32>, tensor<2x2x8x8xf32>
  return %o, %s1 : tensor<2x37x2x8xf32>, tensor<2x2x8x8xf32>
}

// -----

// T = 32: full chunks only, no tail.
// CHECK-LABEL: func.func @prefill_no_tail
// CHECK: %[[LOOP:.*]]:2 = scf.for %{{.*}} = %{{.*}} to %c32 step %c16
// CHECK: linalg.batch_matmul
// CHECK: scf.yield
// CHECK: }
// CHECK-NOT: linalg.batch_matmul
// CHECK: tensor.expand_shape %[[LOOP]]#1
// CHECK: tensor.expand_shape %[[LOOP]]#0
// CHECK: return
func.func @prefill_no_tail(%q: tensor<1x32x1x4xf32>, %s: tensor<1x1x4x4xf32>)
    -> (tensor<1x32x1x4xf32>, tensor<1x1x4x4xf32>) {
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.125])
      : tensor<1x32x1x4xf32>, tensor<1x1x4x4xf32>
  return %o, %s1 : tensor<1x32x1x4xf32>, tensor<1x1x4x4xf32>
}

// -----

// T = 5 < chunk: no loop, a single (tail) chunk; bf16 in, bf16 out, f32 inside.
// CHECK-LABEL: func.func @prefill_short_bf16
// CHECK-NOT: scf.for
// CHECK: ^bb0(%[[IN:.*]]: bf16, %{{.*}}: f32):
// CHECK-NEXT: %[[EXT:.*]] = arith.extf %[[IN]] : bf16 to f32
// CHECK-NEXT: linalg.yield %[[EXT]] : f32
// CHECK: outs(%{{.*}} : tensor<2x5x5xf32>)
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0] [2, 5, 4] [1, 1, 1]
// CHECK: linalg.batch_matmul
// CHECK: ^bb0(%[[OIN:.*]]: f32, %{{.*}}: bf16):
// CHECK-NEXT: %[[TR:.*]] = arith.truncf %[[OIN]] : f32 to bf16
// CHECK-NEXT: linalg.yield %[[TR]] : bf16
// CHECK-NEXT: } -> tensor<1x5x2x4xbf16>
// CHECK: return %{{.*}}, %{{.*}} : tensor<1x5x2x4xbf16>, tensor<1x2x4x4xf32>
func.func @prefill_short_bf16(%q: tensor<1x5x2x4xbf16>, %s: tensor<1x2x4x4xf32>)
    -> (tensor<1x5x2x4xbf16>, tensor<1x2x4x4xf32>) {
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.5, 0.25])
      : tensor<1x5x2x4xbf16>, tensor<1x2x4x4xf32>
  return %o, %s1 : tensor<1x5x2x4xbf16>, tensor<1x2x4x4xf32>
}

// -----

// The default chunk size is 64.
// CHECK-LABEL: func.func @prefill_default_chunk
// CHECK: scf.for %{{.*}} = %{{.*}} to %c128 step %c16
// CHECK: tensor.extract_slice %{{.*}}[0, 128, 0] [1, 2, 4] [1, 1, 1]
// DEFAULT-LABEL: func.func @prefill_default_chunk
// DEFAULT: scf.for %{{.*}} = %{{.*}} to %c128 step %c64
// DEFAULT: tensor.extract_slice %{{.*}}[0, %{{.*}}, 0] [1, 64, 4] [1, 1, 1]
// DEFAULT: tensor.extract_slice %{{.*}}[0, 128, 0] [1, 2, 4] [1, 1, 1]
func.func @prefill_default_chunk(%q: tensor<1x130x1x4xf32>, %s: tensor<1x1x4x4xf32>)
    -> (tensor<1x130x1x4xf32>, tensor<1x1x4x4xf32>) {
  %o, %s1 = mm01.lightning_attention %q, %q, %q, %s decay([0.125])
      : tensor<1x130x1x4xf32>, tensor<1x1x4x4xf32>
  return %o, %s1 : tensor<1x130x1x4xf32>, tensor<1x1x4x4xf32>
}

// -----

// Decode: the recurrent step.
// CHECK-DAG: #[[K_MAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[V_MAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[H_MAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-DAG: #[[ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[S_MAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>
// CHECK-LABEL: func.func @decode
// CHECK-SAME: %[[Q:[^:]*]]: tensor<2x1x2x8xbf16>, %[[K:[^:]*]]: tensor<2x1x2x8xbf16>, %[[V:[^:]*]]: tensor<2x1x2x8xbf16>, %[[S:[^:]*]]: tensor<2x2x8x8xf32>
// CHECK-NOT: scf.for
// e^{-λ} per head
// CHECK: %[[LAMBDA:.*]] = arith.constant dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf64>
// CHECK: %[[DECAY:.*]] = linalg.generic {{.*}} ins(%[[LAMBDA]] : tensor<2xf64>) outs(%{{.*}} : tensor<2xf32>)
// CHECK: math.exp
// CHECK: %[[Q3:.*]] = tensor.collapse_shape %[[Q]] {{\[}}[0, 1], [2], [3]] : tensor<2x1x2x8xbf16> into tensor<2x2x8xbf16>
// CHECK: %[[K3:.*]] = tensor.collapse_shape %[[K]]
// CHECK: %[[V3:.*]] = tensor.collapse_shape %[[V]]
// S <- e^{-λ} S + k^T v, in place on the state
// CHECK: %[[SN:.*]] = linalg.generic {indexing_maps = [#[[K_MAP]], #[[V_MAP]], #[[H_MAP]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[K3]], %[[V3]], %[[DECAY]] : tensor<2x2x8xbf16>, tensor<2x2x8xbf16>, tensor<2xf32>) outs(%[[S]] : tensor<2x2x8x8xf32>)
// CHECK: ^bb0(%[[KE:.*]]: bf16, %[[VE:.*]]: bf16, %[[DE:.*]]: f32, %[[SE:.*]]: f32):
// CHECK:   %[[DS:.*]] = arith.mulf %[[DE]], %[[SE]] : f32
// CHECK:   %[[KF:.*]] = arith.extf %[[KE]] : bf16 to f32
// CHECK:   %[[VF:.*]] = arith.extf %[[VE]] : bf16 to f32
// CHECK:   %[[KV:.*]] = arith.mulf %[[KF]], %[[VF]] : f32
// CHECK:   %[[NEW:.*]] = arith.addf %[[DS]], %[[KV]] : f32
// CHECK:   linalg.yield %[[NEW]] : f32
// o = q S (reduction over the state rows)
// CHECK: %[[O:.*]] = linalg.generic {indexing_maps = [#[[V_MAP]], #[[S_MAP]], #[[C_MAP:.*]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[Q3]], %[[SN]] : tensor<2x2x8xbf16>, tensor<2x2x8x8xf32>) outs(%{{.*}} : tensor<2x2x8xf32>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: %[[OE:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3]] output_shape [2, 1, 2, 8] : tensor<2x2x8xbf16> into tensor<2x1x2x8xbf16>
// CHECK: return %[[OE]], %[[SN]] : tensor<2x1x2x8xbf16>, tensor<2x2x8x8xf32>
func.func @decode(%q: tensor<2x1x2x8xbf16>, %k: tensor<2x1x2x8xbf16>,
                  %v: tensor<2x1x2x8xbf16>, %s: tensor<2x2x8x8xf32>)
    -> (tensor<2x1x2x8xbf16>, tensor<2x2x8x8xf32>) {
  %o, %s1 = mm01.lightning_decode %q, %k, %v, %s decay([0.5, 0.25])
      : tensor<2x1x2x8xbf16>, tensor<2x2x8x8xf32>
  return %o, %s1 : tensor<2x1x2x8xbf16>, tensor<2x2x8x8xf32>
}

// -----

// Other ops are left alone.
// CHECK-LABEL: func.func @untouched
// CHECK: mm01.silu
func.func @untouched(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %y = mm01.silu %x : tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}
