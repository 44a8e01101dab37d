// Whole runs of the MatrixOne-style cluster (bank workload), one seed per iteration, as a
// sweep does: committed transactions per wall second, simulated seconds per wall second and
// events per second, by fault profile and isolation. Rates are per second of CPU time.
//
//   cmake -G Ninja .. -DCMAKE_BUILD_TYPE=Release && ninja cluster_bench
//   ./bench/cluster_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <string>

#include "properties/cluster_run.h"

namespace hindcast::properties {
namespace {

// Args: faults (0 none, 1 light, 2 heavy), isolation (0 si, 1 rc).
void BM_ClusterBank(benchmark::State& state) {
  const auto faults = static_cast<sim::FaultProfile>(state.range(0));
  const auto isolation = state.range(1) == 0 ? nodes::txn::Isolation::kSnapshot
                                             : nodes::txn::Isolation::kReadCommitted;
  uint64_t seed = 0;
  double committed = 0, sim_seconds = 0, events = 0;
  uint64_t violations = 0;
  for (auto _ : state) {
    const ClusterReport r = RunCluster(
        {.seed = seed++, .workload = "bank", .faults = faults, .isolation = isolation}, {});
    committed += static_cast<double>(r.committed);
    sim_seconds += static_cast<double>(r.end_time.ns()) / 1e9;
    events += static_cast<double>(r.events);
    // No bug is planted: a violation is a finding, counted so the figures still come out.
    if (r.verdict == Verdict::kViolation) ++violations;
  }
  state.counters["committed_txns"] = benchmark::Counter(committed, benchmark::Counter::kIsRate);
  state.counters["sim_s"] = benchmark::Counter(sim_seconds, benchmark::Counter::kIsRate);
  state.counters["events"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
  state.counters["violations"] = static_cast<double>(violations);
}
BENCHMARK(BM_ClusterBank)->ArgsProduct({{0, 1, 2}, {0, 1}})->ArgNames({"faults", "rc"});

}  // namespace
}  // namespace hindcast::properties
