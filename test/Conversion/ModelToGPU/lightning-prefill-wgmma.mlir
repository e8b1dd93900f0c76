// The wgmma (sm_90a warpgroup MMA) form of the lightning prefill chunk
// kernels: the plan (same kernels, grid and parameters as the mma.sync form;
// one 128-thread warpgroup for the local states, two for the outputs), the
// per-role wgmma sequence with its fences and waits, the swizzled-descriptor
// operands, and the PTX (wgmma.mma_async, async-proxy fence, named barrier,
// no local memory).
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1" | FileCheck %s --check-prefix=IR
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 state-hilo=0" | FileCheck %s --check-prefix=BF16STATE
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1" | FileCheck %s --check-prefix=PDL
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=1 wgmma=1" | FileCheck %s --check-prefix=NOPDL
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1" | FileCheck %s --check-prefix=DESC
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=1 wgmma=1 silu=1" | FileCheck %s --check-prefix=D64
// RUN: mm01-opt %s --pass-pipeline="builtin.module(mm01-test-lightning-prefill-kernel{heads=8 dim=128 segments=4 wgmma=1},nvvm-attach-target{chip=sm_90a features=+ptx80 O=3},gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1},canonicalize,cse),reconcile-unrealized-casts,gpu-module-to-binary{format=isa})" | FileCheck %s --check-prefix=PTX
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=32 wgmma=1" 2>&1 | FileCheck %s --check-prefix=ERR-DIM
// Pipeline depths chosen by mm01-select-tiles (or by hand), checked against
// the shared memory of a block.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 stages=2 state-stages=3" | FileCheck %s --check-prefix=STAGES
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 stages=5" 2>&1 | FileCheck %s --check-prefix=ERR-STAGES
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 state-stages=1" 2>&1 | FileCheck %s --check-prefix=ERR-ONE
// Two value slices: chosen for B1 H64 D128 (128 blocks, no sequence split),
// or by hand next to a split; refused below 64 columns or without wgmma.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=64 dim=128 max-batch=1 max-tokens=32768 wgmma=1 state-hilo-tail-log2=0" | FileCheck %s --check-prefix=VS
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=64 dim=128 max-batch=1 max-tokens=8192 wgmma=1" | FileCheck %s --check-prefix=VSTAIL
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 value-slices=2" | FileCheck %s --check-prefix=VSSPLIT
// With the slices, B1 H64 up to 32768 tokens gets a long-call plan: calls
// of one sequence from 16384 tokens run two segments without slices, the
// first one's local state in 8 parts (its own plan string); none where
// long-call-tokens=0, and a chosen threshold otherwise.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=64 dim=128 max-batch=1 max-tokens=32768 wgmma=1" | FileCheck %s --check-prefix=LONGCALL
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=64 dim=128 max-batch=1 max-tokens=32768 wgmma=1 long-call-tokens=0" | FileCheck %s --check-prefix=NOLONG
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=1 value-slices=2 wgmma=1 long-call-tokens=1024 long-call-segments=3 long-call-local-states-parts=4" | FileCheck %s --check-prefix=LONGSET
// The chosen long-call plan with its parts given: the option wins.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=64 dim=128 max-batch=1 max-tokens=32768 wgmma=1 long-call-local-states-parts=16" | FileCheck %s --check-prefix=LONGPARTS
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=1 value-slices=2 wgmma=1 long-call-tokens=-5" 2>&1 | FileCheck %s --check-prefix=ERR-LONG
// An early first segment (chosen for the long-call plan above, here by
// hand): no scan kernel; the local-states kernel clears (b, h)'s flag before
// it lets the outputs kernel start; the outputs kernel's first segment
// starts from `state` without waiting, sets the flag once the state
// warpgroup has read it, and a later segment waits for the local states and
// folds them (4 parts x 128 values a thread); the block writing the final
// state spins on the flag first. Leads that are not whole chunks, and the
// mma.sync kernels, are refused.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=2 wgmma=1 early-first-segment=1 segment-lead-tokens=128 local-states-parts=4 local-states-split-chunks=8 max-batch=2 max-tokens=4096" | FileCheck %s --check-prefix=EARLY
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=2 wgmma=1 early-first-segment=1 segment-lead-tokens=100" 2>&1 | FileCheck %s --check-prefix=ERR-LEAD
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=2 early-first-segment=1" 2>&1 | FileCheck %s --check-prefix=ERR-EARLY
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 value-slices=4" 2>&1 | FileCheck %s --check-prefix=ERR-VS
// The scan in the outputs kernel (scan-in-outputs; chosen for the long-call
// plan of split entries, below): no scan kernel; the local-states kernel
// clears the counters after the slots (one per (b, h), one claim counter)
// before it lets the outputs kernel start; the outputs kernel waits for the
// local states, claims items from the counter (an atomic add, broadcast
// through shared memory), runs each item's chain (the scan's float4 loads
// and stores) and counts it for its (b, h) after a release fence; the state
// warpgroup spins on its (b, h)'s count before it reads its slot. The
// mma.sync kernels refuse it.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 scan-in-outputs=1 max-batch=2 max-tokens=4096" | FileCheck %s --check-prefix=SCANOUT
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 scan-in-outputs=1" 2>&1 | FileCheck %s --check-prefix=ERR-SCANOUT
// B1 H8 D128 from 16384 tokens: a long-call plan of the same split with the
// scan in the outputs kernel.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 max-batch=8 max-tokens=32768 wgmma=1" | FileCheck %s --check-prefix=LONGH8
// The local states start at the tail carrying all but 2^-64 of the decay
// weight (per head: 3 chunks at λ = 1/2 .. 201 at λ = 1/256), or at the
// outputs tail of 2^-32 (2 .. 112 chunks) where the sequence's last segment
// covers the difference; 0 reads every token; a negative value is an error.
// local-states-outputs-drop-log2=0 keeps the 2^-64 tail everywhere.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 local-states-outputs-drop-log2=0" | FileCheck %s --check-prefix=OUTTAIL0
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 local-states-outputs-drop-log2=-1" 2>&1 | FileCheck %s --check-prefix=ERR-OUTTAIL
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1" | FileCheck %s --check-prefix=TAIL
// hi + lo only over the final state's 2^-12 window (state-hilo-tail-log2).
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 state-hilo-tail-log2=12" | FileCheck %s --check-prefix=HILOTAIL
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1" | FileCheck %s --check-prefix=LASTFIRST
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1" | FileCheck %s --check-prefix=SLOTS
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 scan-in-outputs=1 max-batch=2 max-tokens=4096 probe-timeline=1" | FileCheck %s --check-prefix=TIMELINE
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 scan-in-outputs=1 max-batch=2 max-tokens=4096" | FileCheck %s --check-prefix=NOTIMELINE
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 probe-timeline=1" 2>&1 | FileCheck %s --check-prefix=ERR-TIMELINE
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 state-hilo=0 state-hilo-tail-log2=12" 2>&1 | FileCheck %s --check-prefix=ERR-HILOTAIL
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 state-hilo-tail-log2=12" 2>&1 | FileCheck %s --check-prefix=ERR-HILOTAIL
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 state-hilo-tail-log2=65" 2>&1 | FileCheck %s --check-prefix=ERR-HILOTAIL65
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 local-states-drop-log2=0" | FileCheck %s --check-prefix=EXACT
// A head whose tail is longer than the longest call (4096 tokens, 66 chunks
// standing for all) reads every token; where no head's tail is shorter no
// tail code is emitted.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=4 wgmma=1 max-tokens=4096 decay=0.001,0.5" | FileCheck %s --check-prefix=TAILMIX
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=2 dim=64 segments=4 wgmma=1 max-tokens=4096 decay=0.001,0.001" | FileCheck %s --check-prefix=NOTAIL
// Two local-states blocks per segment where its state reads at least 16
// chunks (default), local-states-parts of them with that option, one with
// local-states-split-chunks=0; 1 is an error, and so are parts < 2 or more
// parts than split chunks.
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 local-states-split-chunks=0" | FileCheck %s --check-prefix=SPLIT0
// RUN: mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 local-states-parts=4" | FileCheck %s --check-prefix=PARTS4
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 local-states-split-chunks=1" 2>&1 | FileCheck %s --check-prefix=ERR-SPLIT
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 local-states-split-chunks=4 local-states-parts=5" 2>&1 | FileCheck %s --check-prefix=ERR-PARTS
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 local-states-parts=1" 2>&1 | FileCheck %s --check-prefix=ERR-PARTS1
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 wgmma=1 local-states-drop-log2=-1" 2>&1 | FileCheck %s --check-prefix=ERR-TAIL
// RUN: not mm01-opt %s --mm01-test-lightning-prefill-kernel="heads=8 dim=128 segments=4 value-slices=2" 2>&1 | FileCheck %s --check-prefix=ERR-VS-MMA

