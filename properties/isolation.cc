#include "properties/isolation.h"

#include <algorithm>
#include <array>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "properties/isolation_internal.h"
#include "sim/absl_compat.h"

namespace hindcast::properties {
namespace {

using isolation_internal::FoundCycle;
using isolation_internal::Inference;

// Every anomaly a consistency model can proscribe, as bits.
constexpr std::array<std::string_view, 22> kAnomalyNames = {
    "G0",
    "duplicate-elements",
    "garbage-read",
    "G1a",
    "G1b",
    "G1c",
    "incompatible-order",
    "internal",
    "G-single-item",
    "G-nonadjacent-item",
    "G2-item",
    "lost-update",
    "G0-process",
    "G1c-process",
    "G-single-item-process",
    "G-nonadjacent-item-process",
    "G2-item-process",
    "G0-realtime",
    "G1c-realtime",
    "G-single-item-realtime",
    "G-nonadjacent-item-realtime",
    "G2-item-realtime",
};

constexpr uint32_t Bits(std::initializer_list<int> indexes) {
  uint32_t out = 0;
  for (int i : indexes) out |= uint32_t{1} << i;
  return out;
}

// What each model proscribes, expanded through Elle's implications (a model proscribes what
// every weaker model does; G-single-item implies G-nonadjacent-item implies G2-item; a
// -process anomaly implies its -realtime one).
constexpr uint32_t kReadUncommitted = Bits({0, 1, 2});
constexpr uint32_t kReadCommitted = kReadUncommitted | Bits({3, 4, 5, 6});
constexpr uint32_t kRepeatableRead = kReadCommitted | Bits({8, 9, 10, 11});
constexpr uint32_t kSnapshotIsolation = kReadCommitted | Bits({7, 8, 9, 11});
constexpr uint32_t kSerializable = kRepeatableRead | kSnapshotIsolation;
constexpr uint32_t kStrongSessionSerializable = kSerializable | Bits({12, 13, 14, 15, 16});
constexpr uint32_t kStrongSnapshotIsolation =
    kSnapshotIsolation | Bits({12, 13, 14, 15, 17, 18, 19, 20});
constexpr uint32_t kStrictSerializable =
    kStrongSessionSerializable | kStrongSnapshotIsolation | Bits({21});

struct ModelInfo {
  std::string_view name;
  uint32_t proscribed;
  uint8_t weaker;  // Bits of the models this one implies (transitively).
};

constexpr uint8_t M(Consistency c) { return uint8_t{1} << static_cast<int>(c); }

constexpr std::array<ModelInfo, kConsistencyCount> kModels = {{
    {"read-uncommitted", kReadUncommitted, 0},
    {"read-committed", kReadCommitted, M(Consistency::kReadUncommitted)},
    {"repeatable-read", kRepeatableRead,
     M(Consistency::kReadCommitted) | M(Consistency::kReadUncommitted)},
    {"snapshot-isolation", kSnapshotIsolation,
     M(Consistency::kReadCommitted) | M(Consistency::kReadUncommitted)},
    {"serializable", kSerializable,
     M(Consistency::kRepeatableRead) | M(Consistency::kSnapshotIsolation) |
         M(Consistency::kReadCommitted) | M(Consistency::kReadUncommitted)},
    {"strong-session-serializable", kStrongSessionSerializable,
     M(Consistency::kSerializable) | M(Consistency::kRepeatableRead) |
         M(Consistency::kSnapshotIsolation) | M(Consistency::kReadCommitted) |
         M(Consistency::kReadUncommitted)},
    {"strong-snapshot-isolation", kStrongSnapshotIsolation,
     M(Consistency::kSnapshotIsolation) | M(Consistency::kReadCommitted) |
         M(Consistency::kReadUncommitted)},
    {"strict-serializable", kStrictSerializable, 0x7f},
}};

uint32_t AnomalyBit(std::string_view anomaly) {
  for (size_t i = 0; i < kAnomalyNames.size(); ++i) {
    if (kAnomalyNames[i] == anomaly) return uint32_t{1} << i;
  }
  return 0;
}

// Labels a real-time cycle with the time-travel anomaly it shows, if any.
std::string TimeTravel(const TxnHistory& h, const FoundCycle& c) {
  if (!c.name.ends_with("-realtime")) return "";
  auto before = [&](uint32_t first, uint32_t second) {
    return h.txns[first].complete_position != kNoPosition &&
           h.txns[first].complete_position < h.txns[second].invoke_position;
  };
  bool has[32] = {};
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    const uint32_t from = c.nodes[i];
    const uint32_t to = c.nodes[(i + 1) % c.nodes.size()];
    has[c.types[i]] = true;
    // A read that missed a write which completed before the read began.
    if (c.types[i] == kEdgeRW && before(to, from)) return "stale read";
  }
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    const uint32_t from = c.nodes[i];
    const uint32_t to = c.nodes[(i + 1) % c.nodes.size()];
    // A write ordered before one that completed before it began: the earlier write lives on.
    if (c.types[i] == kEdgeWW && before(to, from)) return "immortal write";
  }
  // T1 finished before T2 began, yet someone saw T2's effect without T1's.
  if (has[kEdgeRealtime] && has[kEdgeWR] && has[kEdgeRW]) return "causal reverse";
  return "";
}

