// The generated lightning prefill kernels: structure of the gpu.funcs (split
// plan: local states, scan, outputs) and the PTX (cp.async double-buffered
// loads, ldmatrix operands, tensor-core mma.sync, no local memory), and the
// generator's diagnostics.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 silu=1" | FileCheck %s --check-prefix=IR
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=1" | FileCheck %s --check-prefix=NOSPLIT
// RUN: mm01-opt %s --pass-pipeline="builtin.module(mm01-test-lightning-prefill-kernel{heads=8 dim=128 segments=4},nvvm-attach-target{chip=sm_90a features=+ptx80 O=3},gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1},canonicalize,cse),reconcile-unrealized-casts,gpu-module-to-binary{format=isa})" | FileCheck %s --check-prefix=PTX
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=2 state-hilo=0" | FileCheck %s --check-prefix=BF16STATE
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=96" 2>&1 | FileCheck %s --check-prefix=ERR-DIM
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 elt=f32" 2>&1 | FileCheck %s --check-prefix=ERR-ELT
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 decay=0.5" 2>&1 | FileCheck %s --check-prefix=ERR-DECAY
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=2 shortest-segment-tokens=2048" 2>&1 | FileCheck %s --check-prefix=ERR-SHORT
// The split reads the call's total tokens, cu_seqlens[batch] (batch: the
// grid's extent over sequences), to size the segments of a short call.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=2" | FileCheck %s --check-prefix=TOTAL
// A short call's segments: two waves, roundup(total / NS, 64) capped at
// min-segment-tokens, while that is at least shortest-segment-tokens; one
// wave, roundup(2·total / NS, 64) capped at shortest-segment-tokens, below.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=4 min-segment-tokens=256 shortest-segment-tokens=128 wgmma=1" | FileCheck %s --check-prefix=SHORT
// one-wave-segment-tokens=0: no one-wave rule.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=4 min-segment-tokens=256 shortest-segment-tokens=128 one-wave-segment-tokens=0 wgmma=1" | FileCheck %s --check-prefix=NOONEWAVE
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=4 min-segment-tokens=256 shortest-segment-tokens=128 segment-lead-tokens=128 wgmma=1" | FileCheck %s --check-prefix=ONEWAVELEAD
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=4 one-wave-segment-tokens=100" 2>&1 | FileCheck %s --check-prefix=ERR-ONEWAVE
// The three input layouts, as the plan's (token, head) strides of q, k, v.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=2" | FileCheck %s --check-prefix=INTERLEAVED
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=2 layout=blocked" | FileCheck %s --check-prefix=BLOCKED
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=2 layout=separate" | FileCheck %s --check-prefix=SEPARATE
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 layout=rows" 2>&1 | FileCheck %s --check-prefix=ERR-LAYOUT

module {}

// IR: mm01.lightning_prefill = "H=8 D=128 NS=4 VS=1 silu=1 {{.*}} workspace=batch*4194304 {{.*}};kernel lightning_prefill_h8_d128_bf16_c64_s4_silu_states grid=6,8,batch block=256 smem=104448 params=k,v,cu_seqlens,workspace;kernel lightning_prefill_h8_d128_bf16_c64_s4_silu_scan grid=128,batch,1 block=256 smem=0 params=state,cu_seqlens,workspace overlap=1;kernel lightning_prefill_h8_d128_bf16_c64_s4_silu_out grid=4,8,batch block=256 smem=200704 params=q,k,v,state,out,cu_seqlens,workspace overlap=1"
// IR-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_silu_states(
// IR-SAME: known_block_size = array<i32: 256, 1, 1>
// IR: gpu.dynamic_shared_memory
// IR: nvvm.griddepcontrol launch_dependents
// IR: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// IR: nvvm.cp.async.commit.group
// IR: scf.for
// IR: nvvm.cp.async.wait.group 1
// IR: gpu.barrier
// IR: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<col>
// IR-COUNT-8: nvvm.mma.sync
// IR-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_silu_scan(
// IR-NEXT: nvvm.griddepcontrol launch_dependents
// IR-NOT: %arg2[
// IR: vector.load %arg0[
// IR-NOT: %arg2[
// IR: nvvm.griddepcontrol wait
// IR: scf.for
// IR: vector.fma
// IR-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_silu_out(
// IR: gpu.dynamic_shared_memory
// Blocks are numbered head-fastest: h = lin % H, s = lin / H.
// IR: %[[BX:.*]] = gpu.block_id x
// IR-NEXT: %[[BY:.*]] = gpu.block_id y
// IR-NEXT: %[[GX:.*]] = gpu.grid_dim x
// IR-NEXT: %[[YG:.*]] = arith.muli %[[BY]], %[[GX]]
// IR-NEXT: %[[LIN:.*]] = arith.addi %[[BX]], %[[YG]]
// IR-NEXT: %[[C8:.*]] = arith.constant 8
// IR-NEXT: arith.remui %[[LIN]], %[[C8]]
// IR-NEXT: %[[C8B:.*]] = arith.constant 8
// IR-NEXT: %[[SEG:.*]] = arith.divui %[[LIN]], %[[C8B]]
// IR: math.exp2
// IR-NOT: %arg6[
// IR: nvvm.griddepcontrol wait
// IR-NEXT: arith.constant
// IR-NEXT: arith.muli %[[SEG]]
// IR: vector.load %arg6[
// IR: scf.for
// IR: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>
// IR: nvvm.mma.sync
// IR-SAME: multiplicandAPtxType = #nvvm.mma_type<bf16>
// IR-SAME: shape = #nvvm.shape<m = 16, n = 8, k = 16>

