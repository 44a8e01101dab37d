#include "cli/report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "properties/scenario.h"
#include "sim/absl_compat.h"

namespace hindcast::cli {

void PrintSummary(FILE* out, const properties::RegisterScenario& s,
                  const properties::RunReport& r, double wall_seconds) {
  std::fprintf(out, "scenario: system=register faults=%s bug=%s clients=%d ops=%d seed=%llu%s\n",
               std::string(sim::FaultProfileName(s.faults)).c_str(),
               s.bug_ack_before_replicate ? "ack_before_replicate" : "none", s.clients,
               s.ops_per_client, static_cast<unsigned long long>(s.seed),
               s.plan.has_value() ? " (fault plan from file)" : "");
  std::fprintf(out, "operations: %zu ok, %zu fail, %zu info\n", r.ops_ok, r.ops_fail, r.ops_info);
  std::fprintf(out, "faults: %llu planned, %llu applied, %llu skipped\n",
               static_cast<unsigned long long>(r.faults.planned),
               static_cast<unsigned long long>(r.faults.applied),
               static_cast<unsigned long long>(r.faults.skipped));
  const double sim_seconds = static_cast<double>(r.end_time.ns()) / 1e9;
  std::fprintf(out, "simulated time: %s  wall time: %.1fms  events: %llu  tasks: %llu\n",
               r.end_time.ToString().c_str(), wall_seconds * 1e3,
               static_cast<unsigned long long>(r.events),
               static_cast<unsigned long long>(r.steps));
  if (wall_seconds > 0) {
    std::fprintf(out, "speed: %.0f simulated seconds per wall second\n", sim_seconds / wall_seconds);
  }
  if (r.verdict == properties::Verdict::kViolation) {
    std::fprintf(out, "VIOLATION: %s\n  %s\n", r.failure.c_str(), r.explanation.c_str());
    std::fprintf(out, "replay: %s\n", properties::ReplayCommand(s).c_str());
  } else if (r.verdict == properties::Verdict::kUnknown) {
    std::fprintf(out, "checker gave up: %s\n", r.explanation.c_str());
  }
}

std::string FinalLine(const properties::RunReport& r) {
  return absl::StrCat("fingerprint=", properties::FingerprintHex(r.fingerprint), " verdict=",
                      r.verdict == properties::Verdict::kViolation ? "violation" : "ok");
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
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

std::string FailureJson(const properties::RegisterScenario& s, const properties::RunReport& r) {
  return absl::StrCat("{\"seed\":", s.seed, ",\"verdict\":\"",
                      r.verdict == properties::Verdict::kViolation ? "violation" : "ok",
                      "\",\"failure\":\"", JsonEscape(r.failure), "\",\"detail\":\"",
                      JsonEscape(r.explanation), "\",\"fingerprint\":\"",
                      properties::FingerprintHex(r.fingerprint), "\",\"replay\":\"",
                      JsonEscape(properties::ReplayCommand(s)), "\"}");
}

}  // namespace hindcast::cli
