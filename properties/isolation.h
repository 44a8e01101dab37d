// The transactional isolation checker: Adya/Elle anomalies from a client history.
//
// It builds the dependency graph of the committed (and possibly committed) transactions —
// ww, wr and rw edges on keys, process (session) edges and real-time edges — finds its
// strongly connected components and, inside each, the shortest cycle of each kind: G0 (ww
// only), G1c (ww and wr), G-single-item (exactly one rw), G-nonadjacent-item (no two rw
// adjacent), G2-item (any rw), and their -process and -realtime variants, which need a
// session or a real-time edge. It also reports the anomalies that are not cycles: G1a
// (aborted read), G1b (intermediate read), internal inconsistency, incompatible order,
// duplicate elements, garbage reads and lost updates. Every anomaly names its transactions;
// every cycle comes with its edges, an Elle-style explanation and Graphviz DOT.
//
//   absl::StatusOr<TxnHistory> h = ParseEdnHistory(text);
//   CheckOptions options;
//   options.consistency = {Consistency::kSerializable};
//   absl::StatusOr<CheckResult> r = CheckIsolation(*h, options);
//   if (r.ok() && !r->valid) std::puts(r->Report(*h).c_str());
//
// Black-box inference (imported histories): for list-append the version order of a key is
// its longest read, every other read must be a prefix of it, and a committed append that no
// read observed comes after all of it — so a read that misses an append precedes that
// append's transaction (this is how an empty read precedes every committed append to its
// key, which Elle does not infer). For rw-register only what is sound is used: the initial
// nil state precedes every write, and a transaction's write follows the version it read.
// White-box mode (`version_order`, which the simulator knows) uses the true order instead.
#ifndef HINDCAST_PROPERTIES_ISOLATION_H_
#define HINDCAST_PROPERTIES_ISOLATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "properties/history.h"
#include "properties/isolation_history.h"

namespace hindcast::properties {

enum class DataModel : uint8_t { kAuto, kListAppend, kRwRegister };
std::string_view DataModelName(DataModel model);
std::optional<DataModel> ParseDataModel(std::string_view name);

// The consistency models the checker can judge, weakest first. Which anomalies each one
// proscribes follows Elle's consistency-model map.
enum class Consistency : uint8_t {
  kReadUncommitted,
  kReadCommitted,
  kRepeatableRead,
  kSnapshotIsolation,
  kSerializable,
  kStrongSessionSerializable,
  kStrongSnapshotIsolation,
  kStrictSerializable,
};
inline constexpr int kConsistencyCount = 8;
std::string_view ConsistencyName(Consistency model);
std::optional<Consistency> ParseConsistency(std::string_view name);
// Whether `anomaly` (a name such as "G2-item") is proscribed by `model`.
bool Proscribes(Consistency model, std::string_view anomaly);

// Edge types of the dependency graph, as bits.
enum EdgeType : uint8_t {
  kEdgeWW = 1,
  kEdgeWR = 2,
  kEdgeRW = 4,
  kEdgeProcess = 8,
  kEdgeRealtime = 16,
};
std::string_view EdgeTypeName(EdgeType type);

struct KeyVersionOrder {
  int64_t key = 0;
  std::vector<int64_t> values;  // The committed writes (appends) to `key`, in order.
};

struct CheckOptions {
  DataModel model = DataModel::kAuto;  // kAuto: list-append when any op appends or reads a list.
  std::vector<Consistency> consistency = {Consistency::kStrictSerializable};
  // White-box: the true version order of every key written. Replaces inference.
  std::optional<std::vector<KeyVersionOrder>> version_order;
  // Reported cycles per anomaly name (the search still covers every SCC).
  int max_cycles_per_anomaly = 4;
  // Edge visits allowed per cycle search (one anomaly kind in one SCC). Counted, not timed,
  // so a run is deterministic; a search that runs out is reported in `search_incomplete`.
  int64_t search_budget = 50'000'000;
  bool explain = true;  // Build explanation text and DOT for each cycle.
};

struct CycleEdge {
  uint32_t from = 0;  // Transaction ids (indices into TxnHistory::txns).
  uint32_t to = 0;
  EdgeType type = kEdgeWW;
  std::string why;  // "T2 observed T1's append of 3 to :x"-style, with T-names of the cycle.
};

struct Anomaly {
  std::string name;              // "G1c", "G-single-item-realtime", "G1a", "lost-update", ...
  std::vector<uint32_t> txns;    // The transactions involved (cycle order for cycles).
  std::vector<CycleEdge> cycle;  // Empty for anomalies that are not cycles.
  std::string time_travel;       // "stale read", "immortal write", "causal reverse" or "".
  std::string detail;            // One line for non-cycle anomalies.
  std::string explanation;       // Elle-style "Let: ... Then: ... a contradiction!" for cycles.
  std::string dot;               // Graphviz digraph of the cycle.
  bool proscribed = false;       // By one of the requested consistency models.
  // Cycles: no cycle of this kind in the same strongly connected component is shorter. False
  // only when proving it would have cost more than the search allows (a huge component).
  bool shortest = false;
};

struct CheckResult {
  bool valid = true;  // No anomaly proscribed by the requested models.
  DataModel model = DataModel::kAuto;
  std::vector<Consistency> checked;
  std::vector<Anomaly> anomalies;          // Deterministic order: by name, then transactions.
  std::vector<std::string> anomaly_types;  // Distinct names found, sorted.
  std::vector<std::string> not_models;     // The weakest models the anomalies violate.
  std::vector<std::string> also_not;       // The other (stronger) violated models.
  bool search_incomplete = false;          // Some cycle search ran out of budget.
  size_t txn_count = 0;
  size_t edge_count = 0;
  size_t largest_scc = 0;

  bool Has(std::string_view anomaly) const;
  // The first anomaly named `name`, or nullptr.
  const Anomaly* Find(std::string_view name) const;
  // A human-readable report: verdict, models, anomalies and explanations.
  std::string Report(const TxnHistory& history) const;
};

[[nodiscard]] absl::StatusOr<CheckResult> CheckIsolation(const TxnHistory& history,
                                                         const CheckOptions& options);
[[nodiscard]] absl::StatusOr<CheckResult> CheckIsolation(const History& history,
                                                         const CheckOptions& options);

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_ISOLATION_H_