module {}

// IR: mm01.lightning_prefill = "H=8 D=128 NS=4 {{.*}};kernel lightning_prefill_h8_d128_bf16_c64_s4_wg_states grid=6,8,batch block=128 smem=66560 params=k,v,cu_seqlens,workspace;kernel lightning_prefill_h8_d128_bf16_c64_s4_wg_scan grid=128,batch,1 block=256 smem=0 params=state,cu_seqlens,workspace overlap=1;kernel lightning_prefill_h8_d128_bf16_c64_s4_wg_out grid=4,8,batch block=256 smem=230400 params=q,k,v,state,out,cu_seqlens,workspace overlap=1"
// Local states: the decay on K in registers, as in `_out` (no Ṽ), and a
// two-stage ring (smem 2 x 32 KB + 1 KB): per 64 state rows, 4
// ldmatrix.x4.trans of K and 8 m64n128k16 with A from registers.
// IR-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_states(
// IR-SAME: known_block_size = array<i32: 128, 1, 1>
// IR-SAME: nvvm.minctasm = 2
// A chunk's loads: full chunks address the pieces from one base per tensor
// (then), a segment's last chunk clamps each row to the segment (else).
// IR-COUNT-16: nvvm.cp.async.shared.global
// IR-NEXT: } else {
// IR: arith.minsi
// IR-COUNT-16: nvvm.cp.async.shared.global
// IR: nvvm.cp.async.commit.group
// IR: scf.for
// IR: nvvm.cp.async.wait.group 0
// IR: "fence.proxy.async.shared::cta;"
// IR-NEXT: gpu.barrier
// IR-NOT: "bar.sync {{.*}}, 128;"
// IR-COUNT-4: nvvm.ldmatrix {{.*}} layout = #nvvm.mma_layout<col>, num = 4 : i32
// IR: "wgmma.fence.sync.aligned;"
// IR-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// IR: "wgmma.commit_group.sync.aligned;"
// IR-COUNT-4: nvvm.ldmatrix {{.*}} layout = #nvvm.mma_layout<col>, num = 4 : i32
// IR-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// IR: "wgmma.wait_group.sync.aligned 0;"
// IR: scf.yield
// Outputs: the state warpgroup (threads 128..255) decays K instead of V:
// per 64 state rows, 4 ldmatrix.x4.trans of K's stage give the A fragments
// of Kᵀ (hi and lo formed in registers), then 8 m64n128k16 with A from
// registers and B = V from its stage; no Ṽ tiles and no state-warpgroup
// barrier (hence 4 stages in 230400 bytes). Once the outputs warpgroup is
// done with Sb (barrier 2), it writes the bf16 state for the next chunk; the
// outputs warpgroup: P = Q Kᵀ (8 x
// m64n64k16, K-major, the first one overwriting: scale-d from $34 = 0),
// Q·Sb (8 x m64n128k16, B N-major), two waits, then P·V with A from
// registers (4 x m64n128k16).
// Without SiLU the state warpgroup (tid > 127) issues every load, full
// chunks from one base per tensor: 24 pieces per thread (Q, K, V).
// IR-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_out(
// IR-SAME: known_block_size = array<i32: 256, 1, 1>
// IR: arith.cmpi slt, %{{.*}}, %thread_id_x : index
// IR: scf.if
// IR-COUNT-48: nvvm.cp.async.shared.global
// IR: scf.if
// IR: scf.for
// IR: gpu.barrier
// IR-COUNT-24: nvvm.cp.async.shared.global
// IR-NEXT: } else {
// IR-NOT: "bar.sync {{.*}}, 128;"
// IR-COUNT-4: nvvm.ldmatrix {{.*}} layout = #nvvm.mma_layout<col>, num = 4 : i32
// IR-NOT: llvm.store
// IR: "wgmma.fence.sync.aligned;"
// IR-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// IR: "wgmma.commit_group.sync.aligned;"
// IR-COUNT-4: nvvm.ldmatrix {{.*}} layout = #nvvm.mma_layout<col>, num = 4 : i32
// IR: "wgmma.fence.sync.aligned;"
// IR-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// IR: "wgmma.commit_group.sync.aligned;"
// IR-NOT: wgmma.mma_async
// IR: "wgmma.wait_group.sync.aligned 0;"
// IR-NOT: "bar.sync {{.*}}, 128;"
// IR: "bar.sync 1, 256;"
// The [128][128] bf16 state: 16 stmatrix.x4 per thread (4 8x8 matrices each).
// IR-COUNT-16: nvvm.stmatrix {{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>} : !llvm.ptr<3>, i32, i32, i32, i32
// IR-NEXT: "fence.proxy.async.shared::cta;"
// IR: scf.yield
// IR: } else {
// IR: scf.for
// IR-NOT: nvvm.cp.async
// IR: gpu.barrier
// IR-NOT: nvvm.cp.async
// IR: "wgmma.fence.sync.aligned;"
// IR-COUNT-8: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0, 0;
// IR: "wgmma.commit_group.sync.aligned;"
// IR-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0, 1;
// IR: "wgmma.commit_group.sync.aligned;"
// IR: "wgmma.wait_group.sync.aligned 1;"
// IR: "wgmma.wait_group.sync.aligned 0;"
// IR: "bar.arrive 1, 256;"
// IR: "wgmma.fence.sync.aligned;"
// IR-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// IR: "wgmma.commit_group.sync.aligned;"
// IR: "wgmma.wait_group.sync.aligned 0;"
// O through the Q tile: 8 stmatrix.x4, the warpgroup's barrier, then
// 16-byte rows to global memory.
// IR-COUNT-8: nvvm.stmatrix
// IR-NEXT: "bar.sync 2, 128;"
// IR: llvm.load {{.*}} -> vector<8xbf16>
// IR: vector.store {{.*}} : memref<{{[0-9]+}}xbf16>, vector<8xbf16>

