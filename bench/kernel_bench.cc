// Kernel throughput on one core: bare events through the simulator's queue, appends to the
// event log, messages delivered by the simulated network, and draws from the seeded PRNG.
// Every figure is items per second of the benchmark thread's CPU time (items_per_second).
//
//   cd /work/main && mkdir -p build-bench && cd build-bench
//   cmake -G Ninja .. -DCMAKE_BUILD_TYPE=Release && ninja kernel_bench
//   ./bench/kernel_bench --benchmark_min_time=0.5
//   ./bench/kernel_bench --benchmark_filter=BareEventQueue --benchmark_min_time=0.5
//
// The kernel's goal is at least 10 million bare events per second; BM_BareEventQueue with
// fan:1 is that figure (a chain: each task schedules the next), and larger fans show how it
// falls as the heap deepens. Each benchmark keeps its world in a steady state, so the figure
// excludes set-up and describes a long run, not a short one.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/assert.h"
#include "sim/event_log.h"
#include "sim/network.h"
#include "sim/node.h"
#include "sim/random.h"
#include "sim/simulator.h"
#include "sim/time.h"

namespace hindcast::sim {
namespace {

// Tasks run per Run() call: large enough that the call's own cost vanishes, small enough
// that Google Benchmark can stop close to its time budget.
constexpr uint64_t kStepsPerIteration = 4096;

// Runs kStepsPerIteration tasks per benchmark iteration (the queue never runs dry);
// returns the tasks run.
uint64_t RunSteps(benchmark::State& state, Simulator& sim) {
  uint64_t steps = 0;
  for (auto _ : state) {
    const RunResult r = sim.Run({.step_limit = kStepsPerIteration});
    HC_ASSERT(r.reason == StopReason::kStepLimit);
    steps += r.steps;
  }
  return steps;
}

// --- Bare event queue ---------------------------------------------------------------------

// A self-rescheduling task: each firing schedules its successor, so the queue holds exactly
// `fan` pending tasks in steady state. Delays vary in [1, 1024] ns (a benchmark-local LCG,
// not a simulation stream) so new entries land at different heap depths, as timers and
// message arrivals do; with equal delays every push would sink straight to the bottom.
struct Ticker {
  Simulator* sim;
  uint64_t lcg;
  void Fire() {
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    // The lambda captures one pointer, so AnyInvocable stores it inline (no allocation).
    sim->Schedule(Duration::Nanos(1 + static_cast<int64_t>(lcg >> 54)), [this] { Fire(); });
  }
};

// Args: fan (pending tasks), shuffle (SimulatorOptions::shuffle_ties).
void BM_BareEventQueue(benchmark::State& state) {
  const auto fan = static_cast<size_t>(state.range(0));
  Simulator sim({.seed = 1, .shuffle_ties = state.range(1) != 0});
  // Never resized: scheduled tasks hold pointers into it.
  std::vector<Ticker> tickers(fan);
  for (size_t i = 0; i < fan; ++i) {
    tickers[i] = {&sim, Mix64(i + 1)};
    tickers[i].Fire();
  }
  const uint64_t steps = RunSteps(state, sim);
  HC_ASSERT(sim.pending_tasks() == fan);
  state.SetItemsProcessed(static_cast<int64_t>(steps));
}
BENCHMARK(BM_BareEventQueue)
    ->ArgsProduct({{1, 64, 4096, 65536}, {0, 1}})
    ->ArgNames({"fan", "shuffle"});

// A request/timeout chain, as RPCs with deadlines run: each firing arms a 1 s timeout, then
// schedules its reply, which cancels the timeout and fires again. The queue holds one live
// task per chain and, without the sweep of cancelled entries, every dead timeout of the last
// simulated second (98% of a cluster run's queue).
struct Requester {
  Simulator* sim;
  uint64_t lcg;
  TimerId timeout;
  void Fire() {
    sim->Cancel(timeout);
    timeout = sim->Schedule(Duration::Seconds(1), [] {});
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    sim->Schedule(Duration::Micros(1 + static_cast<int64_t>(lcg >> 54)), [this] { Fire(); });
  }
};

// Args: chains.
void BM_CancelledTimeouts(benchmark::State& state) {
  const auto chains = static_cast<size_t>(state.range(0));
  Simulator sim({.seed = 1});
  std::vector<Requester> requesters(chains);
  for (size_t i = 0; i < chains; ++i) {
    requesters[i] = {&sim, Mix64(i + 1), TimerId{}};
    requesters[i].Fire();
  }
  const uint64_t steps = RunSteps(state, sim);
  state.counters["queue"] = static_cast<double>(sim.pending_tasks());
  state.SetItemsProcessed(static_cast<int64_t>(steps));
}
BENCHMARK(BM_CancelledTimeouts)->Arg(1)->Arg(16)->ArgName("chains");

// --- Event log ----------------------------------------------------------------------------

// Appends per iteration, into a fresh log: a full-retention log grows without bound, so each
// iteration pays for one log's growth and release, as a run does.
constexpr uint64_t kEventsPerLog = 1 << 16;

// Args: full (0 = fingerprint only, 1 = full retention), payload (bytes per event).
void BM_EventLogAppend(benchmark::State& state) {
  const EventLog::Retention retention =
      state.range(0) != 0 ? EventLog::Retention::kFull : EventLog::Retention::kFingerprintOnly;
  const std::string payload(static_cast<size_t>(state.range(1)), 'p');
  uint64_t appended = 0;
  uint64_t fingerprints = 0;
  for (auto _ : state) {
    EventLog log(retention);
    for (uint64_t i = 0; i < kEventsPerLog; ++i) {
      log.Append({.time = Instant::FromNanos(static_cast<int64_t>(i) * 1000),
                  .node = static_cast<NodeId>(i & 3),
                  .kind = (i & 1) != 0 ? EventKind::kDeliver : EventKind::kSend,
                  .cause = i,
                  .a = (i + 1) & 3,
                  .b = payload.size(),
                  .payload = payload});
    }
    fingerprints ^= log.fingerprint();
    appended += log.count();
  }
  benchmark::DoNotOptimize(fingerprints);
  state.SetItemsProcessed(static_cast<int64_t>(appended));
}
BENCHMARK(BM_EventLogAppend)->ArgsProduct({{0, 1}, {0, 32}})->ArgNames({"full", "payload"});

// --- Network ------------------------------------------------------------------------------

// Messages each node keeps in flight; the network holds nodes * kWindowPerNode of them.
constexpr uint32_t kWindowPerNode = 4;
// Tasks per Run() call. Smaller than kStepsPerIteration so that drops (which end a relay
// chain) are topped up before the window drains: at 1% drops two nodes lose about 2.6 of
// their 8 messages per call, on average.
constexpr uint64_t kNetworkStepsPerIteration = 256;
// Eight bytes: within std::string's small-string buffer, so a send allocates nothing and the
// figure is the network's own cost.
constexpr std::string_view kPing = "ping0000";

// Each delivery makes the receiver send one message on, to every other node in turn, so all
// nodes * (nodes - 1) links carry traffic and the number in flight stays constant (minus
// drops, which the benchmark loop tops up).
class RelayNode : public Node {
 public:
  RelayNode(Network* network, NodeId id, uint32_t nodes)
      : network_(network), id_(id), nodes_(nodes) {}

