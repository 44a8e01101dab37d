// Printing run reports: the summary block, JSON lines for sweeps, and the final line.
#ifndef HINDCAST_CLI_REPORT_H_
#define HINDCAST_CLI_REPORT_H_

#include <cstdio>
#include <string>

#include "properties/register_run.h"

namespace hindcast::cli {

// The multi-line human summary of one run (no trailing fingerprint line).
void PrintSummary(FILE* out, const properties::RegisterScenario& scenario,
                  const properties::RunReport& report, double wall_seconds);
// "fingerprint=<16 hex> verdict=<ok|violation>"
std::string FinalLine(const properties::RunReport& report);
std::string JsonEscape(const std::string& s);
// One JSON object on one line for a failing seed of a sweep.
std::string FailureJson(const properties::RegisterScenario& scenario,
                        const properties::RunReport& report);

}  // namespace hindcast::cli

#endif  // HINDCAST_CLI_REPORT_H_