// One MMA per state-update step without the lo part.
// BF16STATE-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_bf16state_wg_states(
// BF16STATE-COUNT-8: wgmma.mma_async
// BF16STATE-NOT: wgmma.mma_async
// BF16STATE: gpu.return
// BF16STATE-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_bf16state_wg_out(
// BF16STATE-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// BF16STATE-NOT: wgmma.mma_async
// BF16STATE: "wgmma.wait_group.sync.aligned 0;"
// BF16STATE: "bar.sync 1, 256;"

// D = 64: one 64-column panel, m64n64 everywhere, one state half; no split.
// D64: kernel lightning_prefill_h2_d64_bf16_c64_s1_silu_wg_out grid=1,2,batch block=256
// D64-NOT: _states
// D64-LABEL: gpu.func @lightning_prefill_h2_d64_bf16_c64_s1_silu_wg_out(
// With SiLU (applied in place by the loaders) both warpgroups load: the
// outputs warpgroup's loop waits for and issues its own pieces.
// D64: } else {
// D64: scf.for
// D64: nvvm.cp.async.wait.group
// D64: gpu.barrier
// D64: nvvm.cp.async.shared.global
// D64-COUNT-8: wgmma.mma_async.sync.aligned.m64n64k16
// D64-NOT: m64n128

// PTX: .target sm_90a
// PTX: .visible .entry lightning_prefill_h8_d128_bf16_c64_s4_wg_states(
// PTX: cp.async.cg.shared.global
// PTX: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX: wgmma.fence.sync.aligned;
// PTX: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX: wgmma.commit_group.sync.aligned;
// PTX: wgmma.wait_group.sync.aligned 0;
// PTX: .visible .entry lightning_prefill_h8_d128_bf16_c64_s4_wg_out(
// PTX: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// PTX: wgmma.wait_group.sync.aligned 1;
// PTX: stmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-NOT: .local

// ERR-DIM: lightning prefill kernel generator: wgmma kernels need head dim D = 64 or 128, got 32

// 3 x {K, V} (32 KB each) + 1 KB; 2 x {Q, K, V} + Sb + 1 KB.
// STAGES: kernel lightning_prefill_h8_d128_bf16_c64_s4_wg_states grid=6,8,batch block=128 smem=99328
// STAGES-SAME: kernel lightning_prefill_h8_d128_bf16_c64_s4_wg_out grid=4,8,batch block=256 smem=132096
// STAGES: nvvm.cp.async.wait.group 1
// ERR-STAGES: lightning prefill kernel generator: stages = 5: the outputs kernel would need 279552 bytes of shared memory, more than the 232448 a block may have
// ERR-ONE: lightning prefill kernel generator: stateStages = 1 must be 0 (automatic) or 2..8

// Matrix descriptors: (start >> 4) | (LBO >> 4) << 16 | (SBO >> 4) << 32 |
// 1 << 62 (128B swizzle). K-major operands (Q, K): LBO 16 (unused), SBO 1024
// = 0x4000004000010000; N/M-major ones over 64-row chunk tiles (V, Ṽ, K): LBO =
// the 8 KB panel stride = 0x4000004002000000; over the [128][128] state Sb:
// LBO 16 KB = 0x4000004004000000.
// DESC-DAG: arith.constant 4611686293305360384 : i64
// DESC-DAG: arith.constant 4611686293338849280 : i64
// DESC-DAG: arith.constant 4611686293372403712 : i64
// DESC-DAG: arith.constant 262143 : i64