std::string DotEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

void Explain(const TxnHistory& h, const Inference& inference, Anomaly* a) {
  const size_t k = a->txns.size();
  auto name = [&](uint32_t txn) -> std::string {
    for (size_t i = 0; i < k; ++i) {
      if (a->txns[i] == txn) return absl::StrCat("T", i + 1);
    }
    return absl::StrCat("T?", txn);
  };
  std::string text = "Let:\n";
  std::string dot = absl::StrCat("digraph \"", a->name, "\" {\n  rankdir=LR;\n");
  for (size_t i = 0; i < k; ++i) {
    const std::string op = h.FormatTxn(a->txns[i]);
    absl::StrAppend(&text, "  T", i + 1, " = ", op, "\n");
    absl::StrAppend(&dot, "  T", i + 1, " [shape=box, label=\"T", i + 1, "\\n", DotEscape(op),
                    "\"];\n");
  }
  text.append("\nThen:\n");
  for (size_t i = 0; i < k; ++i) {
    CycleEdge& e = a->cycle[i];
    e.why = inference.Why(e.from, e.to, e.type, name);
    const bool last = i + 1 == k;
    absl::StrAppend(&text, "  - ", last ? "However, " : "", name(e.from), " < ", name(e.to),
                    ", because ", e.why, last ? ": a contradiction!\n" : ".\n");
    absl::StrAppend(&dot, "  ", name(e.from), " -> ", name(e.to), " [label=\"",
                    Sv(EdgeTypeName(e.type)), "\"];\n");
  }
  dot.append("}\n");
  a->explanation = std::move(text);
  a->dot = std::move(dot);
}

}  // namespace

std::string_view DataModelName(DataModel model) {
  switch (model) {
    case DataModel::kAuto:
      return "auto";
    case DataModel::kListAppend:
      return "list-append";
    case DataModel::kRwRegister:
      return "rw-register";
  }
  return "unknown";
}

std::optional<DataModel> ParseDataModel(std::string_view name) {
  for (DataModel m : {DataModel::kAuto, DataModel::kListAppend, DataModel::kRwRegister}) {
    if (DataModelName(m) == name) return m;
  }
  return std::nullopt;
}

std::string_view ConsistencyName(Consistency model) {
  return kModels[static_cast<size_t>(model)].name;
}

std::optional<Consistency> ParseConsistency(std::string_view name) {
  for (size_t i = 0; i < kModels.size(); ++i) {
    if (kModels[i].name == name) return static_cast<Consistency>(i);
  }
  return std::nullopt;
}

