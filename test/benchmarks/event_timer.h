// EventTimer::median(launch): the median event-timed duration (ms) of 21
// runs of `launch` after 3 warm-up runs, on the default stream (the
// measurement programs in this folder).
#ifndef MM01_TEST_BENCHMARKS_EVENT_TIMER_H
#define MM01_TEST_BENCHMARKS_EVENT_TIMER_H

#include "cuda_check.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <vector>

class EventTimer {
public:
  EventTimer() {
    CHECK(cudaEventCreate(&e0_));
    CHECK(cudaEventCreate(&e1_));
  }
  ~EventTimer() {
    cudaEventDestroy(e0_);
    cudaEventDestroy(e1_);
  }
  EventTimer(const EventTimer &) = delete;
  EventTimer &operator=(const EventTimer &) = delete;

  template <class Launch> float median(Launch launch) {
    for (int i = 0; i < 3; ++i)
      launch();
    std::vector<float> t;
    for (int i = 0; i < 21; ++i) {
      CHECK(cudaEventRecord(e0_));
      launch();
      CHECK(cudaEventRecord(e1_));
      CHECK(cudaEventSynchronize(e1_));
      float ms;
      CHECK(cudaEventElapsedTime(&ms, e0_, e1_));
      t.push_back(ms);
    }
    CHECK(cudaGetLastError());
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  }

private:
  cudaEvent_t e0_, e1_;
};

#endif // MM01_TEST_BENCHMARKS_EVENT_TIMER_H