// LONGCALL: mm01.lightning_prefill = "H=64 D=128 NS=1 VS=2 {{.*}} workspace=0 hilo_tail=12 long_call_tokens=16384 decay=
// LONGCALL-SAME: mm01.lightning_prefill_long = "H=64 D=128 NS=2 VS=1 {{.*}} parts=8 {{.*}} workspace=batch*67109120 hilo_tail=12 early_first=1 segment_lead=2048 decay=
// LONGCALL-NOT: long_call_tokens
// LONGCALL-SAME: kernel lightning_prefill_h64_d128_bf16_c64_s2_hilotail12_wg_states grid=8,64,batch block=128 smem=66560 params=k,v,cu_seqlens,workspace;kernel lightning_prefill_h64_d128_bf16_c64_s2_hilotail12_wg_out grid=2,64,batch block=256 smem=230400 params=q,k,v,state,out,cu_seqlens,workspace overlap=1"
// EARLY: mm01.lightning_prefill = "H=8 D=128 NS=2 VS=1 {{.*}} workspace=batch*4194336 early_first=1 segment_lead=128 decay=
// EARLY-SAME: kernel lightning_prefill_h8_d128_bf16_c64_s2_wg_states grid=4,8,batch block=128 smem=66560 params=k,v,cu_seqlens,workspace;kernel lightning_prefill_h8_d128_bf16_c64_s2_wg_out grid=2,8,batch block=256 smem=230400 params=q,k,v,state,out,cu_seqlens,workspace overlap=1"
// EARLY-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s2_wg_states(
// EARLY-NOT: griddepcontrol
// EARLY: %[[FLAGS:.*]] = arith.muli %grid_dim_z, %c1048576{{.*}} : index
// EARLY-NEXT: %[[FLAG:.*]] = arith.addi %[[FLAGS]], %{{.*}} : index
// EARLY-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// EARLY-NEXT: memref.atomic_rmw assign %[[ZERO]], %arg3[%[[FLAG]]]
// EARLY-NEXT: }
// EARLY-NEXT: nvvm.griddepcontrol launch_dependents
// EARLY-NOT: griddepcontrol
// EARLY-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s2_wg_out(
// EARLY-NOT: griddepcontrol
// EARLY: = scf.if %{{.*}} -> (f32, f32, f32
// EARLY-COUNT-64: vector.load %arg3[{{.*}}] {alignment = 8 : i64} : memref<262144xf32>, vector<2xf32>
// EARLY: } else {
// EARLY-NEXT: nvvm.griddepcontrol wait
// EARLY-COUNT-64: vector.load %arg3[{{.*}}] {alignment = 8 : i64} : memref<262144xf32>, vector<2xf32>
// EARLY-COUNT-4: math.fma
// EARLY-NOT: griddepcontrol
// EARLY: "bar.sync 4, 128;"
// EARLY: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// EARLY-NEXT: memref.atomic_rmw assign %[[ONE]], %arg6[%[[SFLAG:.*]]] :
// EARLY: scf.while
// EARLY: memref.atomic_rmw addf %{{.*}}, %arg6[%[[SFLAG]]]
// EARLY-NEXT: arith.constant 1.000000e+00 : f32
// EARLY-NEXT: arith.cmpf une
// EARLY: "bar.sync 4, 128;"
// EARLY-NOT: griddepcontrol
// EARLY: vector.store %{{.*}}, %arg3[{{.*}}] {alignment = 8 : i64} : memref<262144xf32>, vector<2xf32>
// ERR-LEAD: segmentLeadTokens = 100 must be a non-negative multiple of the chunk (64)
// ERR-EARLY: earlyFirstSegment needs the wgmma kernels
// NOLONG-NOT: long_call
// LONGPARTS: mm01.lightning_prefill = "H=64 D=128 NS=1 VS=2 {{.*}} long_call_tokens=16384 decay=
// LONGPARTS-SAME: mm01.lightning_prefill_long = "H=64 D=128 NS=2 VS=1 {{.*}} parts=16 {{.*}} workspace=batch*134217984 hilo_tail=12 early_first=1 segment_lead=2048 decay=
// ERR-LONG: longCallTokens = -5 must be 0 (no long-call plan) or positive
// LONGSET: mm01.lightning_prefill = "H=8 D=128 NS=1 VS=2 {{.*}} long_call_tokens=1024 decay=
// LONGSET-SAME: mm01.lightning_prefill_long = "H=8 D=128 NS=3 VS=1 {{.*}} parts=4
// VS: H=64 D=128 NS=1 VS=2
// VS-SAME: workspace=0
// VS-SAME: kernel lightning_prefill_h64_d128_bf16_c64_s1_wg_v2_out grid=2,64,batch block=256 smem=181248 params=q,k,v,state,out,cu_seqlens"
// Blocks are numbered head-fastest, lin = x + y·gridDim.x: head lin % 64,
// then lin / 64 = value slice (no segments): columns 64·slice.. of V, O and
// the state.
// The state warpgroup issues every load (prologue under tid > 127) and holds
// the transposed state slice Sᵀ [64][128]: its incoming values are loaded one
// by one (a pair of accumulators is two state rows apart), then per chunk 4
// ldmatrix.x4.trans of V's stage give (V ⊙ w)ᵀ (hi and lo), 8 m64n128k16
// with A from registers and B = K; no Ṽ tile (4 stages: 4 x 40 KB + Sb 16
// KB + 1 KB). The fragments are formed one chunk ahead, while the previous
// chunk's MMAs run: chunk 0's before the loop, after the state warpgroup's
// own wait for its loads and its barrier (bar.sync 3, 128); the loop takes
// two chunks an iteration (their fragments in separate registers) and an
// odd last chunk runs after it, forming none. Sb = bf16(Sᵀ) is [64][128]: 8
// stmatrix.x4. The outputs warpgroup: the whole Q Kᵀ (m64n64k16), Q·Sb
// (K-major B: the same transposes as Q Kᵀ) and P·V at n = 64, its 32 mask
// factors computed once, before its loop.
// VS-LABEL: gpu.func @lightning_prefill_h64_d128_bf16_c64_s1_wg_v2_out(
// VS: %[[LIN:.*]] = arith.addi %block_id_x, %{{.*}} : index
// VS-NEXT: %[[C64:.*]] = arith.constant 64 : index
// VS-NEXT: arith.remui %[[LIN]], %[[C64]] : index
// VS-NEXT: %[[C64B:.*]] = arith.constant 64 : index
// VS-NEXT: %[[X:.*]] = arith.divui %[[LIN]], %[[C64B]] : index
// VS: arith.remui %[[X]], %{{.*}} : index
// VS: nvvm.cp.async.commit.group
// VS: scf.if
// VS-COUNT-64: memref.load {{.*}} : memref<1048576xf32>
// VS-COUNT-8: nvvm.stmatrix
// VS: nvvm.cp.async.wait.group 2
// VS-NEXT: "bar.sync 3, 128;"
// VS: "ex2.approx.ftz.f32 $0, $1;"
// VS-COUNT-4: nvvm.ldmatrix {{.*}} layout = #nvvm.mma_layout<col>, num = 4 : i32
// VS-NOT: llvm.store
// VS: scf.for {{.*}} step %c2
// VS-NEXT: fence.proxy.async
// VS-NEXT: gpu.barrier
// VS: nvvm.cp.async.shared.global
// VS: "wgmma.fence.sync.aligned;"
// VS-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// VS: "wgmma.commit_group.sync.aligned;"
// VS: nvvm.cp.async.wait.group 2
// VS-NEXT: "bar.sync 3, 128;"
// VS-COUNT-4: nvvm.ldmatrix {{.*}} layout = #nvvm.mma_layout<col>, num = 4 : i32
// VS-NOT: llvm.store
// VS: "wgmma.wait_group.sync.aligned 0;"
// VS: "bar.sync 1, 256;"
// VS-COUNT-8: nvvm.stmatrix
// VS: gpu.barrier
// VS: "wgmma.fence.sync.aligned;"
// VS-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// VS: "wgmma.commit_group.sync.aligned;"
// VS: nvvm.cp.async.wait.group 2
// VS-NEXT: "bar.sync 3, 128;"
// VS-COUNT-4: nvvm.ldmatrix {{.*}} layout = #nvvm.mma_layout<col>, num = 4 : i32
// VS: "wgmma.wait_group.sync.aligned 0;"
// VS: "bar.sync 1, 256;"
// VS-COUNT-8: nvvm.stmatrix
// VS: scf.yield
// VS: scf.if
// VS: gpu.barrier
// VS-NOT: nvvm.ldmatrix
// VS-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// VS-NOT: nvvm.ldmatrix
// VS: "bar.sync 1, 256;"
// VS-COUNT-8: nvvm.stmatrix
// VS-COUNT-64: memref.store {{.*}} : memref<1048576xf32>
// VS: } else {
// VS-COUNT-32: "ex2.approx.ftz.f32 $0, $1;"
// VS-NOT: ex2.approx
// VS: scf.for
// VS-NOT: nvvm.cp.async
// VS: gpu.barrier
// VS-NOT: nvvm.cp.async
// VS-NOT: ex2.approx
// VS-COUNT-8: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0, 0;
// VS-COUNT-8: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0, 0;
// VS-COUNT-4: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, {$32, $33, $34, $35}, $36, p, 1, 1, 1;
// VS: "bar.sync 2, 128;"

// The chooser's default on the same kernel (B1 H64 T8K calls): the update
// is one bf16 MMA per 64 state rows and k16 step up to the final state's
// 2^-12 window, hi + lo from there on: a pairs loop of 4 MMAs a chunk, then
// one of 8 a chunk. The second loop's first chunk lands (its SiLU and the
// barrier of the state warpgroup) unless the first loop's last pair
// already landed it (an even chunk count), and its fragments are formed
// again, as hi + lo.
// VSTAIL: kernel lightning_prefill_h64_d128_bf16_c64_s1_hilotail12_wg_v2_out grid=2,64,batch
// VSTAIL-LABEL: gpu.func @lightning_prefill_h64_d128_bf16_c64_s1_hilotail12_wg_v2_out(
// VSTAIL: arith.select %{{.*}}, {{%c2129[_0-9]*}}, %{{.*}} : index
// VSTAIL: %[[FROM:.*]] = arith.minsi
// VSTAIL: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c2
// VSTAIL-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// VSTAIL-NOT: wgmma.mma_async
// VSTAIL: "wgmma.wait_group.sync.aligned 0;"
// VSTAIL-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// VSTAIL-NOT: wgmma.mma_async
// VSTAIL: "wgmma.wait_group.sync.aligned 0;"
// VSTAIL: %[[EVEN:.*]] = arith.cmpi eq, %{{.*}}, %c0{{.*}} : index
// VSTAIL-NEXT: %[[TRUE:.*]] = arith.constant true
// VSTAIL-NEXT: %[[NOTLANDED:.*]] = arith.xori %[[EVEN]], %[[TRUE]] : i1
// VSTAIL-NEXT: scf.if %[[NOTLANDED]] {
// VSTAIL-NEXT: nvvm.cp.async.wait.group 2
// VSTAIL-NEXT: "bar.sync 3, 128;"
// VSTAIL: scf.for %{{.*}} = %[[FROM]] to %{{.*}} step %c2
// VSTAIL-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// VSTAIL-NOT: wgmma.mma_async
// VSTAIL: "wgmma.wait_group.sync.aligned 0;"

