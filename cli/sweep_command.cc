// `hindcast sweep`: many seeds of one scenario, optionally sharded and in parallel.
//
// Each seed runs in its own simulation (nothing is shared between runs), so worker threads
// here cannot affect any run's outcome; results are printed in seed order whatever order
// the workers finish in, so a sweep's stdout is itself deterministic.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/report.h"
#include "cli/scenario_flags.h"
#include "properties/scenario.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"

ABSL_FLAG(std::string, seeds, "1..100", "Seeds to sweep, A..B inclusive.");
ABSL_FLAG(std::string, shard, "1/1",
          "K/N: run only the K-th of N interleaved shards of the seeds (for job arrays).");
ABSL_FLAG(int32_t, jobs, 1, "Worker threads, each running whole seeds.");
ABSL_FLAG(std::string, save_failures, "",
          "A directory: write each failing seed there as a seed case (<scenario>_<seed>.textproto) "
          "for the seeds/ corpus.");

namespace hindcast::cli {
namespace {

constexpr int kJobsMax = 256;
constexpr uint64_t kSeedsPerSweepMax = uint64_t{1} << 32;

struct SeedRange {
  uint64_t first;
  uint64_t last;
};

std::optional<SeedRange> ParseSeeds(const std::string& text, std::string* error) {
  const size_t dots = text.find("..");
  SeedRange r;
  if (dots == std::string::npos || !absl::SimpleAtoi(Sv(text).substr(0, dots), &r.first) ||
      !absl::SimpleAtoi(Sv(text).substr(dots + 2), &r.last)) {
    *error = "malformed --seeds=\"" + text + "\" (expected A..B, e.g. 1..1000)";
    return std::nullopt;
  }
  if (r.first > r.last) {
    *error = "--seeds=" + text + " is empty (A must be at most B)";
    return std::nullopt;
  }
  if (r.last - r.first >= kSeedsPerSweepMax) {
    *error = "--seeds=" + text + " spans more than 2^32 seeds";
    return std::nullopt;
  }
  return r;
}

struct Shard {
  uint64_t k;
  uint64_t n;
};

std::optional<Shard> ParseShard(const std::string& text, std::string* error) {
  const size_t slash = text.find('/');
  Shard s;
  if (slash == std::string::npos || !absl::SimpleAtoi(Sv(text).substr(0, slash), &s.k) ||
      !absl::SimpleAtoi(Sv(text).substr(slash + 1), &s.n) || s.n == 0 || s.k == 0 || s.k > s.n) {
    *error = "malformed --shard=\"" + text + "\" (expected K/N with 1 <= K <= N, e.g. 2/8)";
    return std::nullopt;
  }
  return s;
}

const CommandSpec& SweepSpec() {
  static const CommandSpec spec = [] {
    CommandSpec s{"sweep", "hindcast sweep --seeds=A..B [--shard=K/N] [--jobs=N] [flags]",
                  "Runs the scenario for every seed of the range (or of one shard of it). "
                  "Prints one JSON line per failing seed on stdout, in seed order, with the "
                  "command that replays it (and one per seed whose checker gave up, with "
                  "verdict unknown); a progress bar and a summary go to stderr. Exit 0 when "
                  "every seed passed, 1 when some failed, 2 on bad usage, 3 when none failed "
                  "but the checker gave up on some.",
                  ScenarioFlagNames()};
    for (const char* f : {"seeds", "shard", "jobs", "save_failures"}) s.flags.push_back(f);
    return s;
  }();
  return spec;
}

// "cluster_bank_si_pessimistic_heavy_ack_before_quorum_17.textproto".
std::string SeedCaseFileName(const properties::Scenario& s) {
  if (s.system() != "cluster") {
    return absl::StrCat("register_", s.faults().empty() ? "light" : s.faults(), "_",
                        s.bug().empty() ? "none" : s.bug(), "_", s.seed(), ".textproto");
  }
  std::string workload = s.workload().empty() ? "bank" : s.workload();
  std::replace(workload.begin(), workload.end(), '-', '_');
  return absl::StrCat("cluster_", workload, "_", s.isolation().empty() ? "si" : s.isolation(), "_",
                      s.mode().empty() ? "pessimistic" : s.mode(), "_",
                      s.faults().empty() ? "light" : s.faults(), "_",
                      s.bug().empty() ? "none" : s.bug(), "_", s.seed(), ".textproto");
}

class Progress {
 public:
  Progress(size_t total) : total_(total), tty_(isatty(fileno(stderr)) != 0) {}
  void Update(size_t done, size_t failing, double elapsed) {
    const size_t step = tty_ ? std::max<size_t>(1, total_ / 200) : std::max<size_t>(1, total_ / 10);
    if (done != total_ && done % step != 0) return;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / std::max<size_t>(1, total_));
    std::fprintf(stderr, "%s[%s%s] %zu/%zu seeds, %zu failing, %.0f seeds/s%s", tty_ ? "\r" : "",
                 std::string(filled, '#').c_str(), std::string(kWidth - filled, ' ').c_str(), done,
                 total_, failing, elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0,
                 tty_ ? "" : "\n");
    if (tty_ && done == total_) std::fprintf(stderr, "\n");
  }