  void Start() override {
    for (uint32_t i = 0; i < kWindowPerNode; ++i) SendNext();
  }
  void Receive(NodeId from, Payload& payload) override { SendNext(); }

  void SendNext() {
    const NodeId to = (id_ + 1 + rotation_++ % (nodes_ - 1)) % nodes_;
    network_->Send(id_, to, std::string(kPing));
  }

 private:
  Network* network_;
  NodeId id_;
  uint32_t nodes_;
  uint32_t rotation_ = 0;
};

// Args: nodes, reorder (LinkParams::reorder), drop_ppm. Latencies are the defaults.
void BM_NetworkDeliveries(benchmark::State& state) {
  const auto nodes = static_cast<uint32_t>(state.range(0));
  HC_ASSERT(nodes >= 2);
  Simulator sim({.seed = 1});
  Network network(sim, {.default_link = {.drop_ppm = static_cast<uint32_t>(state.range(2)),
                                         .reorder = state.range(1) != 0}});
  std::vector<RelayNode*> relays(nodes);
  for (NodeId id = 0; id < nodes; ++id) {
    sim.AddNode(id, "relay", [&, nodes](NodeId self) {
      auto node = std::make_unique<RelayNode>(&network, self, nodes);
      relays[self] = node.get();
      return node;
    });
  }
  const uint64_t window = uint64_t{nodes} * kWindowPerNode;
  uint64_t top_up = 0;
  const LinkCounters before = network.totals();
  const uint64_t steps_before = sim.total_steps();
  for (auto _ : state) {
    sim.Run({.step_limit = kNetworkStepsPerIteration});
    // Drops shrink the window; the harness sends for the nodes to restore it.
    for (uint64_t n = network.totals().in_flight; n < window; ++n) {
      relays[top_up++ % nodes]->SendNext();
    }
  }
  const LinkCounters& after = network.totals();
  state.SetItemsProcessed(static_cast<int64_t>(after.delivered - before.delivered));
  state.counters["sends"] = benchmark::Counter(static_cast<double>(after.sent - before.sent),
                                               benchmark::Counter::kIsRate);
  state.counters["steps"] = benchmark::Counter(
      static_cast<double>(sim.total_steps() - steps_before), benchmark::Counter::kIsRate);
  state.counters["dropped"] = static_cast<double>(after.dropped() - before.dropped());
}
BENCHMARK(BM_NetworkDeliveries)
    ->ArgsProduct({{2, 16, 128}, {0, 1}, {0, 10'000}})
    ->ArgNames({"nodes", "reorder", "drop_ppm"});

// --- PRNG ---------------------------------------------------------------------------------

// Draws per iteration, so the benchmark loop's own cost is amortized.
constexpr int kDrawsPerIteration = 64;

void BM_RngNext(benchmark::State& state) {
  Rng rng(42);
  uint64_t sum = 0;
  for (auto _ : state) {
    for (int i = 0; i < kDrawsPerIteration; ++i) sum += rng.Next();
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kDrawsPerIteration);
}
BENCHMARK(BM_RngNext);

// Arg: n. 6 is a die; 1'000'000 is every Chance(ppm) draw; 3 * 2^61 rejects about one draw
// in four (2^64 mod n = 2^62), the slow path of Lemire's method.
void BM_RngUniform(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  Rng rng(42);
  uint64_t sum = 0;
  for (auto _ : state) {
    for (int i = 0; i < kDrawsPerIteration; ++i) sum += rng.Uniform(n);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kDrawsPerIteration);
}
BENCHMARK(BM_RngUniform)->Arg(6)->Arg(1'000'000)->Arg(int64_t{3} << 61)->ArgName("n");

}  // namespace
}  // namespace hindcast::sim
