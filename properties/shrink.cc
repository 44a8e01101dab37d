#include "properties/shrink.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nodes/txn/cluster.h"

namespace hindcast::properties {
namespace {

class Shrinker {
 public:
  Shrinker(const ShrinkOptions& options, std::string failure_class)
      : options_(options), failure_class_(std::move(failure_class)) {}

  // Runs `candidate` if the budget allows; true when it fails the same way, and then it
  // becomes the best scenario so far.
  bool StillFails(const Scenario& candidate) {
    if (runs_ >= options_.runs_max || !ValidateScenario(candidate).ok()) return false;
    ++runs_;
    RunSummary r = RunScenario(candidate, {});
    if (r.verdict != Verdict::kViolation || FailureClass(r.failure) != failure_class_) {
      return false;
    }
    best_ = candidate;
    best_summary_ = std::move(r);
    if (options_.progress) {
      options_.progress(absl::StrCat("run ", runs_, ": still fails with ",
                                     best_.plan().actions_size(),
                                     " faults: ", DescribeScenario(best_)));
    }
    return true;
  }

  // ddmin over the plan's actions.
  void ShrinkPlan() {
    Scenario empty = best_;
    empty.mutable_plan()->clear_actions();
    if (best_.plan().actions_size() > 0 && StillFails(empty)) return;
    size_t n = 2;
    while (best_.plan().actions_size() >= 1 && runs_ < options_.runs_max) {
      const std::vector<FaultActionProto> actions(best_.plan().actions().begin(),
                                                  best_.plan().actions().end());
      const size_t chunk = (actions.size() + n - 1) / n;
      bool removed = false;
      for (size_t start = 0; start < actions.size() && !removed; start += chunk) {
        Scenario candidate = best_;
        candidate.mutable_plan()->clear_actions();
        for (size_t i = 0; i < actions.size(); ++i) {
          if (i < start || i >= start + chunk)
            *candidate.mutable_plan()->add_actions() = actions[i];
        }
        removed = StillFails(candidate);
      }
      if (removed) {
        n = std::max<size_t>(n - 1, 2);
      } else if (n >= actions.size()) {
        break;
      } else {
        n = std::min(actions.size(), n * 2);
      }
    }
  }

  // A smaller value of a size field: the smallest of 1, 2 and 3 that still fails, else a
  // bisection between 3 and the current value (a failure that happened at some client's
  // k-th transaction usually needs k of them, and then any more).
  void ShrinkSize(uint32_t current, void (Scenario::*set)(uint32_t)) {
    auto fails = [&](uint32_t v) {
      Scenario candidate = best_;
      (candidate.*set)(v);
      return StillFails(candidate);
    };
    for (uint32_t v = 1; v <= 3 && v < current; ++v) {
      if (fails(v)) return;
    }
    uint32_t lo = 3, hi = current;  // hi fails; lo is not known to.
    while (hi - lo > 1 && runs_ < options_.runs_max) {
      const uint32_t mid = lo + (hi - lo) / 2;
      if (fails(mid)) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
  }

  void set_best(Scenario s, RunSummary r) {
    best_ = std::move(s);
    best_summary_ = std::move(r);
  }
  const Scenario& best() const { return best_; }
  const RunSummary& best_summary() const { return best_summary_; }
  int runs() const { return runs_; }

 private:
  const ShrinkOptions& options_;
  const std::string failure_class_;
  int runs_ = 0;
  Scenario best_;
  RunSummary best_summary_;
};

// The highest node id a plan names, or -1.
int64_t HighestNode(const FaultPlanProto& plan) {
  int64_t high = -1;
  for (const FaultActionProto& a : plan.actions()) {
    for (uint32_t n : a.nodes()) high = std::max<int64_t>(high, n);
    for (uint32_t n : a.others()) high = std::max<int64_t>(high, n);
  }
  return high;
}

}  // namespace

std::string FailureClass(const std::string& failure) {
  return failure.substr(0, failure.find(':'));
}

absl::StatusOr<ShrinkResult> ShrinkScenario(const Scenario& failing, const ShrinkOptions& options) {
  if (absl::Status valid = ValidateScenario(failing); !valid.ok()) return valid;
  ShrinkResult result;
  result.original = RunScenario(failing, {});
  if (result.original.verdict != Verdict::kViolation) {
    return absl::InvalidArgumentError(absl::StrCat("the scenario does not fail (",
                                                   DescribeScenario(failing),
                                                   "): there is nothing to shrink"));
  }
  const bool cluster = failing.system() == "cluster";
  // Start from the same run with every default and the plan written out.
  Scenario start = failing;
  if (cluster) {
    const ClusterScenario c = *ToClusterScenario(failing);
    start.set_clients(static_cast<uint32_t>(c.clients));
    start.set_cns(static_cast<uint32_t>(c.cns));
    start.set_txns_per_client(static_cast<uint32_t>(c.txns_per_client));
  } else {
    const RegisterScenario r = *ToRegisterScenario(failing);
    start.set_clients(static_cast<uint32_t>(r.clients));
    start.set_ops_per_client(static_cast<uint32_t>(r.ops_per_client));
  }
  *start.mutable_plan() = ToProto(result.original.plan);
  result.faults_before = result.original.plan.actions.size();

  Shrinker shrinker(options, FailureClass(result.original.failure));
  shrinker.set_best(start, result.original);
  shrinker.ShrinkPlan();
  if (cluster) {
    shrinker.ShrinkSize(shrinker.best().txns_per_client(), &Scenario::set_txns_per_client);
    shrinker.ShrinkSize(shrinker.best().clients(), &Scenario::set_clients);
    // Fewer CNs renumber the clients, so only when the plan names no node past the CNs left.
    const int64_t high = HighestNode(shrinker.best().plan());
    const ClusterScenario c = *ToClusterScenario(shrinker.best());
    if (high < nodes::txn::ClusterLayout{.log_replicas = c.log_replicas}.first_cn()) {
      shrinker.ShrinkSize(shrinker.best().cns(), &Scenario::set_cns);
    }
  } else {
    shrinker.ShrinkSize(shrinker.best().ops_per_client(), &Scenario::set_ops_per_client);
    shrinker.ShrinkSize(shrinker.best().clients(), &Scenario::set_clients);
  }
  shrinker.ShrinkPlan();

  result.shrunk = shrinker.best_summary();
  result.faults_after = static_cast<size_t>(shrinker.best().plan().actions_size());
  result.runs = shrinker.runs();
  *result.minimal.mutable_scenario() = shrinker.best();
  result.minimal.set_expected_fingerprint(FingerprintHex(result.shrunk.fingerprint));
  result.minimal.set_expected_verdict("violation");
  result.minimal.set_note(absl::StrCat("shrunk by hindcast shrink from ", result.faults_before,
                                       " faults to ", result.faults_after, ": ",
                                       result.shrunk.failure));
  return result;
}

}  // namespace hindcast::properties
