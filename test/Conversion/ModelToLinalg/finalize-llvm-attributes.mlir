// RUN: mm01-opt %s -mm01-finalize-llvm-attributes | FileCheck %s

#vec = #llvm.loop_vectorize<disable = false, width = 16 : i32>
#ann = #llvm.loop_annotation<vectorize = #vec>

// CHECK-LABEL: llvm.func @loop
// CHECK-SAME: (%{{.*}}: !llvm.ptr {llvm.noalias}, %{{.*}}: !llvm.ptr {llvm.noalias}, %{{.*}}: i64, %{{.*}}: !llvm.ptr)
// CHECK-NOT: mm01.noalias_args
// CHECK: llvm.br ^bb1(%{{.*}} : i64) {loop_annotation = #{{.*}}}
// CHECK-NOT: llvm.loop =
llvm.func @loop(%p: !llvm.ptr, %q: !llvm.ptr, %n: i64, %r: !llvm.ptr)
    attributes {mm01.noalias_args = array<i64: 0, 1, 2>} {
  %c0 = llvm.mlir.constant(0 : i64) : i64
  %c1 = llvm.mlir.constant(1 : i64) : i64
  llvm.br ^bb1(%c0 : i64)
^bb1(%i: i64):
  %done = llvm.icmp "sge" %i, %n : i64
  llvm.cond_br %done, ^bb3, ^bb2
^bb2:
  %next = llvm.add %i, %c1 : i64
  llvm.br ^bb1(%next : i64) {llvm.loop = #ann}
^bb3:
  llvm.return
}
