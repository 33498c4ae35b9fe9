// The one main() of the micro-benchmark binary.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
