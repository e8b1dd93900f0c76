// mm01k.launch round trip: `when` (a launch for some calls only) is an
// attribute of the attr-dict, printed only when set.
// RUN: mm01-opt %s | FileCheck %s
// RUN: mm01-opt %s | mm01-opt | FileCheck %s

// CHECK-LABEL: func.func @two_plans
// CHECK: mm01k.launch @k::@f grid ["tokens", "1", "1"] block [32, 1, 1] outs(%{{.*}} : tensor<4xf32>)
// CHECK-SAME: when = "min(lt(batch, 2), ge(tokens, 16384))"
// CHECK: mm01k.launch @k::@f grid ["tokens", "1", "1"] block [32, 1, 1] outs(%{{.*}} : tensor<4xf32>)
// CHECK-SAME: when = "1 - min(lt(batch, 2), ge(tokens, 16384))"
// CHECK: mm01k.launch @k::@f grid ["1", "1", "1"]
// CHECK-NOT: when
// CHECK: return
module {
  gpu.module @k { gpu.func @f() kernel { gpu.return } }
  func.func @two_plans(%x: tensor<4xf32>) -> tensor<4xf32> {
    %a = mm01k.launch @k::@f grid ["tokens", "1", "1"] block [32, 1, 1] outs(%x : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""],
            when = "min(lt(batch, 2), ge(tokens, 16384))"} -> tensor<4xf32>
    %b = mm01k.launch @k::@f grid ["tokens", "1", "1"] block [32, 1, 1] outs(%a : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""],
            when = "1 - min(lt(batch, 2), ge(tokens, 16384))"} -> tensor<4xf32>
    %y = mm01k.launch @k::@f grid ["1", "1", "1"] block [32, 1, 1] outs(%b : tensor<4xf32>)
           {dynamic_smem = 0 : i64, param_names = ["x"], param_operands = array<i64: 0>,
            param_offsets = array<i64: 0>, param_exprs = [""]} -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}
