// CheckResult::Report: the text `hindcast check` prints.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "properties/isolation.h"
#include "sim/absl_compat.h"

namespace hindcast::properties {

std::string CheckResult::Report(const TxnHistory& history) const {
  size_t ok = 0;
  size_t info = 0;
  size_t fail = 0;
  for (const Txn& t : history.txns) {
    ok += t.status == TxnStatus::kOk;
    info += t.status == TxnStatus::kInfo;
    fail += t.status == TxnStatus::kFail;
  }
  std::vector<std::string> models;
  for (Consistency c : checked) models.emplace_back(ConsistencyName(c));
  std::string out =
      absl::StrCat("model: ", Sv(DataModelName(model)), "; ", txn_count, " transactions (", ok,
                   " ok, ", info, " info, ", fail, " fail); ", edge_count,
                   " dependency edges; largest cycle component ", largest_scc, " transactions\n");
  absl::StrAppend(&out, "verdict: ", valid ? "valid" : "INVALID", " under ",
                  absl::StrJoin(models, ", "), "\n");
  if (!anomaly_types.empty()) {
    absl::StrAppend(&out, "anomalies: ", absl::StrJoin(anomaly_types, ", "), "\n");
  }
  if (!not_models.empty()) {
    absl::StrAppend(&out, "not: ", absl::StrJoin(not_models, ", "), "\n");
  }
  if (!also_not.empty()) absl::StrAppend(&out, "also not: ", absl::StrJoin(also_not, ", "), "\n");
  if (search_incomplete) {
    out.append(
        "note: a cycle search ran out of its budget; more anomalies may exist "
        "(raise CheckOptions::search_budget)\n");
  }
  for (const Anomaly& a : anomalies) {
    absl::StrAppend(&out, "\n[", a.name, "]",
                    a.proscribed ? "" : " (allowed by the models checked)",
                    a.time_travel.empty() ? "" : absl::StrCat(" -- a ", a.time_travel), "\n");
    if (!a.detail.empty()) {
      absl::StrAppend(&out, "  ", a.detail, "\n");
      for (uint32_t t : a.txns) absl::StrAppend(&out, "    ", history.FormatTxn(t), "\n");
    }
    if (!a.explanation.empty()) absl::StrAppend(&out, a.explanation);
    if (!a.cycle.empty() && !a.shortest) {
      out.append(
          "  (a shorter cycle of this kind may exist: proving this one shortest would have "
          "cost more than the search allows)\n");
    }
  }
  return out;
}

}  // namespace hindcast::properties
