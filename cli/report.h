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
// "fingerprint=<16 hex> verdict=<ok|violation>"
std::string FinalLine(const properties::RunSummary& run);
std::string JsonEscape(const std::string& s);
// One JSON object on one line for a failing seed of a sweep.
std::string FailureJson(const properties::RunSummary& run, const std::string& replay_command);

}  // namespace hindcast::cli

#endif  // HINDCAST_CLI_REPORT_H_
