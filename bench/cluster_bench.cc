// Whole runs of the MatrixOne-style cluster (bank workload), one seed per iteration, as a
// sweep runs them: committed transactions per wall second, simulated seconds per wall second
// and events per second. Rates are per second of the benchmark thread's CPU time.
//
//   ninja -C build cluster_bench && build/bench/cluster_bench --benchmark_min_time=2
//
// Three shapes of run, each with every phase a run has (elections, setup, the workload under
// its fault plan, heal, restart and crash of every server, the final read, the checks):
//   BM_ClusterBank      the default scenario (3 clients x 20 transactions, 5 accounts), by
//                       fault profile and isolation: what `hindcast sweep` does per seed;
//   BM_ClusterBankLong  3 clients x 400 transactions: the same load for longer, so the fixed
//                       cost of a run (elections, the rest of the fault plan's 2 s, the
//                       restarts) is spread thin;
//   BM_ClusterBankBusy  12 clients (4 per CN) x 100 transactions over 32 accounts, SI.
// Issue 3's goals, bank with light faults: >= 50,000 committed transactions and >= 1,000
// simulated seconds per wall second on one core.
//
// Why no one shape meets both today. The goals are budgets of events. At the 2.5-2.7 M events
// per wall second of the 3-client shapes, 50,000 commits/s allows ~52 events per committed
// transaction and 1,000 simulated s/s ~2,600 events per simulated second. A committed
// transaction takes 52-58 events, its aborted tries included (some 20 messages, and each log
// replica's write, sync, read-back and metadata write); an idle cluster takes ~600 per simulated
// second (LogTail heartbeats to 3 CNs every 20 ms, Raft heartbeats every 30 ms). A long run, busy
// all the time, is at the first budget's edge and far over the second (6,700 events per simulated
// second); the default scenario, idle for most of its 2 s fault plan, is within the second and over
// the first (seed 1: 3,875 events for 41 commits, 1,300 of them after the last). The 12-client
// shapes batch several commits per log append (30-42 events per commit) but their events
// cost more (1.3-1.8 M per second). No load level fits both budgets until an event costs
// less or a commit takes fewer.
#include <benchmark/benchmark.h>

#include <string>

#include "properties/cluster_run.h"

namespace hindcast::properties {
namespace {

void RunBank(benchmark::State& state, ClusterScenario s) {
  double committed = 0, sim_seconds = 0, events = 0;
  uint64_t violations = 0;
  for (auto _ : state) {
    const ClusterReport r = RunCluster(s, {});
    ++s.seed;
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

nodes::txn::Isolation IsolationArg(int64_t rc) {
  return rc == 0 ? nodes::txn::Isolation::kSnapshot : nodes::txn::Isolation::kReadCommitted;
}

// Args: faults (0 none, 1 light, 2 heavy), isolation (0 si, 1 rc).
void BM_ClusterBank(benchmark::State& state) {
  RunBank(state, {.workload = "bank",
                  .faults = static_cast<sim::FaultProfile>(state.range(0)),
                  .isolation = IsolationArg(state.range(1))});
}
BENCHMARK(BM_ClusterBank)->ArgsProduct({{0, 1, 2}, {0, 1}})->ArgNames({"faults", "rc"});

// Light faults. Args: isolation (0 si, 1 rc).
void BM_ClusterBankLong(benchmark::State& state) {
  RunBank(state, {.workload = "bank",
                  .faults = sim::FaultProfile::kLight,
                  .isolation = IsolationArg(state.range(0)),
                  .txns_per_client = 400});
}
BENCHMARK(BM_ClusterBankLong)->Arg(0)->Arg(1)->ArgName("rc")->Unit(benchmark::kMillisecond);

// Light faults, SI. Args: mode (0 pessimistic, 1 optimistic).
void BM_ClusterBankBusy(benchmark::State& state) {
  RunBank(state, {.workload = "bank",
                  .faults = sim::FaultProfile::kLight,
                  .mode = state.range(0) == 0 ? nodes::txn::Mode::kPessimistic
                                              : nodes::txn::Mode::kOptimistic,
                  .clients = 12,
                  .txns_per_client = 100,
                  .accounts = 32});
}
BENCHMARK(BM_ClusterBankBusy)->Arg(0)->Arg(1)->ArgName("optimistic")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hindcast::properties