// HILOTAIL: mm01.lightning_prefill = "H=8 D=128 NS=4 VS=1 silu=0 hilo=1 {{.*}} hilo_tail=12 decay=
// The window: ⌊n·ln 2 / λ⌋ tokens before the sequence's end, a per-head
// compile-time table (λ = 2^-1 .. 2^-8 at n = 12: 16, 33, .. 1064, 2129
// tokens); chunks from the one before the first that reaches into it are
// hi + lo. The local states: every block.
// HILOTAIL-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_hilotail12_wg_states(
// HILOTAIL: arith.select %{{.*}}, {{%c33[_0-9]*}}, {{%c16[_0-9]*}} : index
// HILOTAIL: arith.select %{{.*}}, {{%c1064[_0-9]*}}, %{{.*}} : index
// HILOTAIL: %[[W:.*]] = arith.select %{{.*}}, {{%c2129[_0-9]*}}, %{{.*}} : index
// HILOTAIL-NEXT: arith.constant 1 : index
// HILOTAIL-NEXT: arith.subi
// HILOTAIL-NEXT: arith.subi
// HILOTAIL-NEXT: arith.subi %{{.*}}, %[[W]] : index
// The local states read their chunks last first: the window's nch - from
// chunks are the loop's first.
// HILOTAIL: %[[FROM:.*]] = arith.minsi
// HILOTAIL-NEXT: %[[WIN:.*]] = arith.subi %{{.*}}, %[[FROM]] : index
// HILOTAIL-NEXT: %{{.*}} = arith.constant 0 : index
// HILOTAIL-NEXT: %{{.*}} = arith.constant 1 : index
// HILOTAIL-NEXT: %[[S:.*]]:128 = scf.for %{{.*}} = %{{.*}} to %[[WIN]] step
// HILOTAIL-COUNT-16: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// HILOTAIL-NOT: wgmma.mma_async
// HILOTAIL: scf.yield
// HILOTAIL: scf.for %{{.*}} = %[[WIN]] to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[S]]#0,
// HILOTAIL-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// HILOTAIL-NOT: wgmma.mma_async
// HILOTAIL: scf.yield
// The outputs kernel: the window only in the block that writes the final
// state (its segment ends the sequence); bf16 throughout elsewhere.
// HILOTAIL-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_hilotail12_wg_out(
// HILOTAIL: arith.select %{{.*}}, {{%c2129[_0-9]*}}, %{{.*}} : index
// HILOTAIL: %[[M:.*]] = arith.minsi
// HILOTAIL-NEXT: %[[LAST:.*]] = arith.cmpi eq
// HILOTAIL-NEXT: %[[FROMO:.*]] = arith.select %[[LAST]], %[[M]], %{{.*}} : index
// HILOTAIL: %[[SO:.*]]:128 = scf.for %{{.*}} = %{{.*}} to %[[FROMO]] step
// HILOTAIL-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// HILOTAIL-NOT: wgmma.mma_async
// HILOTAIL: "bar.sync 1, 256;"
// HILOTAIL: scf.for %{{.*}} = %[[FROMO]] to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[SO]]#0,
// HILOTAIL-COUNT-16: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// HILOTAIL-NOT: wgmma.mma_async
// HILOTAIL: "bar.sync 1, 256;"
// ERR-HILOTAIL: stateHiLoTailLog2 = 12 must be 0 (hi + lo throughout) or 1..64 with the hi + lo state update and the wgmma kernels
// ERR-HILOTAIL65: stateHiLoTailLog2 = 65 must be 0

// With a split: 2 x 4 blocks per head in both chunk kernels, lin / H = 2·s + slice.
// The local states hold Sᵀ too (4 stages of K and V's slice: 4 x 24 KB + 1 KB).
// VSSPLIT: kernel lightning_prefill_h8_d128_bf16_c64_s4_wg_v2_states grid=12,8,batch block=128 smem=99328
// VSSPLIT-SAME: kernel lightning_prefill_h8_d128_bf16_c64_s4_wg_v2_out grid=8,8,batch block=256 smem=181248
// VSSPLIT-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_v2_states(
// VSSPLIT: arith.divui %{{.*}}, %{{.*}} : index
// VSSPLIT: "bar.sync 3, 128;"
// VSSPLIT-COUNT-4: nvvm.ldmatrix {{.*}} layout = #nvvm.mma_layout<col>, num = 4 : i32
// VSSPLIT: scf.for {{.*}} step %c2
// VSSPLIT-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// VSSPLIT: "bar.sync 3, 128;"
// VSSPLIT-COUNT-4: nvvm.ldmatrix {{.*}} layout = #nvvm.mma_layout<col>, num = 4 : i32
// VSSPLIT-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// VSSPLIT-NOT: wgmma.mma_async
// VSSPLIT: scf.yield
// VSSPLIT-COUNT-8: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// VSSPLIT-NOT: wgmma.mma_async
// VSSPLIT: scf.yield
// VSSPLIT-COUNT-64: memref.store {{.*}} : memref<{{[0-9]+}}xf32>

// ERR-VS: lightning prefill kernel generator: valueSlices = 4 is not supported: 1, or a split of the value dimension into slices of at least 64 columns with the wgmma kernels (D = 128)
// ERR-VS-MMA: lightning prefill kernel generator: valueSlices = 2 is not supported: 1, or a split of the value dimension into slices of at least 64 columns with the wgmma kernels (D = 128, mma.sync kernels)

// Programmatic dependent launch: the scan and outputs kernels are marked to
// overlap the kernel before them. The local-states kernel lets the scan be
// scheduled at once; the scan lets the outputs kernel be scheduled, then
// waits for the local states; the outputs kernel's state warpgroup waits
// only after the prologue's Q, K, V loads, right before reading its scanned
// workspace slot (%arg6).
// PDL: mm01.lightning_prefill = "{{[^;]*}};kernel {{[a-z0-9_]+}}_states {{[^;]*}}params=k,v,cu_seqlens,workspace;kernel {{[a-z0-9_]+}}_scan {{[^;]*}} overlap=1;kernel {{[a-z0-9_]+}}_out {{[^;]*}} overlap=1"
// PDL-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_states(
// PDL: nvvm.griddepcontrol launch_dependents
// PDL-NEXT: gpu.block_id x
// PDL-NOT: griddepcontrol
// The scan reads the incoming state (%arg0), never the workspace (%arg2),
// before it waits for the local states.
// PDL-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_scan(
// PDL-NEXT: nvvm.griddepcontrol launch_dependents
// PDL-NOT: %arg2[
// PDL: vector.load %arg0[
// PDL-NOT: %arg2[
// PDL: nvvm.griddepcontrol wait
// PDL-NOT: griddepcontrol
// Its chain loads 8 segments' slots at a time (the outputs kernel's items
// 16: SCANOUT).
// PDL: %[[EIGHT:.*]] = arith.constant 8 : index
// PDL: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[EIGHT]]
// PDL-COUNT-8: vector.load %arg2[
// PDL-NOT: griddepcontrol
// PDL-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_out(
// PDL-NOT: griddepcontrol
// PDL-NOT: %arg6[
// PDL: nvvm.cp.async.shared.global
// PDL-NOT: %arg6[
// PDL: nvvm.griddepcontrol wait
// PDL-NOT: griddepcontrol
// PDL: vector.load %arg6[
// PDL-NOT: griddepcontrol
// PDL: gpu.return

