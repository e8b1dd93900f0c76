//===- SampleMain.cpp - mm01-engine-sample (test helper) ------------------===//
//
// Writes the sample engine of SampleEngine.h for the lit tests:
//   mm01-engine-sample OUT [--checkpoint DIR [--record-path PATH]]
//
//===----------------------------------------------------------------------===//

#include "SampleEngine.h"

#include <cstdio>
#include <string>

int main(int argc, char **argv) {
  mm01::engine::test::SampleOptions options;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--checkpoint" && i + 1 < argc)
      options.checkpointDir = argv[++i];
    else if (arg == "--record-path" && i + 1 < argc)
      options.recordedPath = argv[++i];
    else if (out.empty() && !arg.empty() && arg[0] != '-')
      out = arg;
    else {
      std::fprintf(stderr, "usage: mm01-engine-sample OUT [--checkpoint DIR "
                           "[--record-path PATH]]\n");
      return 2;
    }
  }
  if (out.empty()) {
    std::fprintf(stderr, "mm01-engine-sample: error: no output file given\n");
    return 2;
  }
  auto writer = mm01::engine::test::makeSampleEngine(options);
  if (!writer) {
    std::fprintf(stderr, "mm01-engine-sample: error: %s\n", writer.error().c_str());
    return 1;
  }
  mm01::Status ok = writer->write(out);
  if (!ok) {
    std::fprintf(stderr, "mm01-engine-sample: error: %s\n", ok.error().c_str());
    return 1;
  }
  return 0;
}
