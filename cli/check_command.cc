// `hindcast check`: checks an imported Jepsen/Elle history file (EDN) for isolation anomalies.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "properties/edn.h"
#include "properties/isolation.h"
#include "sim/absl_compat.h"

ABSL_FLAG(std::string, model, "auto",
          "The history's data model: list-append, rw-register, or auto (list-append when any "
          "operation appends).");
ABSL_FLAG(std::string, consistency, "strict-serializable",
          "Comma-separated consistency models to check against: read-uncommitted, "
          "read-committed, repeatable-read, snapshot-isolation, serializable, "
          "strong-session-serializable, strong-snapshot-isolation, strict-serializable.");
ABSL_FLAG(bool, dot, false, "Also print each anomaly cycle as a Graphviz digraph.");

namespace hindcast::cli {
namespace {

const CommandSpec& CheckSpec() {
  static const CommandSpec spec{
      "check",
      "hindcast check FILE.edn [--model=M] [--consistency=M1[,M2]] [--dot]",
      "Checks a Jepsen/Elle history (EDN: one operation map per line, or one vector of maps) "
      "for transactional anomalies: G0, G1a, G1b, G1c, G-single, G-nonadjacent, G2, lost "
      "update, internal and garbage reads, and their session and real-time variants (stale "
      "reads, immortal writes, causal reverse). Prints the verdict, the weakest models the "
      "history violates, and an explanation of every cycle. Exit 0 when valid under the "
      "given models, 1 when not, 2 on bad usage or a malformed file (with its line number).",
      {"model", "consistency", "dot"},
      1,
      1};
  return spec;
}

}  // namespace

int CheckCommand(int argc, char** argv) {
  ParsedArgs args;
  if (!ParseArgs(argc, argv, 2, CheckSpec(), &args)) return 2;
  if (args.help) return 0;
  properties::CheckOptions options;
  const std::optional<properties::DataModel> model =
      properties::ParseDataModel(absl::GetFlag(FLAGS_model));
  if (!model) {
    return UsageError("--model must be list-append, rw-register or auto, not '" +
                      absl::GetFlag(FLAGS_model) + "'");
  }
  options.model = *model;
  options.consistency.clear();
  for (absl::string_view name : absl::StrSplit(absl::GetFlag(FLAGS_consistency), ',')) {
    const std::optional<properties::Consistency> c = properties::ParseConsistency(StdSv(name));
    if (!c) {
      return UsageError("unknown consistency model '" + std::string(name) +
                        "' (see hindcast check --help)");
    }
    options.consistency.push_back(*c);
  }
  const std::string& path = args.positional[0];
  std::ifstream in(path, std::ios::binary);
  if (!in) return UsageError("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<properties::TxnHistory> history = properties::ParseEdnHistory(text.str());
  if (!history.ok()) return UsageError(path + ": " + std::string(history.status().message()));
  absl::StatusOr<properties::CheckResult> result = properties::CheckIsolation(*history, options);
  if (!result.ok()) return UsageError(path + ": " + std::string(result.status().message()));
  std::printf("%s: ", path.c_str());
  std::fputs(result->Report(*history).c_str(), stdout);
  if (absl::GetFlag(FLAGS_dot)) {
    for (const properties::Anomaly& a : result->anomalies) {
      if (!a.dot.empty()) std::printf("\n%s", a.dot.c_str());
    }
  }
  return result->valid ? 0 : 1;
}

}  // namespace hindcast::cli