// Without a split there is nothing to overlap.
// NOPDL-NOT: overlap=1
// NOPDL-NOT: griddepcontrol

// TAIL: mm01.lightning_prefill = "H=8 D=128 NS=4 VS=1 silu=0 hilo=1 tail_log2=64 outputs_tail_log2=32 split_chunks=16 parts=2 max_batch={{.*}} workspace=batch*4194304 {{.*}}_wg_states grid=6,8,batch
// TAIL-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_states(
// Blocks: lin / H = s·2 + part (two parts by default).
// TAIL: %[[X:.*]] = arith.divui %{{.*}}, %c8{{.*}} : index
// TAIL: %[[PART:.*]] = arith.remui %[[X]], %c2{{.*}} : index
// TAIL: %[[S:.*]] = arith.divui %[[X]], %c2{{.*}} : index
// The chunks the local state reads: from the head's tail, split in parts
// where they are at least 16.
// TAIL: arith.constant 3 : index
// TAIL: arith.constant 4 : index
// TAIL: arith.constant 7 : index
// TAIL: arith.constant 13 : index
// TAIL: arith.constant 25 : index
// TAIL: arith.constant 50 : index
// TAIL: arith.constant 100 : index
// TAIL: %[[C201:.*]] = arith.constant 201 : index
// TAIL: %[[TAIL64:.*]] = arith.select %{{.*}}, %[[C201]], %{{.*}} : index
// The sequence's last segment, in chunks: len - (cdiv(len, segLen) - 1)·segLen.
// TAIL: %[[NSEG:.*]] = arith.divsi %{{.*}}, %[[SEGLEN:.*]] : index
// TAIL: %[[NSEG1:.*]] = arith.subi %[[NSEG]], %{{.*}} : index
// TAIL: %[[BEFORE:.*]] = arith.muli %[[NSEG1]], %[[SEGLEN]] : index
// TAIL: %[[LAST:.*]] = arith.subi %[[LEN:.*]], %[[BEFORE]] : index
// TAIL: %[[LASTCH:.*]] = arith.divui %[[LAST]], %c64{{.*}} : index
// The outputs tails (2^-32: 2 .. 112 chunks) and the differences (1 .. 89):
// where the last segment covers the difference, the outputs tail.
// TAIL: arith.constant 2 : index
// TAIL: %[[C112:.*]] = arith.constant 112 : index
// TAIL: %[[TAIL32:.*]] = arith.select %{{.*}}, %[[C112]], %{{.*}} : index
// TAIL: %[[C89:.*]] = arith.constant 89 : index
// TAIL: %[[GAP:.*]] = arith.select %{{.*}}, %[[C89]], %{{.*}} : index
// TAIL: %[[SHORT:.*]] = arith.cmpi slt, %[[LASTCH]], %[[GAP]] : index
// TAIL: %[[TAIL:.*]] = arith.select %[[SHORT]], %[[TAIL64]], %[[TAIL32]] : index
// TAIL: %[[DROP:.*]] = arith.subi %[[NCH:.*]], %[[TAIL]] : index
// TAIL: %[[C0:.*]] = arith.maxsi %[[DROP]], %{{.*}} : index
// TAIL: %[[READS0:.*]] = arith.subi %[[NCH]], %[[C0]] : index
// TAIL: %[[READS:.*]] = arith.maxsi %[[READS0]], %{{.*}} : index
// Parts of cdiv(reads, 2) chunks where the reads are at least 16 (else one
// of all of them); cdiv(reads, partLen) parts.
// TAIL: %[[HALF:.*]] = arith.divui %{{.*}}, %c2{{.*}} : index
// TAIL: %[[C16:.*]] = arith.constant 16 : index
// TAIL: %[[FEW:.*]] = arith.cmpi slt, %[[READS]], %[[C16]] : index
// TAIL: %[[LEN:.*]] = arith.select %[[FEW]], %[[READS]], %[[HALF]] : index
// TAIL: %[[NPARTS:.*]] = arith.divui %{{.*}}, %[[LEN]] : index
// TAIL: %[[SKIP:.*]] = arith.muli %[[PART]], %[[LEN]] : index
// TAIL: %[[FIRST:.*]] = arith.addi %[[C0]], %[[SKIP]] : index
// TAIL: %[[END:.*]] = arith.addi %[[FIRST]], %[[LEN]] : index
// TAIL: %[[LAST:.*]] = arith.minsi %[[NCH]], %[[END]] : index
// Only the parts the reads were split into run (none is empty).
// TAIL: %[[ISPART:.*]] = arith.cmpi slt, %[[PART]], %[[NPARTS]] : index
// TAIL: %[[ACTIVE:.*]] = arith.andi %{{.*}}, %[[ISPART]] : i1
// TAIL: arith.muli %[[FIRST]], %c64
// TAIL: arith.muli %[[LAST]], %c64
// TAIL: scf.if %[[ACTIVE]]
// Part p's state goes to slot p·NS + s + 1.
// TAIL: %[[NEXT:.*]] = arith.addi %[[S]], %c1{{.*}} : index
// TAIL: %[[PARTOFF:.*]] = arith.muli %[[PART]], %c4{{.*}} : index
// TAIL: arith.addi %[[NEXT]], %[[PARTOFF]] : index
// The scan weighs part 0 by e^{-λ·(tokens after it)} (1 where it is the
// only part) and adds part 1, likewise weighed, where the reads were split
// (and loads none where nothing was); the (b, h) workspace holds 2·NS slots.
// TAIL-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_scan(
// TAIL: arith.muli %{{.*}}, %c8{{.*}} : index
// TAIL: arith.constant 201 : index
// TAIL: arith.constant 16 : index
// TAIL: %[[SLEN:.*]] = arith.select %{{.*}}, %{{.*}}, %{{.*}} : index
// TAIL: %[[SPARTS:.*]] = arith.divui %{{.*}}, %[[SLEN]] : index
// TAIL: %[[END0:.*]] = arith.minsi %[[SREADS:.*]], %[[SLEN]] : index
// TAIL: %[[AFTER0:.*]] = arith.subi %[[SREADS]], %[[END0]] : index
// TAIL: arith.muli %[[AFTER0]], %c64
// TAIL: %[[W0:.*]] = math.exp2
// TAIL: %[[WV0:.*]] = vector.broadcast %[[W0]]
// TAIL: %[[W1:.*]] = math.exp2
// TAIL: %[[WV1:.*]] = vector.broadcast %[[W1]]
// Every part's loads are issued before the first is used (a missing part
// reads as 0): part 0 weighted, then part 1 added, then the chain.
// TAIL: scf.for
// TAIL: %[[Y0:.*]] = vector.load %arg2[
// TAIL: %[[SPLITS:.*]] = arith.cmpi slt, %c1{{.*}}, %[[SPARTS]] : index
// TAIL: %[[WITH1:.*]]:8 = scf.if %[[SPLITS]] -> (vector<4xf32>
// TAIL: vector.load %arg2[
// TAIL-NOT: vector.fma
// TAIL: } else {
// TAIL-NEXT: scf.yield %[[ZERO:.*]], %[[ZERO]],
// TAIL: %[[Y0W:.*]] = arith.mulf %[[Y0]], %[[WV0]] : vector<4xf32>
// TAIL-NEXT: %[[SUM:.*]] = vector.fma %[[WITH1]]#0, %[[WV1]], %[[Y0W]]
// TAIL: vector.fma %{{.*}}, %{{.*}}, %[[SUM]]
// The outputs kernel reads whole segments.
// TAIL-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_out(
// TAIL-NOT: arith.constant 201 : index
// TAIL: gpu.return

