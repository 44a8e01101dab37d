#include "cli/report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/absl_compat.h"

namespace hindcast::cli {

void PrintSummary(FILE* out, const properties::Scenario& scenario, const properties::RunSummary& r,
                  double wall_seconds, const std::string& replay_command) {
  std::fprintf(out, "scenario: %s%s\n", properties::DescribeScenario(scenario).c_str(),
               scenario.has_plan() ? " (fault plan from file)" : "");
  if (!r.knobs.empty()) std::fprintf(out, "knobs: %s\n", r.knobs.c_str());
  std::fprintf(out, "outcomes: %s\n", r.outcomes.c_str());
  std::fprintf(out, "faults: %llu planned, %llu applied, %llu skipped\n",
               static_cast<unsigned long long>(r.faults.planned),
               static_cast<unsigned long long>(r.faults.applied),
               static_cast<unsigned long long>(r.faults.skipped));
  const double sim_seconds = static_cast<double>(r.end_time.ns()) / 1e9;
  std::fprintf(out, "simulated time: %s  wall time: %.1fms  events: %llu  tasks: %llu\n",
               r.end_time.ToString().c_str(), wall_seconds * 1e3,
               static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.steps));
  if (wall_seconds > 0) {
    std::fprintf(out, "speed: %.0f simulated seconds per wall second\n",
                 sim_seconds / wall_seconds);
  }
  if (!r.anomalies.empty()) {
    std::fprintf(out, "anomalies: %s\n", absl::StrJoin(r.anomalies, " ").c_str());
  }
  if (!r.info.empty()) std::fprintf(out, "info: %s\n", r.info.c_str());
  if (r.verdict == properties::Verdict::kViolation) {
    std::fprintf(out, "VIOLATION: %s\n", r.failure.c_str());
    if (!r.explanation.empty()) std::fprintf(out, "  %s\n", r.explanation.c_str());
    std::fprintf(out, "replay: %s\n", replay_command.c_str());
  } else if (r.verdict == properties::Verdict::kUnknown) {
    std::fprintf(out, "checker gave up: %s\n", r.explanation.c_str());
  }
}

int VerdictExitCode(properties::Verdict verdict) {
  switch (verdict) {
    case properties::Verdict::kOk:
      return 0;
    case properties::Verdict::kViolation:
      return 1;
    case properties::Verdict::kUnknown:
      return 3;
  }
  return 3;
}

std::string FinalLine(const properties::RunSummary& r) {
  return absl::StrCat("fingerprint=", properties::FingerprintHex(r.fingerprint),
                      " verdict=", Sv(VerdictName(r.verdict)));
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string SeedJson(const properties::RunSummary& r, const std::string& replay_command) {
  return absl::StrCat("{\"seed\":", r.seed, ",\"verdict\":\"", Sv(VerdictName(r.verdict)),
                      "\",\"failure\":\"", JsonEscape(r.failure), "\",\"detail\":\"",
                      JsonEscape(r.explanation), "\",\"anomalies\":[",
                      absl::StrJoin(r.anomalies, ",",
                                    [](std::string* out, const std::string& a) {
                                      absl::StrAppend(out, "\"", JsonEscape(a), "\"");
                                    }),
                      "],\"fingerprint\":\"", properties::FingerprintHex(r.fingerprint),
                      "\",\"replay\":\"", JsonEscape(replay_command), "\"}");
}

}  // namespace hindcast::cli
