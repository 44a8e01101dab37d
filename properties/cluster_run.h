// Runs one scenario of the MatrixOne-style cluster end to end and judges it.
//
//   ClusterScenario s{.seed = 7, .workload = "bank", .faults = sim::FaultProfile::kHeavy};
//   ClusterReport r = RunCluster(s, {});
//
// Phases, as for the register: the workload under the fault plan; heal and restart every
// server; crash and restart every server and read everything back. Checks:
// - bank: every transfer moves money between two accounts, so the total is always 0. Under
//   snapshot isolation every committed read of all accounts must sum to 0; under read
//   committed only the final read must. Each transfer also writes a marker key, and every
//   acknowledged transfer's marker must be present after the restarts (durability).
// - counter: each transaction adds 1; the final value must lie between the number of
//   acknowledged increments and that plus the unknown ones.
#ifndef HINDCAST_PROPERTIES_CLUSTER_RUN_H_
#define HINDCAST_PROPERTIES_CLUSTER_RUN_H_

#include <cstdint>
#include <optional>
#include <string>

#include "nodes/txn/cluster.h"
#include "properties/linearizability.h"
#include "properties/register_run.h"
#include "sim/fault_plan.h"

namespace hindcast::properties {

struct ClusterScenario {
  uint64_t seed = 1;
  std::string workload = "bank";  // bank | counter
  sim::FaultProfile faults = sim::FaultProfile::kLight;
  std::optional<sim::FaultPlan> plan;
  nodes::txn::Isolation isolation = nodes::txn::Isolation::kSnapshot;
  nodes::txn::Mode mode = nodes::txn::Mode::kPessimistic;
  nodes::txn::ClusterBugs bugs;
  int cns = 3;
  int clients = 3;
  int txns_per_client = 20;
  size_t spill_threshold_bytes = 1 << 20;
};

struct ClusterReport {
  uint64_t seed = 0;
  uint64_t fingerprint = 0;
  Verdict verdict = Verdict::kOk;
  std::string failure;
  std::string explanation;
  size_t committed = 0;
  size_t aborted = 0;
  size_t unknown = 0;
  sim::FaultPlan plan;
  sim::FaultStats faults;
  sim::Instant end_time;
  uint64_t events = 0;
  uint64_t steps = 0;
};

ClusterReport RunCluster(const ClusterScenario& scenario, const RunOptions& options);

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_CLUSTER_RUN_H_
