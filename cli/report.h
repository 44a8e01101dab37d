// Printing run reports: the summary block, JSON lines for sweeps, and the final line.
#ifndef HINDCAST_CLI_REPORT_H_
#define HINDCAST_CLI_REPORT_H_

#include <cstdio>
#include <string>

#include "properties/scenario.h"

namespace hindcast::cli {

// The multi-line human summary of one run (no trailing fingerprint line).
void PrintSummary(FILE* out, const properties::Scenario& scenario,
                  const properties::RunSummary& run, double wall_seconds,
                  const std::string& replay_command);
// The exit code of a run with this verdict: 0 ok, 1 violation, 3 unknown.
int VerdictExitCode(properties::Verdict verdict);
// "fingerprint=<16 hex> verdict=<ok|violation|unknown>"
std::string FinalLine(const properties::RunSummary& run);
std::string JsonEscape(const std::string& s);
// One JSON object on one line for a failing (or unknown) seed of a sweep.
std::string SeedJson(const properties::RunSummary& run, const std::string& replay_command);

}  // namespace hindcast::cli

#endif  // HINDCAST_CLI_REPORT_H_