 private:
  size_t total_;
  bool tty_;
};

}  // namespace

int SweepCommand(int argc, char** argv) {
  ParsedArgs args;
  if (!ParseArgs(argc, argv, 2, SweepSpec(), &args)) return 2;
  if (args.help) return 0;
  std::string error;
  const std::optional<SeedRange> range = ParseSeeds(absl::GetFlag(FLAGS_seeds), &error);
  if (!range) return UsageError(error);
  const std::optional<Shard> shard = ParseShard(absl::GetFlag(FLAGS_shard), &error);
  if (!shard) return UsageError(error);
  const int32_t jobs = absl::GetFlag(FLAGS_jobs);
  if (jobs < 1 || jobs > kJobsMax) {
    return UsageError("--jobs must be between 1 and " + std::to_string(kJobsMax));
  }
  absl::StatusOr<properties::Scenario> base = ScenarioFromFlags();
  if (!base.ok()) return UsageError(std::string(base.status().message()));
  const std::string save_dir = absl::GetFlag(FLAGS_save_failures);
  struct stat dir_stat;
  if (!save_dir.empty() && (stat(save_dir.c_str(), &dir_stat) != 0 || !S_ISDIR(dir_stat.st_mode))) {
    return UsageError("--save-failures=" + save_dir + " is not a directory");
  }

  std::vector<uint64_t> seeds;
  for (uint64_t s = range->first;; ++s) {
    if ((s - range->first) % shard->n == shard->k - 1) seeds.push_back(s);
    if (s == range->last) break;
  }

  struct Slot {
    bool done = false;
    bool reported = false;  // Failed, or unknown: its JSON line is printed.
    std::string json;
  };
  std::vector<Slot> slots(seeds.size());
  std::atomic<size_t> next{0};
  std::mutex mu;  // Guards slots, printed, done, failing and the output streams.
  size_t printed = 0, done = 0, failing = 0, unknown = 0;
  Progress progress(seeds.size());
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };

  auto worker = [&] {
    while (true) {
      const size_t i = next.fetch_add(1);
      if (i >= seeds.size()) return;
      properties::Scenario scenario = *base;
      scenario.set_seed(seeds[i]);
      const std::string replay = ReplayCommandFor(scenario);
      const sim::ScopedAssertContext context(
          absl::StrCat("seed ", scenario.seed(), "; replay: ", replay));
      const properties::RunSummary report = properties::RunScenario(scenario, {});
      const bool failed = report.verdict == properties::Verdict::kViolation;
      std::string saved_error;
      if (failed && !save_dir.empty()) {
        properties::SeedCase c;
        *c.mutable_scenario() = scenario;
        c.set_expected_fingerprint(properties::FingerprintHex(report.fingerprint));
        c.set_expected_verdict("violation");
        c.set_note(report.failure);
        const absl::Status written = properties::WriteFileAtomically(
            absl::StrCat(save_dir, "/", SeedCaseFileName(scenario)), properties::ToTextproto(c));
        if (!written.ok()) saved_error = std::string(written.message());
      }
      std::lock_guard<std::mutex> lock(mu);
      if (!saved_error.empty()) std::fprintf(stderr, "hindcast: %s\n", saved_error.c_str());
      const bool reported = failed || report.verdict == properties::Verdict::kUnknown;
      slots[i] = {true, reported, reported ? SeedJson(report, replay) : std::string()};
      ++done;
      failing += failed;
      unknown += report.verdict == properties::Verdict::kUnknown;
      while (printed < slots.size() && slots[printed].done) {
        if (slots[printed].reported) std::printf("%s\n", slots[printed].json.c_str());
        ++printed;
      }
      std::fflush(stdout);
      progress.Update(done, failing, elapsed());
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();

  const double seconds = elapsed();
  std::fprintf(stderr,
               "sweep: %zu seeds (%s, shard %llu/%llu) in %.1fs, %.0f seeds/s, %d jobs: "
               "%zu failing%s\n",
               seeds.size(), absl::GetFlag(FLAGS_seeds).c_str(),
               static_cast<unsigned long long>(shard->k), static_cast<unsigned long long>(shard->n),
               seconds, seconds > 0 ? static_cast<double>(seeds.size()) / seconds : 0.0, jobs,
               failing, unknown > 0 ? absl::StrCat(", ", unknown, " unknown").c_str() : "");
  if (failing > 0) return 1;
  return unknown > 0 ? 3 : 0;
}

}  // namespace hindcast::cli
