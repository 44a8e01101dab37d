// `hindcast run` and `hindcast replay`.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/report.h"
#include "cli/scenario_flags.h"
#include "properties/scenario.h"
#include "sim/assert.h"

ABSL_FLAG(bool, check_determinism, false,
          "Run the seed twice in this process and compare the two event logs event by event.");
ABSL_FLAG(std::string, save, "",
          "Write the run as a seed case (scenario, fingerprint, verdict) to this textproto file.");
ABSL_FLAG(bool, events, false, "Print every event of the run (the full event log).");

namespace hindcast::cli {
namespace {

struct TimedRun {
  properties::RunSummary report;
  double wall_seconds = 0;
  std::vector<sim::Event> events;
  std::string payloads;  // Backing bytes of `events`' payloads.
};

TimedRun Execute(const properties::Scenario& scenario, const std::string& replay,
                 bool keep_events) {
  TimedRun run;
  properties::RunOptions options;
  if (keep_events) {
    options.retention = sim::EventLog::Retention::kFull;
    options.inspect_log = [&run](const sim::EventLog& log) {
      std::vector<size_t> offsets;
      for (size_t i = 0; i < log.kept(); ++i) {
        sim::Event e = log.event(i);
        offsets.push_back(run.payloads.size());
        run.payloads.append(e.payload);
        run.events.push_back(e);
      }
      for (size_t i = 0; i < run.events.size(); ++i) {
        run.events[i].payload =
            std::string_view(run.payloads).substr(offsets[i], run.events[i].payload.size());
      }
    };
  }
  const sim::ScopedAssertContext context(
      absl::StrCat("seed ", scenario.seed(), "; replay: ", replay));
  // Wall time is measured here, outside the simulation, only for the summary.
  const auto start = std::chrono::steady_clock::now();
  run.report = properties::RunScenario(scenario, options);
  run.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

bool SameEvent(const sim::Event& a, const sim::Event& b) {
  return a.seq == b.seq && a.time == b.time && a.node == b.node && a.kind == b.kind &&
         a.cause == b.cause && a.a == b.a && a.b == b.b && a.payload == b.payload;
}

// Returns 0 when both runs match, 1 (after naming the first difference) otherwise.
int CompareRuns(const TimedRun& first, const TimedRun& second) {
  const size_t n = std::min(first.events.size(), second.events.size());
  for (size_t i = 0; i < n; ++i) {
    if (!SameEvent(first.events[i], second.events[i])) {
      std::printf("NONDETERMINISM: runs differ first at event %zu\n  run 1: %s\n  run 2: %s\n",
                  i + 1, first.events[i].ToString().c_str(), second.events[i].ToString().c_str());
      return 1;
    }
  }
  if (first.events.size() != second.events.size() ||
      first.report.fingerprint != second.report.fingerprint) {
    std::printf("NONDETERMINISM: run 1 has %zu events, run 2 has %zu\n", first.events.size(),
                second.events.size());
    return 1;
  }
  std::printf("determinism: 2 runs, %zu events identical\n", n);
  return 0;
}

const CommandSpec& RunSpec() {
  static const CommandSpec spec = [] {
    CommandSpec s{"run", "hindcast run [flags]",
                  "Runs one scenario and checks it. Ends with fingerprint=<16 hex> "
                  "verdict=<ok|violation|unknown>; exit 0 ok, 1 violation, 2 bad usage, 3 "
                  "unknown (the checker gave up, so nothing was proven).",
                  ScenarioFlagNames()};
    for (const char* f : {"seed", "check_determinism", "save", "events"}) s.flags.push_back(f);
    return s;
  }();
  return spec;
}

const CommandSpec& ReplaySpec() {
  static const CommandSpec spec{
      "replay",
      "hindcast replay FILE.textproto",
      "Replays a seed case (a SeedCase textproto: scenario, expected fingerprint and verdict) "
      "and checks that it reproduces both. Exit 0 on a match, 1 on a mismatch, 2 on bad input.",
      {"events"},
      1,
      1};
  return spec;
}

void PrintEvents(const TimedRun& run) {
  for (const sim::Event& e : run.events) std::printf("%s\n", e.ToString().c_str());
}

}  // namespace

int RunCommand(int argc, char** argv) {
  ParsedArgs args;
  if (!ParseArgs(argc, argv, 2, RunSpec(), &args)) return 2;
  if (args.help) return 0;
  if (absl::GetFlag(FLAGS_bug) == "list") {
    PrintBugList();
    return 0;
  }
  absl::StatusOr<properties::Scenario> scenario = ScenarioFromFlags();
  if (!scenario.ok()) return UsageError(std::string(scenario.status().message()));

  const bool check = absl::GetFlag(FLAGS_check_determinism);
  const bool events = absl::GetFlag(FLAGS_events);
  const std::string replay = ReplayCommandFor(*scenario);
  TimedRun run = Execute(*scenario, replay, check || events);
  if (events) PrintEvents(run);
  PrintSummary(stdout, *scenario, run.report, run.wall_seconds, replay);
  int code = VerdictExitCode(run.report.verdict);
  if (check && CompareRuns(run, Execute(*scenario, replay, true)) != 0) code = 1;

  const std::string save = absl::GetFlag(FLAGS_save);
  if (!save.empty()) {
    properties::SeedCase seed_case;
    *seed_case.mutable_scenario() = *scenario;
    seed_case.set_expected_fingerprint(properties::FingerprintHex(run.report.fingerprint));
    seed_case.set_expected_verdict(std::string(VerdictName(run.report.verdict)));
    const absl::Status written =
        properties::WriteFileAtomically(save, properties::ToTextproto(seed_case));
    if (!written.ok()) return UsageError(std::string(written.message()));
    std::printf("saved: %s\n", save.c_str());
  }
  std::printf("%s\n", FinalLine(run.report).c_str());
  return code;
}

int ReplayCommand(int argc, char** argv) {
  ParsedArgs args;
  if (!ParseArgs(argc, argv, 2, ReplaySpec(), &args)) return 2;
  if (args.help) return 0;
  absl::StatusOr<properties::SeedCase> seed_case = properties::ReadSeedCaseFile(args.positional[0]);
  if (!seed_case.ok()) return UsageError(std::string(seed_case.status().message()));
  // Without both there is nothing to reproduce (an empty file once "matched").
  if (seed_case->expected_fingerprint().empty() || seed_case->expected_verdict().empty()) {
    return UsageError(args.positional[0] +
                      ": a seed case needs expected_fingerprint and expected_verdict (hindcast "
                      "run --save writes both)");
  }
  const properties::Scenario& scenario = seed_case->scenario();
  const absl::Status valid = properties::ValidateScenario(scenario);
  if (!valid.ok()) return UsageError(args.positional[0] + ": " + std::string(valid.message()));
  const bool events = absl::GetFlag(FLAGS_events);
  const std::string replay = "hindcast replay " + args.positional[0];
  TimedRun run = Execute(scenario, replay, events);
  if (events) PrintEvents(run);
  PrintSummary(stdout, scenario, run.report, run.wall_seconds, replay);
  const std::string fingerprint = properties::FingerprintHex(run.report.fingerprint);
  const std::string verdict(VerdictName(run.report.verdict));
  int code = 0;
  if (seed_case->expected_fingerprint() != fingerprint) {
    std::printf("MISMATCH: fingerprint %s, expected %s\n", fingerprint.c_str(),
                seed_case->expected_fingerprint().c_str());
    code = 1;
  }
  if (seed_case->expected_verdict() != verdict) {
    std::printf("MISMATCH: verdict %s, expected %s\n", verdict.c_str(),
                seed_case->expected_verdict().c_str());
    code = 1;
  }
  if (code == 0) std::printf("replayed: fingerprint and verdict match the seed file\n");
  std::printf("%s\n", FinalLine(run.report).c_str());
  return code;
}

}  // namespace hindcast::cli
