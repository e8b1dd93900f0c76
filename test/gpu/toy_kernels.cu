// Kernels of the runtime test's toy engine (test/unit/runtime/ToyEngine.h),
// compiled to PTX and to a fatbin at build time. The parameter lists follow
// the manifest's: pointers, i32, i64, u32, f32 (docs/gpu-engine-abi.md).
// Explicitly rounded operations (__fadd_rn, __fmul_rn) so that the host
// reference computes bit-identical activations.
#include <cuda_bf16.h>

extern "C" __global__ void toy_embed(const int *ids, const int *positions,
                                     const float *table, float *x, __nv_bfloat16 *xb,
                                     int rows, int cols, float pos_scale) {
  long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (i >= (long long)rows * cols)
    return;
  long long r = i / cols, c = i % cols;
  float v = __fadd_rn(table[(long long)ids[r] * cols + c],
                      __fmul_rn(pos_scale, (float)positions[r]));
  x[i] = v;
  xb[i] = __float2bfloat16_rn(v);
}

extern "C" __global__ void toy_accumulate(const int *token_seq, const int *positions,
                                          const float *x, float *state, float *cache,
                                          long long rows, unsigned cols, int max_context) {
  long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (i >= rows * cols)
    return;
  long long r = i / cols, c = i % cols;
  long long s = token_seq[r];
  atomicAdd(&state[s * cols + c], x[i]);
  cache[(s * max_context + positions[r]) * cols + c] = x[i];
}
