// Whole runs of the MatrixOne-style cluster (bank workload), one seed per iteration, as a
// sweep runs them: committed transactions per wall second, simulated seconds per wall second
// and events per second (rates per second of the benchmark thread's CPU time), and events
// and tasks per committed transaction.
//
//   ninja -C build cluster_bench && build/bench/cluster_bench --benchmark_min_time=2
//   scripts/build-pgo && build-pgo/bench/cluster_bench --benchmark_min_time=2  # Faster.
//
// Three shapes of run, each with every phase a run has (elections, setup, the workload under
// its fault plan, heal, restart and crash of every server, the final read, the checks):
//   BM_ClusterBank      the default scenario (3 clients x 20 transactions, 5 accounts), by
//                       fault profile and isolation: what `hindcast sweep` does per seed;
//   BM_ClusterBankLong  3 clients x 400 transactions: the same load for longer, so the fixed
//                       cost of a run (elections, recovery, the restarts at the end, the
//                       final read) is spread thin;
//   BM_ClusterBankBusy  12 clients (4 per CN) x 100 transactions over 32 accounts, SI.
// Issue 3's goals, bank with light faults: >= 50,000 committed transactions and >= 1,000
// simulated seconds per wall second on one core.
//
// Built by scripts/build-pgo (profile-guided and link-time optimization, trained on every
// workload and mode on seeds no benchmark runs), the default SI scenario meets both goals at
// the median: five runs of it alternating with build/'s, --benchmark_min_time=2, measured
// 49,800-54,200 committed transactions (median 53,000) and 964-1,049 simulated s/s (median
// 1,026), against build/'s 44,900-45,800 and 869-887. The default RC scenario, about 51,700
// and 896, misses the second; a slow minute (the host's speed swings by up to 1.7x) misses
// both.
//
// The budget. At the 2.4-3.4 M events per wall second of build/'s 3-client shapes, 50,000
// commits/s allows 48-67 events per committed transaction. Over seeds 1..40 a default light
// run takes 78 per commit (130,012 events and 85,584 tasks, 1,672 commits): ~56 while the
// workload runs (its aborted tries included: a third of the default tries abort on a write
// conflict; each try is some 20 messages, and each log replica's write-through, read-back,
// metadata write-through and read-back), the rest at start-up (the first election, the TN's
// recovery, the CNs' subscriptions), in the restart of every server at the end and the final
// read. A long run spreads that fixed part thin; the 12-client shapes batch several commits
// per log append.
//
// Simulated seconds per wall second measure how much of a run is idle, as much as how fast
// events go. The default run used to idle a lot: through the rest of a fixed 2 s fault plan
// after its last transaction, and in 41% of runs through a client's 2 s timeout on a request
// its CN had lost. Both are gone (the plan spans the workload; clients probe a request left
// unanswered), which took 22% of its events and half of its simulated time (33 simulated
// seconds over seeds 1..40, against 92). The long and busy shapes idle less, so their
// simulated s/s stay far below 1,000 in any build.
// Tried and dropped (callgrind, seeds 1..40): link-time optimization alone, 2.5% more
// instructions (with the profile it pays: build-pgo without it was 1.09x build/, with it
// 1.18x, alternating 2,000-seed sweeps); prefetching the allocator's next free block, no
// wall-time gain; -march=native on top of build-pgo's flags, no gain over 4 alternating runs.
#include <benchmark/benchmark.h>

#include <string>

#include "properties/cluster_run.h"

namespace hindcast::properties {
namespace {

void RunBank(benchmark::State& state, ClusterScenario s) {
  double committed = 0, sim_seconds = 0, events = 0, tasks = 0;
  uint64_t violations = 0;
  for (auto _ : state) {
    const ClusterReport r = RunCluster(s, {});
    ++s.seed;
    committed += static_cast<double>(r.committed);
    sim_seconds += static_cast<double>(r.end_time.ns()) / 1e9;
    events += static_cast<double>(r.events);
    tasks += static_cast<double>(r.steps);
    // No bug is planted: a violation is a finding, counted so the figures still come out.
    if (r.verdict == Verdict::kViolation) ++violations;
  }
  state.counters["committed_txns"] = benchmark::Counter(committed, benchmark::Counter::kIsRate);
  state.counters["sim_s"] = benchmark::Counter(sim_seconds, benchmark::Counter::kIsRate);
  state.counters["events"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
  // What a commit costs in simulation work: the budget the rates above are spent on. It
  // depends on the seeds run (1, 2, ..., one per iteration), not on the machine.
  if (committed > 0) {
    state.counters["events_per_commit"] = events / committed;
    state.counters["tasks_per_commit"] = tasks / committed;
  }
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
