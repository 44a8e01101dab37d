// Runs one scenario of the MatrixOne-style cluster end to end and judges it.
//
//   ClusterScenario s{.seed = 7, .workload = "bank", .faults = sim::FaultProfile::kHeavy};
//   ClusterReport r = RunCluster(s, {});
//
// Phases: the workload's setup transactions (initial stock, say) before any fault; the
// workload under the fault plan; heal and restart every server; crash and restart every
// server and read everything back. The workload (properties/cluster_workloads.h) judges
// every outcome and the final read against its invariants. list-append and register also
// keep the client history in Jepsen's model, which the isolation checker judges at the
// level the cluster promises (RC: read-committed, SI: snapshot-isolation); anomalies only
// strict serializability forbids (stale reads, say) are reported as information.
#ifndef HINDCAST_PROPERTIES_CLUSTER_RUN_H_
#define HINDCAST_PROPERTIES_CLUSTER_RUN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nodes/txn/cluster.h"
#include "properties/cluster_workloads.h"
#include "properties/history.h"
#include "properties/linearizability.h"
#include "properties/register_run.h"
#include "sim/fault_plan.h"

namespace hindcast::properties {

struct ClusterScenario {
  uint64_t seed = 1;
  std::string workload = "bank";  // One of ClusterWorkloadNames().
  sim::FaultProfile faults = sim::FaultProfile::kLight;
  std::optional<sim::FaultPlan> plan;
  nodes::txn::Isolation isolation = nodes::txn::Isolation::kSnapshot;
  nodes::txn::Mode mode = nodes::txn::Mode::kPessimistic;
  nodes::txn::ClusterBugs bugs;
  int cns = 3;
  int log_replicas = 3;  // Odd; a majority must stay up.
  int clients = 3;
  int txns_per_client = 20;
  size_t spill_threshold_bytes = 1 << 20;
  int accounts = 5;  // bank only.
  // Per million messages, a late copy (sim::LinkParams::late_copy_ppm): what incarnation
  // fencing must survive. Off by default, so the fault profiles' runs are unchanged.
  uint32_t late_copy_ppm = 0;
  // Knobs drawn from the seed (its "knobs" stream), as FoundationDB randomizes its knobs,
  // instead of the defaults (nodes::txn::ClusterKnobs).
  bool random_knobs = false;
  // The planted application bug: inventory reserves with a check transaction and an update
  // transaction instead of one RESERVE.
  bool bug_inventory_check_then_update = false;
  // How long the workload may run before the final phase cuts it off (its open transactions
  // then count as unknown). Not a flag: tests shorten it.
  sim::Duration workload_time_limit = sim::Duration::Seconds(120);
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
  // Client transactions as micro-operations (empty unless `history_model` is set), the
  // final read included.
  HistoryModel history_model = HistoryModel::kNone;
  History history;
  // The isolation checker's verdict on `history` (list-append and register only): the
  // anomalies found, sorted; those the promised level proscribes make the run a violation,
  // the others (strict-serializability findings) are information.
  std::vector<std::string> anomalies;
  std::string info;
  // The knobs that differ from their defaults (ClusterKnobs::Describe); "" for defaults.
  std::string knobs;
};

ClusterReport RunCluster(const ClusterScenario& scenario, const RunOptions& options);

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_CLUSTER_RUN_H_
