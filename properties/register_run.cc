#include "properties/register_run.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nodes/register/client.h"
#include "nodes/register/replica.h"
#include "nodes/world.h"
#include "properties/run_phases.h"
#include "sim/assert.h"

namespace hindcast::properties {
namespace {

using nodes::reg::HistoryRecorder;

// The fault plan covers the first second; clients normally finish well within it.
constexpr sim::Duration kFaultHorizon = sim::Duration::Seconds(1);
constexpr sim::Duration kWorkloadTimeLimit = sim::Duration::Seconds(60);
constexpr sim::Duration kPhaseTimeLimit = sim::Duration::Seconds(30);
constexpr int kFinalReadAttemptsMax = 50;

class Recorder : public HistoryRecorder {
 public:
  Recorder(sim::Simulator& sim, History& history) : sim_(sim), history_(history) {}

  uint64_t Invoke(sim::NodeId process, bool is_write, std::optional<int64_t> value) override {
    sim_.Record({.node = process,
                 .kind = sim::EventKind::kClientInvoke,
                 .a = is_write ? 1u : 0u,
                 .b = static_cast<uint64_t>(value.value_or(0))});
    return history_.Invoke(process, sim_.Now().ns(),
                           {is_write ? Mop::Write(0, *value) : Mop::Read(0)});
  }

  void Complete(uint64_t handle, Outcome outcome, std::optional<int64_t> read_value) override {
    const Op& invoke = history_.ops()[handle];
    Mop mop = invoke.mops[0];
    if (mop.kind == MopKind::kRead) mop.value = read_value;
    const OpType type = outcome == Outcome::kOk     ? OpType::kOk
                        : outcome == Outcome::kFail ? OpType::kFail
                                                    : OpType::kInfo;
    sim_.Record({.node = static_cast<sim::NodeId>(invoke.process),
                 .kind = type == OpType::kOk     ? sim::EventKind::kClientOk
                         : type == OpType::kFail ? sim::EventKind::kClientFail
                                                 : sim::EventKind::kClientInfo,
                 .a = handle,
                 .b = static_cast<uint64_t>(read_value.value_or(0))});
    history_.Complete(handle, type, sim_.Now().ns(), {mop});
  }

  void ClientFinished(sim::NodeId) override {
    if (--running_ == 0) sim_.Stop();
  }

  void set_running(int n) { running_ = n; }

 private:
  sim::Simulator& sim_;
  History& history_;
  int running_ = 0;
};

}  // namespace

RunReport RunRegister(const RegisterScenario& scenario, const RunOptions& options) {
  HC_ASSERT(scenario.clients >= 1 && scenario.ops_per_client >= 0);
  RunReport report;
  report.seed = scenario.seed;
  nodes::World world({.seed = scenario.seed, .retention = options.retention});
  sim::Simulator& sim = world.sim();
  Recorder recorder(sim, report.history);

  const nodes::reg::ReplicaOptions replica_options{.bug_ack_before_replicate =
                                                       scenario.bug_ack_before_replicate};
  for (sim::NodeId id = 0; id < nodes::reg::kReplicas; ++id) {
    world.AddServer(id, absl::StrCat("replica-", id), [&](nodes::NodeEnv& env) {
      return std::make_unique<nodes::reg::Replica>(env, replica_options);
    });
  }
  // Clients are owned by the simulator; keep pointers to drive the final read.
  std::vector<nodes::reg::Client*> clients;
  recorder.set_running(scenario.clients);
  const nodes::reg::ClientOptions client_options{.ops_max = scenario.ops_per_client};
  for (int c = 0; c < scenario.clients; ++c) {
    const sim::NodeId id = nodes::reg::kReplicas + c;
    world.AddClient(id, absl::StrCat("client-", id), [&](nodes::NodeEnv& env) {
      auto client = std::make_unique<nodes::reg::Client>(env, recorder, client_options);
      clients.push_back(client.get());
      return client;
    });
  }

  report.plan =
      RunUnderFaults(world, scenario.plan, scenario.faults, kFaultHorizon, kWorkloadTimeLimit);
  RestartEverything(world);
  recorder.set_running(1);
  clients.front()->FinalRead(kFinalReadAttemptsMax);
  sim.Run({.time_limit = sim.Now() + kPhaseTimeLimit});

  report.history.CloseOpenAsInfo(sim.Now().ns());
  report.ops_ok = report.history.Count(OpType::kOk);
  report.ops_fail = report.history.Count(OpType::kFail);
  report.ops_info = report.history.Count(OpType::kInfo);

  const LinearizabilityResult lin = CheckRegisterLinearizable(report.history, /*key=*/0);
  report.verdict = lin.verdict;
  if (lin.verdict == Verdict::kViolation) {
    report.failure =
        "register history is not linearizable (an acknowledged write was lost "
        "or a read went back in time)";
    report.explanation = lin.explanation;
  } else if (lin.verdict == Verdict::kUnknown) {
    report.explanation = lin.explanation;
  }
  report.faults = world.fault_stats();
  report.end_time = sim.Now();
  report.events = sim.log().count();
  report.steps = sim.total_steps();
  report.fingerprint = sim.log().fingerprint();
  if (options.inspect_log) options.inspect_log(sim.log());
  return report;
}

}  // namespace hindcast::properties