// NOSPLIT: workspace=0
// NOSPLIT-SAME: ;kernel lightning_prefill_h2_d64_bf16_c64_s1_out grid=1,2,batch block=256 smem=129024 params=q,k,v,state,out,cu_seqlens"
// NOSPLIT-NOT: _scan
// NOSPLIT: gpu.func @lightning_prefill_h2_d64_bf16_c64_s1_out(%{{.*}}: memref<{{[0-9]+}}xbf16>, %{{.*}}: memref<{{[0-9]+}}xbf16>, %{{.*}}: memref<{{[0-9]+}}xbf16>, %{{.*}}: memref<{{[0-9]+}}xf32>, %{{.*}}: memref<{{[0-9]+}}xbf16>, %{{.*}}: memref<17xi32>)
// NOSPLIT-NOT: griddepcontrol

// One MMA per state-update tile (no lo part): 4 k-steps × 1 m-tile × 4 n-tiles.
// BF16STATE: mm01.lightning_prefill = "H=2 D=64 NS=2 VS=1 silu=0 hilo=0
// BF16STATE-SAME: kernel lightning_prefill_h2_d64_bf16_c64_s2_bf16state_states grid=2,2,batch
// BF16STATE-LABEL: gpu.func @lightning_prefill_h2_d64_bf16_c64_s2_bf16state_states(
// BF16STATE-SAME: nvvm.minctasm = 2 : i32
// BF16STATE-COUNT-16: nvvm.mma.sync
// BF16STATE-NOT: nvvm.mma.sync
// BF16STATE: gpu.return

// PTX: gpu.binary @mm01_lightning_prefill
// PTX: .target sm_90a
// PTX: .visible .entry lightning_prefill_h8_d128_bf16_c64_s4_states(
// PTX: .maxntid 256, 1, 1
// PTX: griddepcontrol.launch_dependents;
// PTX: cp.async.cg.shared.global
// PTX: cp.async.commit_group
// PTX: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX: cp.async.wait_group
// PTX: bar.sync
// PTX: .visible .entry lightning_prefill_h8_d128_bf16_c64_s4_scan(
// PTX: griddepcontrol.wait;
// PTX: .visible .entry lightning_prefill_h8_d128_bf16_c64_s4_out(
// PTX: griddepcontrol.wait;
// PTX: {{ex2.approx|__nv_exp2f}}
// PTX: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-NOT: .local