bool Proscribes(Consistency model, std::string_view anomaly) {
  return (kModels[static_cast<size_t>(model)].proscribed & AnomalyBit(anomaly)) != 0;
}

std::string_view EdgeTypeName(EdgeType type) {
  switch (type) {
    case kEdgeWW:
      return "ww";
    case kEdgeWR:
      return "wr";
    case kEdgeRW:
      return "rw";
    case kEdgeProcess:
      return "process";
    case kEdgeRealtime:
      return "realtime";
  }
  return "?";
}

bool CheckResult::Has(std::string_view anomaly) const { return Find(anomaly) != nullptr; }

const Anomaly* CheckResult::Find(std::string_view name) const {
  for (const Anomaly& a : anomalies) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

absl::StatusOr<CheckResult> CheckIsolation(const TxnHistory& history, const CheckOptions& options) {
  CheckResult result;
  result.model = options.model;
  if (result.model == DataModel::kAuto) {
    result.model = std::any_of(history.mops.begin(), history.mops.end(),
                               [](const TxnMop& m) {
                                 return m.kind == MopKind::kAppend || m.form == ReadForm::kList;
                               })
                       ? DataModel::kListAppend
                       : DataModel::kRwRegister;
  }
  result.checked = options.consistency;
  result.txn_count = history.txns.size();
  std::vector<uint64_t> edges;
  Inference inference(history, result.model, options.version_order);
  absl::Status status = inference.Run(&edges, &result.anomalies);
  if (!status.ok()) return status;
  isolation_internal::AddSessionEdges(history, &edges);
  result.edge_count = edges.size();
  isolation_internal::CycleSearchStats stats;
  std::vector<FoundCycle> cycles =
      isolation_internal::FindCycles(static_cast<uint32_t>(history.txns.size()), edges,
                                     options.max_cycles_per_anomaly, options.search_budget, &stats);
  result.largest_scc = stats.largest_scc;
  result.search_incomplete = stats.incomplete;
  for (FoundCycle& c : cycles) {
    Anomaly a;
    a.name = c.name;
    a.txns = c.nodes;
    a.shortest = c.shortest;
    for (size_t i = 0; i < c.nodes.size(); ++i) {
      a.cycle.push_back(CycleEdge{
          .from = c.nodes[i], .to = c.nodes[(i + 1) % c.nodes.size()], .type = c.types[i]});
    }
    a.time_travel = TimeTravel(history, c);
    if (options.explain) Explain(history, inference, &a);
    result.anomalies.push_back(std::move(a));
  }
  std::stable_sort(result.anomalies.begin(), result.anomalies.end(),
                   [](const Anomaly& x, const Anomaly& y) {
                     return std::tie(x.name, x.txns) < std::tie(y.name, y.txns);
                   });
  uint32_t found = 0;
  for (Anomaly& a : result.anomalies) {
    found |= AnomalyBit(a.name);
    for (Consistency c : options.consistency) a.proscribed |= Proscribes(c, a.name);
    result.valid &= !a.proscribed;
    if (result.anomaly_types.empty() || result.anomaly_types.back() != a.name) {
      result.anomaly_types.push_back(a.name);
    }
  }
  uint8_t violated = 0;
  for (size_t i = 0; i < kModels.size(); ++i) {
    if (kModels[i].proscribed & found) violated |= uint8_t{1} << i;
  }
  for (size_t i = 0; i < kModels.size(); ++i) {
    if (!(violated & (1u << i))) continue;
    const bool weakest = (kModels[i].weaker & violated) == 0;
    (weakest ? result.not_models : result.also_not).emplace_back(kModels[i].name);
  }
  return result;
}

absl::StatusOr<CheckResult> CheckIsolation(const History& history, const CheckOptions& options) {
  return CheckIsolation(FromHistory(history), options);
}

}  // namespace hindcast::properties
