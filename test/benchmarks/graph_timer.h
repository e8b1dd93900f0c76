// graphMedianUs(sets, launch): µs per launch, the median of 31 replays
// (after 3) of a CUDA graph of max(20, sets) launches, launch i on input
// set i % sets (rotating over enough sets to miss L2), as the decode
// benchmark times ours and the peer's calls (the measurement programs in
// this folder).
#ifndef MM01_TEST_BENCHMARKS_GRAPH_TIMER_H
#define MM01_TEST_BENCHMARKS_GRAPH_TIMER_H

#include "cuda_check.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <vector>

template <class Launch> float graphMedianUs(int sets, Launch launch) {
  cudaStream_t s;
  CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  const int calls = std::max(20, sets);
  cudaGraph_t g;
  cudaGraphExec_t ge;
  CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < calls; ++i)
    launch(s, i % sets);
  CHECK(cudaStreamEndCapture(s, &g));
  CHECK(cudaGraphInstantiate(&ge, g, 0));
  cudaEvent_t e0, e1;
  CHECK(cudaEventCreate(&e0));
  CHECK(cudaEventCreate(&e1));
  for (int w = 0; w < 3; ++w)
    CHECK(cudaGraphLaunch(ge, s));
  std::vector<float> t;
  for (int r = 0; r < 31; ++r) {
    CHECK(cudaEventRecord(e0, s));
    CHECK(cudaGraphLaunch(ge, s));
    CHECK(cudaEventRecord(e1, s));
    CHECK(cudaEventSynchronize(e1));
    float ms;
    CHECK(cudaEventElapsedTime(&ms, e0, e1));
    t.push_back(ms * 1e3f / calls);
  }
  std::sort(t.begin(), t.end());
  CHECK(cudaEventDestroy(e0));
  CHECK(cudaEventDestroy(e1));
  CHECK(cudaGraphExecDestroy(ge));
  CHECK(cudaGraphDestroy(g));
  CHECK(cudaStreamDestroy(s));
  return t[t.size() / 2];
}

#endif // MM01_TEST_BENCHMARKS_GRAPH_TIMER_H