// ERR-DIM: lightning prefill kernel generator: head dim D = 96 is not supported (32, 64 or 128)
// ERR-ELT: lightning prefill kernel generator: activation element type 'f32' is not supported (bf16 only
// ERR-DECAY: lightning prefill kernel generator: expects 2 decay rates, got 1
// ERR-SHORT: lightning prefill kernel generator: shortestSegmentTokens = 2048 must be a positive multiple of the chunk (64) and at most minSegmentTokens (1024)
// SHORT-LABEL: gpu.func @lightning_prefill_h2_d64_bf16_c64_s4_wg_out(
// SHORT: %[[TOT32:.*]] = memref.load %arg5[%grid_dim_z]
// SHORT: %[[TOT:.*]] = arith.index_cast %[[TOT32]]
// SHORT: %[[A:.*]] = arith.addi %[[TOT]], %c3
// SHORT: %[[B:.*]] = arith.divui %[[A]], %c4
// SHORT: %[[TWO:.*]] = arith.muli %{{.*}}, %c64
// SHORT: %[[TOT2:.*]] = arith.muli %[[TOT]], %c2
// SHORT: arith.addi %[[TOT2]], %c3
// SHORT: %[[ONE:.*]] = arith.muli %{{.*}}, %c64
// SHORT: %[[C128:.*]] = arith.constant 128 : index
// SHORT: %[[CAPONE:.*]] = arith.minsi %[[C128]], %[[ONE]]
// SHORT: %[[SHORTWAVES:.*]] = arith.cmpi slt, %[[TWO]], %[[C128]]
// SHORT: %[[SHORTEST:.*]] = arith.select %[[SHORTWAVES]], %[[CAPONE]], %[[TWO]]
// One wave instead for a single sequence (grid extent z = 1) whose NS/2 = 2
// segments per head of roundup(total / 2, 64) (at least a chunk) tokens are
// at most one-wave-segment-tokens (2048) long; batched calls keep two waves.
// SHORT: %[[HALF:.*]] = arith.divui %{{.*}}, %c2{{.*}} : index
// SHORT: %[[SEGONE:.*]] = arith.maxsi %{{.*}}, %c64{{.*}} : index
// SHORT: %[[C2049:.*]] = arith.constant 2049 : index
// SHORT: %[[SHORTSEG:.*]] = arith.cmpi slt, %[[SEGONE]], %[[C2049]] : index
// SHORT: %[[ONESEQ:.*]] = arith.cmpi eq, %grid_dim_z, %c1{{.*}} : index
// SHORT: %[[FITS:.*]] = arith.andi %[[ONESEQ]], %[[SHORTSEG]] : i1
// SHORT: %[[FLOOR:.*]] = arith.select %[[FITS]], %[[SEGONE]], %[[SHORTEST]] : index
// SHORT: arith.maxsi %{{.*}}, %[[FLOOR]]
// The two-wave length is not capped by min-segment-tokens (256): a batched
// call runs about two waves whatever its sequences' lengths.
// SHORT-NOT: arith.constant 256 : index
// SHORT: gpu.return
// With a segment lead, whether one wave fits is decided on the lead-free
// length; the chosen length is roundup((total + lead) / (NS/2), 64).
// ONEWAVELEAD-LABEL: gpu.func @lightning_prefill_h2_d64_bf16_c64_s4_wg_out(
// ONEWAVELEAD: %[[TOT32:.*]] = memref.load %arg5[%grid_dim_z]
// ONEWAVELEAD: %[[TOT:.*]] = arith.index_cast %[[TOT32]]
// ONEWAVELEAD: %[[SHORTEST:.*]] = arith.select %{{.*}} : index
// ONEWAVELEAD-NOT: arith.addi %[[TOT]], %c128
// ONEWAVELEAD: %[[SEGONE:.*]] = arith.maxsi %{{.*}}, %c64{{.*}} : index
// ONEWAVELEAD: %[[C2049:.*]] = arith.constant 2049 : index
// ONEWAVELEAD: %[[SHORTSEG:.*]] = arith.cmpi slt, %[[SEGONE]], %[[C2049]] : index
// ONEWAVELEAD: %[[FITS:.*]] = arith.andi %{{.*}}, %[[SHORTSEG]] : i1
// ONEWAVELEAD: %[[LED:.*]] = arith.addi %[[TOT]], %c128{{.*}} : index
// ONEWAVELEAD: arith.divui %{{.*}}, %c2{{.*}} : index
// ONEWAVELEAD: %[[SEGLED:.*]] = arith.maxsi %{{.*}}, %c64{{.*}} : index
// ONEWAVELEAD: arith.select %[[FITS]], %[[SEGLED]], %[[SHORTEST]] : index

// TOTAL-LABEL: gpu.func @lightning_prefill_h2_d64_bf16_c64_s2_states(
// TOTAL: gpu.grid_dim z
// TOTAL-LABEL: gpu.func @lightning_prefill_h2_d64_bf16_c64_s2_scan(
// TOTAL: gpu.grid_dim y
// TOTAL-LABEL: gpu.func @lightning_prefill_h2_d64_bf16_c64_s2_out(
// TOTAL: gpu.grid_dim z

// NOONEWAVE-LABEL: gpu.func @lightning_prefill_h2_d64_bf16_c64_s4_wg_states(
// NOONEWAVE: %[[SHORTEST:.*]] = arith.select
// NOONEWAVE-NOT: arith.cmpi eq, %grid_dim_z
// NOONEWAVE: arith.maxsi %{{.*}}, %[[SHORTEST]]

// ERR-ONEWAVE: lightning prefill kernel generator: oneWaveSegmentTokens = 100 must be 0 (never one wave) or a positive multiple of the chunk (64)

// INTERLEAVED: q=384,192 k=384,192 v=384,192 out=128,64
// BLOCKED: q=384,64 k=384,64 v=384,64 out=128,64
// SEPARATE: q=128,64 k=128,64 v=128,64 out=128,64
// ERR-LAYOUT: layout = rows: expected interleaved, blocked or separate
