// format=bin: ptxas (from the CUDA toolkit) assembles the PTX into a cubin
// for sm_90a; the gpu.binary then holds an ELF image.
// REQUIRES: ptxas
// RUN: mm01-opt %s --mm01-gpu-codegen="format=bin toolkit=%cuda_toolkit" | FileCheck %s

// CHECK: gpu.binary @mm01_lightning_decode  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, properties = {{.*}}bin = "\7FELF
func.func @decode(%q: tensor<1x1x2x64xf32>, %k: tensor<1x1x2x64xf32>,
    %v: tensor<1x1x2x64xf32>, %s: tensor<1x2x64x64xf32>)
    -> (tensor<1x1x2x64xf32>, tensor<1x2x64x64xf32>) {
  %o, %s1 = mm01.lightning_decode %q, %k, %v, %s decay([0.5, 0.25])
      : tensor<1x1x2x64xf32>, tensor<1x2x64x64xf32>
  return %o, %s1 : tensor<1x1x2x64xf32>, tensor<1x2x64x64xf32>
}
