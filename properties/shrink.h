// Shrinking a failing scenario to a small one that still fails the same way.
//
//   absl::StatusOr<ShrinkResult> r = ShrinkScenario(failing, {.runs_max = 500});
//   if (r.ok()) WriteFileAtomically("min.textproto", ToTextproto(r->minimal));
//
// The seed stays fixed. The generated fault plan is first written out as an explicit plan
// (the same run, the same fingerprint), then:
// 1. delta debugging (Zeller's ddmin) over the plan's actions: drop chunks of the plan, in
//    halves, then quarters, down to single actions, keeping every removal after which the
//    run still fails;
// 2. fewer transactions (or operations) per client, by bisection;
// 3. fewer clients, then fewer CNs, one at a time.
// "Fails the same way" means the verdict is a violation whose failure names the same check:
// the text before its first ':' ("bank", "durability", "list-append", ...). Every candidate
// is a full deterministic run, so the result replays from its textproto.
#ifndef HINDCAST_PROPERTIES_SHRINK_H_
#define HINDCAST_PROPERTIES_SHRINK_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "properties/scenario.h"

namespace hindcast::properties {

struct ShrinkOptions {
  int runs_max = 400;  // Candidate runs in all; the best scenario so far is kept.
  // Called after each candidate run that still fails (a progress line).
  std::function<void(const std::string&)> progress;
};

struct ShrinkResult {
  SeedCase minimal;  // Scenario, fingerprint, verdict and the failure as its note.
  RunSummary original;
  RunSummary shrunk;
  size_t faults_before = 0;
  size_t faults_after = 0;
  int runs = 0;
};

// The check a failure names: the text before its first ':'.
std::string FailureClass(const std::string& failure);

// Fails with InvalidArgument when `failing` is invalid or does not fail.
absl::StatusOr<ShrinkResult> ShrinkScenario(const Scenario& failing, const ShrinkOptions& options);

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_SHRINK_H_
