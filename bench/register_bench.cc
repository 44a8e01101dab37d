// Whole runs of the demo replicated register (properties::RunRegister: 3 replicas and their
// clients under a fault plan, then the linearizability check), as a seed sweep does them.
// Reports, per second of the benchmark thread's CPU time:
//   runs    whole scenarios run and judged,
//   sim_s   simulated seconds (the runs' end times summed),
//   events  event-log events (the runs' RunReport::events summed).
// Iteration i runs seed i, so the figure is a sweep over seeds, not one seed repeated.
//
//   cd /work/main && mkdir -p build-bench && cd build-bench
//   cmake -G Ninja .. -DCMAKE_BUILD_TYPE=Release && ninja register_bench
//   ./bench/register_bench --benchmark_min_time=0.5
//
// `full:1` keeps every event in memory (Retention::kFull, what a replay with tracing does);
// the difference from `full:0` is what retention costs a sweep.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "properties/linearizability.h"
#include "properties/register_run.h"
#include "sim/event_log.h"
#include "sim/fault_plan.h"

namespace hindcast::properties {
namespace {

// Args: faults (sim::FaultProfile: 0 none, 1 light, 2 heavy), full (event retention).
void BM_RegisterRun(benchmark::State& state) {
  const auto faults = static_cast<sim::FaultProfile>(state.range(0));
  RunOptions options;
  if (state.range(1) != 0) options.retention = sim::EventLog::Retention::kFull;
  uint64_t seed = 0;
  double sim_seconds = 0;
  double events = 0;
  uint64_t violations = 0;
  for (auto _ : state) {
    const RunReport report = RunRegister({.seed = seed++, .faults = faults}, options);
    sim_seconds += static_cast<double>(report.end_time.ns()) / 1e9;
    events += static_cast<double>(report.events);
    // No bug is planted, so a violation is a finding about the register or the checker,
    // not noise; it is counted rather than fatal so the figures still come out.
    if (report.verdict != Verdict::kOk) ++violations;
  }
  const double runs = static_cast<double>(state.iterations());
  state.counters["runs"] = benchmark::Counter(runs, benchmark::Counter::kIsRate);
  state.counters["sim_s"] = benchmark::Counter(sim_seconds, benchmark::Counter::kIsRate);
  state.counters["events"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
  state.counters["events_per_run"] = events / runs;
  state.counters["violations"] = static_cast<double>(violations);
  state.SetLabel(std::string(sim::FaultProfileName(faults)));
}
BENCHMARK(BM_RegisterRun)->ArgsProduct({{0, 1, 2}, {0, 1}})->ArgNames({"faults", "full"});

}  // namespace
}  // namespace hindcast::properties
