// `hindcast shrink`: shrinks a failing scenario (from flags or a seed file) and writes the
// minimal one as a seed case.
#include <google/protobuf/text_format.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/scenario_flags.h"
#include "properties/scenario.h"
#include "properties/shrink.h"
#include "sim/assert.h"

ABSL_FLAG(std::string, out, "shrunk.textproto",
          "Where shrink writes the minimal scenario (a SeedCase textproto, written atomically).");
ABSL_FLAG(int32_t, budget, 400, "The most candidate runs shrink may spend.");

namespace hindcast::cli {
namespace {

constexpr int32_t kBudgetMax = 1'000'000;

const CommandSpec& ShrinkSpec() {
  static const CommandSpec spec = [] {
    CommandSpec s{"shrink",
                  "hindcast shrink [SEED_FILE.textproto] [flags] [--out=FILE]",
                  "Shrinks a failing scenario: delta debugging over its fault plan, then fewer "
                  "transactions, clients and CNs, keeping every step that still fails the same "
                  "check. The scenario comes from a seed file or from the run flags. Writes the "
                  "minimal scenario as a seed case to --out and prints the command that replays "
                  "it. Exit 0 when it wrote one, 1 when the scenario does not fail, 2 on bad "
                  "usage.",
                  ScenarioFlagNames(),
                  0,
                  1};
    for (const char* f : {"seed", "out", "budget"}) s.flags.push_back(f);
    return s;
  }();
  return spec;
}

}  // namespace

int ShrinkCommand(int argc, char** argv) {
  ParsedArgs args;
  if (!ParseArgs(argc, argv, 2, ShrinkSpec(), &args)) return 2;
  if (args.help) return 0;
  const int32_t budget = absl::GetFlag(FLAGS_budget);
  if (budget < 1 || budget > kBudgetMax) {
    return UsageError(absl::StrCat("--budget must be between 1 and ", kBudgetMax));
  }
  properties::Scenario scenario;
  if (!args.positional.empty()) {
    absl::StatusOr<properties::SeedCase> c = properties::ReadSeedCaseFile(args.positional[0]);
    if (!c.ok()) return UsageError(std::string(c.status().message()));
    scenario = c->scenario();
    const absl::Status valid = properties::ValidateScenario(scenario);
    if (!valid.ok()) return UsageError(args.positional[0] + ": " + std::string(valid.message()));
  } else {
    absl::StatusOr<properties::Scenario> s = ScenarioFromFlags();
    if (!s.ok()) return UsageError(std::string(s.status().message()));
    scenario = *std::move(s);
  }
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) return UsageError("--out must name a file");

  const sim::ScopedAssertContext context(absl::StrCat("shrinking seed ", scenario.seed(), ": ",
                                                      properties::DescribeScenario(scenario)));
  absl::StatusOr<properties::ShrinkResult> r = properties::ShrinkScenario(
      scenario, {.runs_max = budget, .progress = [](const std::string& line) {
                   std::fprintf(stderr, "shrink: %s\n", line.c_str());
                 }});
  if (!r.ok()) {
    std::printf("%s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  const properties::Scenario& min = r->minimal.scenario();
  std::printf("original: %s\n  %zu faults; %s\n  failure: %s\n",
              properties::DescribeScenario(scenario).c_str(), r->faults_before,
              r->original.outcomes.c_str(), r->original.failure.c_str());
  std::printf("shrunk in %d runs: %s\n  %zu faults; %s\n  failure: %s\n", r->runs,
              properties::DescribeScenario(min).c_str(), r->faults_after,
              r->shrunk.outcomes.c_str(), r->shrunk.failure.c_str());
  google::protobuf::TextFormat::Printer one_line;
  one_line.SetSingleLineMode(true);
  for (const properties::FaultActionProto& a : min.plan().actions()) {
    std::string text;
    one_line.PrintToString(a, &text);
    std::printf("  fault: %s\n", text.c_str());
  }
  const absl::Status written =
      properties::WriteFileAtomically(out, properties::ToTextproto(r->minimal));
  if (!written.ok()) return UsageError(std::string(written.message()));
  std::printf("wrote %s; replay: hindcast replay %s\n", out.c_str(), out.c_str());
  std::printf("fingerprint=%s verdict=violation\n",
              properties::FingerprintHex(r->shrunk.fingerprint).c_str());
  return 0;
}

}  // namespace hindcast::cli