// One local-states block per segment (local-states-split-chunks=0).
// SPLIT0: mm01.lightning_prefill = "H=8 D=128 NS=4 VS=1 silu=0 hilo=1 tail_log2=64 outputs_tail_log2=32 split_chunks=0 parts=2 max_batch={{.*}} workspace=batch*2097152 {{.*}}_wg_states grid=3,8,batch
// SPLIT0-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_scan(
// The segment decay only, no first halves' weight.
// SPLIT0: math.exp2
// SPLIT0-NOT: math.exp2
// SPLIT0: gpu.return

// ERR-SPLIT: lightning prefill kernel generator: localStatesSplitChunks = 1 must be 0 (one local-states block per segment) or at least 2
// ERR-PARTS: lightning prefill kernel generator: localStatesParts = 5 must be 2..64 and at most localStatesSplitChunks (4)
// ERR-PARTS1: lightning prefill kernel generator: localStatesParts = 1 must be 2..64 and at most localStatesSplitChunks (16)

// Four parts: 4 x 4 local-states blocks per head, 4·NS workspace slots per
// (b, h), part p's state in slot p·NS + s + 1; the scan adds parts 1-3, each
// only where the reads were split into that many, loading 4 segments a
// round (16 / parts) so that all of a round's part loads are in flight.
// PARTS4: mm01.lightning_prefill = "H=8 D=128 NS=4 VS=1 silu=0 hilo=1 tail_log2=64 outputs_tail_log2=32 split_chunks=16 parts=4 max_batch={{.*}} workspace=batch*8388608 {{.*}}_wg_states grid=12,8,batch
// PARTS4-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_states(
// PARTS4: %[[PART:.*]] = arith.remui %{{.*}}, %c4{{.*}} : index
// PARTS4: arith.divui %{{.*}}, %c4{{.*}} : index
// PARTS4: arith.muli %[[PART]], %c4{{.*}} : index
// PARTS4-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_scan(
// PARTS4-COUNT-4: math.exp2
// PARTS4: scf.for
// PARTS4: arith.cmpi slt, %c1{{.*}}, %[[N:.*]] : index
// PARTS4: scf.if
// PARTS4-COUNT-4: vector.load %arg2[{{.*}}] {{.*}} : memref<33554432xf32>, vector<4xf32>
// PARTS4-NEXT: scf.yield
// PARTS4: arith.cmpi slt, %c2{{.*}}, %[[N]] : index
// PARTS4: scf.if
// PARTS4: arith.cmpi slt, %c3{{.*}}, %[[N]] : index
// PARTS4: scf.if
// PARTS4-NOT: arith.cmpi slt, %c4{{.*}}, %[[N]] : index
// PARTS4: gpu.return

// EXACT: mm01.lightning_prefill = "H=8 D=128 NS=4 VS=1 silu=0 hilo=1 tail_log2=0 outputs_tail_log2=32 split_chunks=16 parts=2 max_batch=
// EXACT-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_states(
// EXACT-NOT: arith.constant 201 : index
// EXACT: gpu.return

// ERR-TAIL: lightning prefill kernel generator: localStatesDropLog2 = -1 must be >= 0 (0: local states from every token)
// ERR-OUTTAIL: lightning prefill kernel generator: localStatesOutputsDropLog2 = -1 must be >= 0 (0: local states from the localStatesDropLog2 tail)

// OUTTAIL0: outputs_tail_log2=0
// OUTTAIL0-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_states(
// OUTTAIL0: %[[C201:.*]] = arith.constant 201 : index
// OUTTAIL0: %[[T64:.*]] = arith.select %{{.*}}, %[[C201]], %{{.*}} : index
// OUTTAIL0-NOT: arith.constant 112 : index
// OUTTAIL0: arith.subi %{{.*}}, %[[T64]] : index

// TAILMIX-LABEL: gpu.func @lightning_prefill_h2_d64_bf16_c64_s4_wg_states(
// TAILMIX: %[[ALL:.*]] = arith.constant 66 : index
// TAILMIX: %[[C3:.*]] = arith.constant 3 : index
// TAILMIX: arith.select %{{.*}}, %[[C3]], %[[ALL]] : index

// NOTAIL-LABEL: gpu.func @lightning_prefill_h2_d64_bf16_c64_s4_wg_states(
// NOTAIL-NOT: arith.constant 66 : index
// NOTAIL: gpu.return

