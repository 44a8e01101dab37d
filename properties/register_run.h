// Runs one scenario of the demo replicated register end to end and judges it.
//
//   RegisterScenario s{.seed = 7, .faults = sim::FaultProfile::kHeavy,
//                      .bug_ack_before_replicate = true};
//   RunReport r = RunRegister(s, {});
//   if (r.verdict == Verdict::kViolation) std::cerr << r.failure << "\n" << r.explanation;
//
// A run has three phases: the workload under the fault plan (generated from the seed's
// "faults" stream unless the scenario carries a plan); then a clean-up that heals the
// network, lifts disk faults and brings every server back; then a durability phase that
// crashes and restarts every server and has a client read the register until a read
// succeeds. The whole client history, the final read included, must be linearizable: an
// acknowledged write that a crash lost shows up as a read that no order can explain.
#ifndef HINDCAST_PROPERTIES_REGISTER_RUN_H_
#define HINDCAST_PROPERTIES_REGISTER_RUN_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "properties/history.h"
#include "properties/linearizability.h"
#include "sim/event_log.h"
#include "sim/fault_plan.h"

namespace hindcast::properties {

struct RegisterScenario {
  uint64_t seed = 1;
  sim::FaultProfile faults = sim::FaultProfile::kLight;
  std::optional<sim::FaultPlan> plan;  // Replaces the generated plan when set.
  bool bug_ack_before_replicate = false;
  int clients = 3;
  int ops_per_client = 30;
};

struct RunOptions {
  sim::EventLog::Retention retention = sim::EventLog::Retention::kFingerprintOnly;
  // When set, called with the finished run's event log (with Retention::kFull it holds
  // every event), before the world is torn down.
  std::function<void(const sim::EventLog&)> inspect_log;
};

struct RunReport {
  uint64_t seed = 0;
  uint64_t fingerprint = 0;
  Verdict verdict = Verdict::kOk;
  std::string failure;      // One line naming what failed; empty when ok.
  std::string explanation;  // The checker's account of the failure.
  size_t ops_ok = 0;
  size_t ops_fail = 0;
  size_t ops_info = 0;
  sim::FaultPlan plan;
  sim::FaultStats faults;
  sim::Instant end_time;
  uint64_t events = 0;
  uint64_t steps = 0;
  History history;
};

RunReport RunRegister(const RegisterScenario& scenario, const RunOptions& options);

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_REGISTER_RUN_H_