// SCANOUT: mm01.lightning_prefill = "H=8 D=128 NS=4 VS=1 {{.*}} workspace=batch*4194340 scan_in_out=1 decay=
// SCANOUT-SAME: kernel lightning_prefill_h8_d128_bf16_c64_s4_wg_states grid=6,8,batch block=128 smem=66560 params=k,v,cu_seqlens,workspace;kernel lightning_prefill_h8_d128_bf16_c64_s4_wg_out grid=4,8,batch block=256 smem=230400 params=q,k,v,state,out,cu_seqlens,workspace overlap=1"
// SCANOUT-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_states(
// SCANOUT: %[[CTR:.*]] = arith.muli %grid_dim_z{{.*}}, %c1048576{{.*}} : index
// SCANOUT: memref.atomic_rmw assign %{{.*}}, %arg3[%{{.*}}] : (f32, memref<2097170xf32>) -> f32
// SCANOUT: memref.atomic_rmw assign %{{.*}}, %arg3[%{{.*}}] : (f32, memref<2097170xf32>) -> f32
// The clears are released before the outputs kernel may start (it claims
// before it waits).
// SCANOUT: "fence.acq_rel.gpu;"
// SCANOUT: nvvm.griddepcontrol launch_dependents
// SCANOUT-NOT: wg_scan
// The first item is claimed, and its incoming state (%arg3) read, before
// the wait; the workspace's slots only after it.
// SCANOUT-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_out(
// SCANOUT-NOT: griddepcontrol
// SCANOUT: memref.atomic_rmw addf %{{.*}}, %arg6[%{{.*}}] : (f32, memref<2097170xf32>) -> f32
// SCANOUT: llvm.store %{{.*}} : f32, !llvm.ptr<3>
// SCANOUT: gpu.barrier
// SCANOUT: llvm.load %{{.*}} : !llvm.ptr<3> -> f32
// SCANOUT-NOT: %arg6[
// SCANOUT: vector.load %arg3[{{.*}}] {{.*}}: memref<262144xf32>, vector<4xf32>
// SCANOUT-NOT: %arg6[
// SCANOUT: nvvm.griddepcontrol wait
// Then the next claim (its result used after the item), and the item, its
// segments' slots 16 at a time.
// SCANOUT: memref.atomic_rmw addf %{{.*}}, %arg6[%{{.*}}] : (f32, memref<2097170xf32>) -> f32
// SCANOUT: vector.store %{{.*}}, %arg6[{{.*}}] {{.*}}: memref<2097170xf32>, vector<4xf32>
// SCANOUT: %[[SIXTEEN:.*]] = arith.constant 16 : index
// SCANOUT: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[SIXTEEN]]
// SCANOUT-COUNT-16: vector.load %arg6[{{.*}}] {{.*}}: memref<2097170xf32>, vector<4xf32>
// SCANOUT: vector.store %{{.*}}, %arg6[{{.*}}] {{.*}}: memref<2097170xf32>, vector<4xf32>
// SCANOUT: "fence.acq_rel.gpu;"
// SCANOUT: arith.constant 1.000000e+00 : f32
// SCANOUT-NEXT: memref.atomic_rmw addf %{{.*}}, %arg6[%{{.*}}] : (f32, memref<2097170xf32>) -> f32
// SCANOUT: llvm.store %{{.*}} : f32, !llvm.ptr<3>
// SCANOUT: scf.while
// SCANOUT: scf.condition
// SCANOUT: scf.while
// SCANOUT: memref.atomic_rmw addf %{{.*}}, %arg6[%{{.*}}] : (f32, memref<2097170xf32>) -> f32
// SCANOUT-NEXT: arith.constant 1.600000e+01 : f32
// SCANOUT-NEXT: arith.cmpf olt
// SCANOUT: "fence.acq_rel.gpu;"
// SCANOUT: "bar.sync 3, 128;"
// ERR-SCANOUT: scanInOutputs needs the wgmma kernels
// LONGH8: mm01.lightning_prefill = "H=8 D=128 NS=32 VS=1 {{.*}} hilo_tail=12 segment_lead=512 long_call_tokens=16384 decay=
// LONGH8-NOT: scan_in_out
// LONGH8-SAME: _wg_scan grid=128,batch,1
// LONGH8-SAME: mm01.lightning_prefill_long = "H=8 D=128 NS=32 VS=1 {{.*}} parts=2 {{.*}} hilo_tail=12 segment_lead=512 scan_in_out=1 decay=
// LONGH8-SAME: ;kernel lightning_prefill_h8_d128_bf16_c64_s32_hilotail12_wg_states_1 grid=62,8,batch {{[^;]*}};kernel lightning_prefill_h8_d128_bf16_c64_s32_hilotail12_wg_out_1 grid=32,8,batch {{[^;]*}} overlap=1"}

// The local-states kernel reads its chunks last first (the outputs kernel
// then finds the chunks it reads first in L2): loop index ci loads chunk
// nch-1-ci (here ci + 1, the ring's next) and weighs it by the decay over
// the (nch-1 - that chunk)·C = ci·C tokens after it.
// LASTFIRST-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_states(
// LASTFIRST: scf.for %[[CI:.*]] = %{{.*}} to %[[NCH:.*]] step
// LASTFIRST: %[[NEXT:.*]] = arith.addi %[[CI]], %c1{{.*}} : index
// LASTFIRST-NEXT: arith.cmpi slt, %[[NEXT]], %[[NCH]] : index
// LASTFIRST-NEXT: scf.if
// LASTFIRST: %[[LAST:.*]] = arith.subi %[[NCH]], %c1{{.*}} : index
// LASTFIRST-NEXT: %[[CHUNK:.*]] = arith.subi %[[LAST]], %[[NEXT]] : index
// LASTFIRST: arith.muli %[[CHUNK]], %c64{{.*}} : index
// LASTFIRST: %[[L0:.*]] = arith.subi %[[NCH]], %c1{{.*}} : index
// LASTFIRST-NEXT: %[[J:.*]] = arith.subi %[[L0]], %[[CI]] : index
// LASTFIRST: %[[L1:.*]] = arith.subi %[[NCH]], %c1{{.*}} : index
// LASTFIRST-NEXT: %[[AFTERCH:.*]] = arith.subi %[[L1]], %[[J]] : index
// LASTFIRST: %[[AFTER:.*]] = arith.muli %[[AFTERCH]], %c64{{.*}} : index
// LASTFIRST-NEXT: %[[AI:.*]] = arith.index_cast %[[AFTER]] : index to i32
// LASTFIRST-NEXT: %[[AF:.*]] = arith.sitofp %[[AI]] : i32 to f32
// LASTFIRST-NEXT: %[[E:.*]] = arith.mulf %{{.*}}, %[[AF]] : f32
// LASTFIRST-NEXT: "ex2.approx.ftz.f32 $0, $1;", "=f,f" %[[E]]
// LASTFIRST-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_scan(

// The local states' slots are stored L2 evict_last (kept in L2 while the
// slowest heads' K, V tails stream through it, until the scan reads them):
// one policy, then the 64 pairs of the thread's state values; the outputs
// kernel's final state stays a plain store. (With value slices the state
// is transposed and stored as scalars, VSSPLIT.)
// SLOTS-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_states(
// SLOTS: "createpolicy.fractional.L2::evict_last.b64 $0, 1.0;"
// SLOTS-COUNT-64: "st.global.L2::cache_hint.v2.f32 [$0], {$1, $2}, $3;"
// SLOTS-NOT: vector.store
// SLOTS: gpu.return
// SLOTS-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_out(
// SLOTS-NOT: cache_hint
// SLOTS: vector.store {{.*}} : memref<{{[0-9]+}}xf32>, vector<2xf32>
// SLOTS-NOT: cache_hint
// SLOTS: gpu.return

// The timeline probe (instrumentation, test pass only): the workspace
// grows by the records (1 MiB + 16 bytes a sequence) and the plan says so;
// each chunk kernel stamps %globaltimer (local states: start, end; outputs:
// start, the wait's return, the first item, all items, the count seen by
// the state warpgroup, its first chunk, end). Without it: no stamps.
// TIMELINE: workspace=batch*5242932
// TIMELINE-SAME: timeline=1
// TIMELINE-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_states(
// TIMELINE-COUNT-2: "mov.u64 $0, %globaltimer;"
// TIMELINE-NOT: %globaltimer
// TIMELINE: "{ .reg .u32 t; mov.u32 t, %smid; cvt.u64.u32 $0, t; }"
// TIMELINE-LABEL: gpu.func @lightning_prefill_h8_d128_bf16_c64_s4_wg_out(
// TIMELINE: "mov.u64 $0, %globaltimer;"
// TIMELINE: nvvm.griddepcontrol wait
// TIMELINE: "mov.u64 $0, %globaltimer;"
// NOTIMELINE: workspace=batch*4194340
// NOTIMELINE-NOT: timeline=1
// NOTIMELINE-NOT: globaltimer
// ERR-TIMELINE: lightning prefill kernel generator: probeTimeline needs the wgmma kernels
