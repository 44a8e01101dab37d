#include "sim/fault_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"
#include "sim/event_log.h"
#include "sim/network.h"

namespace hindcast::sim {
namespace {

// Limits on generated plans; they keep a plan readable and its runs short.
constexpr int kLightEpisodesMax = 3;
constexpr int kHeavyEpisodesMax = 24;

struct Episode {
  FaultType type;
  uint32_t weight;
};

NodeId Pick(Rng& rng, const std::vector<NodeId>& from) {
  HC_ASSERT(!from.empty());
  return from[rng.Uniform(from.size())];
}

// Splits `all` into two non-empty groups at random.
void RandomSplit(Rng& rng, const std::vector<NodeId>& all, std::vector<NodeId>* a,
                 std::vector<NodeId>* b) {
  HC_ASSERT(all.size() >= 2);
  while (a->empty() || b->empty()) {
    a->clear();
    b->clear();
    for (NodeId n : all) (rng.Chance(1, 2) ? a : b)->push_back(n);
  }
}

void AddEpisode(Rng& rng, FaultType type, Duration at, Duration horizon, const FaultTopology& topo,
                bool heavy, std::vector<FaultAction>* out) {
  const Duration left = horizon - at;
  switch (type) {
    case FaultType::kCrash: {
      const NodeId node = Pick(rng, topo.crashable);
      const Duration down =
          std::min(left, rng.UniformDuration(Duration::Millis(20), Duration::Millis(400)));
      out->push_back({.at = at, .type = FaultType::kCrash, .nodes = {node}});
      out->push_back({.at = at + down, .type = FaultType::kRestart, .nodes = {node}});
      return;
    }
    case FaultType::kPartition: {
      FaultAction p{.at = at, .type = FaultType::kPartition};
      RandomSplit(rng, topo.all, &p.nodes, &p.others);
      out->push_back(std::move(p));
      const Duration length =
          std::min(left, rng.UniformDuration(Duration::Millis(50), Duration::Millis(600)));
      out->push_back({.at = at + length, .type = FaultType::kHeal});
      return;
    }
    case FaultType::kBlockOneWay: {
      const NodeId from = Pick(rng, topo.all);
      NodeId to = Pick(rng, topo.all);
      if (to == from)
        to = topo.all[(std::find(topo.all.begin(), topo.all.end(), from) - topo.all.begin() + 1) %
                      topo.all.size()];
      out->push_back({.at = at, .type = FaultType::kBlockOneWay, .nodes = {from}, .others = {to}});
      const Duration length =
          std::min(left, rng.UniformDuration(Duration::Millis(50), Duration::Millis(400)));
      out->push_back({.at = at + length, .type = FaultType::kHeal});
      return;
    }
    case FaultType::kClog:
      out->push_back(
          {.at = at,
           .type = FaultType::kClog,
           .nodes = {Pick(rng, topo.all)},
           .duration = rng.UniformDuration(Duration::Millis(20), Duration::Millis(300))});
      return;
    case FaultType::kSwizzle: {
      FaultAction s{.at = at, .type = FaultType::kSwizzle};
      for (NodeId n : topo.all) {
        if (rng.Chance(1, 2)) s.nodes.push_back(n);
      }
      if (s.nodes.empty()) s.nodes.push_back(Pick(rng, topo.all));
      s.duration = rng.UniformDuration(Duration::Millis(100), Duration::Millis(500));
      out->push_back(std::move(s));
      return;
    }
    case FaultType::kClockJump: {
      // Within the bound a jump keeps |skew| <= max_offset given clocks start within half of
      // it; a heavy plan sometimes breaks the bound on purpose (the oracle must say so).
      const int64_t bound = topo.max_clock_offset.ns();
      const bool break_bound = heavy && rng.Chance(1, 6);
      const int64_t magnitude =
          break_bound ? rng.UniformRange(bound * 2, bound * 4) : rng.UniformRange(1, bound / 4);
      out->push_back({.at = at,
                      .type = FaultType::kClockJump,
                      .nodes = {Pick(rng, topo.crashable)},
                      .jump_ns = rng.Chance(1, 2) ? magnitude : -magnitude});
      return;
    }
    case FaultType::kDiskFaults:
      out->push_back(
          {.at = at,
           .type = FaultType::kDiskFaults,
           .nodes = {Pick(rng, topo.crashable)},
           .duration =
               std::min(left, rng.UniformDuration(Duration::Millis(50), Duration::Millis(300))),
           .disk = {.read_corrupt_ppm = 20000, .write_corrupt_ppm = 5000, .misdirect_ppm = 2000}});
      return;
    case FaultType::kRestart:
    case FaultType::kHeal:
    case FaultType::kDiskRot:  // Not an episode: GenerateFaultPlan adds it apart, once.
      break;
  }
  HC_ASSERT_MSG(false, "not an episode type");
}

}  // namespace

std::string_view FaultTypeName(FaultType type) {
  switch (type) {
    case FaultType::kCrash:
      return "crash";
    case FaultType::kRestart:
      return "restart";
    case FaultType::kPartition:
      return "partition";
    case FaultType::kBlockOneWay:
      return "block_one_way";
    case FaultType::kHeal:
      return "heal";
    case FaultType::kClog:
      return "clog";
    case FaultType::kSwizzle:
      return "swizzle";
    case FaultType::kClockJump:
      return "clock_jump";
    case FaultType::kDiskFaults:
      return "disk_faults";
    case FaultType::kDiskRot:
      return "disk_rot";
  }
  return "unknown";
}

std::optional<FaultType> ParseFaultType(std::string_view name) {
  for (FaultType t :
       {FaultType::kCrash, FaultType::kRestart, FaultType::kPartition, FaultType::kBlockOneWay,
        FaultType::kHeal, FaultType::kClog, FaultType::kSwizzle, FaultType::kClockJump,
        FaultType::kDiskFaults, FaultType::kDiskRot}) {
    if (FaultTypeName(t) == name) return t;
  }
  return std::nullopt;
}

std::string_view FaultProfileName(FaultProfile profile) {
  switch (profile) {
    case FaultProfile::kNone:
      return "none";
    case FaultProfile::kLight:
      return "light";
    case FaultProfile::kHeavy:
      return "heavy";
  }
  return "unknown";
}

std::optional<FaultProfile> ParseFaultProfile(std::string_view name) {
  for (FaultProfile p : {FaultProfile::kNone, FaultProfile::kLight, FaultProfile::kHeavy}) {
    if (FaultProfileName(p) == name) return p;
  }
  return std::nullopt;
}

std::string FaultAction::ToString() const {
  std::string out = absl::StrCat("at=", Sv(at.ToString()), " ", Sv(FaultTypeName(type)));
  if (!nodes.empty()) absl::StrAppend(&out, " nodes=", absl::StrJoin(nodes, ","));
  if (!others.empty()) absl::StrAppend(&out, " others=", absl::StrJoin(others, ","));
  if (duration > Duration::Zero()) absl::StrAppend(&out, " for=", Sv(duration.ToString()));
  if (jump_ns != 0) absl::StrAppend(&out, " jump_ns=", jump_ns);
  if (type == FaultType::kDiskFaults) {
    absl::StrAppend(&out, " read_corrupt_ppm=", disk.read_corrupt_ppm,
                    " write_corrupt_ppm=", disk.write_corrupt_ppm,
                    " misdirect_ppm=", disk.misdirect_ppm);
  }
  return out;
}

void SortByTime(std::vector<FaultAction>* actions) {
  std::stable_sort(actions->begin(), actions->end(),
                   [](const FaultAction& x, const FaultAction& y) { return x.at < y.at; });
}

FaultPlan GenerateFaultPlan(Rng rng, FaultProfile profile, const FaultTopology& topology,
                            Duration horizon) {
  FaultPlan plan;
  if (profile == FaultProfile::kNone || topology.crashable.empty() || topology.all.size() < 2) {
    return plan;
  }
  HC_ASSERT(horizon > Duration::Millis(10));
  const bool heavy = profile == FaultProfile::kHeavy;
  static constexpr Episode kLight[] = {{FaultType::kCrash, 4},
                                       {FaultType::kPartition, 3},
                                       {FaultType::kClog, 2},
                                       {FaultType::kClockJump, 1}};
  static constexpr Episode kHeavy[] = {{FaultType::kCrash, 6},       {FaultType::kPartition, 4},
                                       {FaultType::kBlockOneWay, 2}, {FaultType::kClog, 2},
                                       {FaultType::kSwizzle, 1},     {FaultType::kClockJump, 2},
                                       {FaultType::kDiskFaults, 2}};
  const auto* table = heavy ? kHeavy : kLight;
  const size_t table_size = heavy ? std::size(kHeavy) : std::size(kLight);
  uint32_t total_weight = 0;
  for (size_t i = 0; i < table_size; ++i) total_weight += table[i].weight;

  const int episodes =
      static_cast<int>(rng.UniformRange(1, heavy ? kHeavyEpisodesMax : kLightEpisodesMax));
  for (int i = 0; i < episodes; ++i) {
    const Duration at = rng.UniformDuration(Duration::Zero(), horizon - Duration::Millis(10));
    uint64_t draw = rng.Uniform(total_weight);
    size_t pick = 0;
    while (draw >= table[pick].weight) draw -= table[pick++].weight;
    AddEpisode(rng, table[pick].type, at, horizon, topology, heavy, &plan.actions);
  }
  if (heavy && !topology.rot_tolerant.empty()) {
    Rng rot = rng.Child("rot");
    if (rot.Chance(1, 2)) {
      plan.actions.push_back({.at = rot.UniformDuration(Duration::Zero(), horizon),
                              .type = FaultType::kDiskRot,
                              .nodes = {Pick(rot, topology.rot_tolerant)}});
    }
  }
  plan.actions.push_back({.at = horizon, .type = FaultType::kHeal});
  SortByTime(&plan.actions);
  return plan;
}

namespace {

// A swizzle's clog step: the k nodes stall one by one over the first half of `duration`.
Duration SwizzleStep(const FaultAction& a) {
  return a.duration / static_cast<int64_t>(2 * a.nodes.size());
}

bool Apply(const FaultAction& a, FaultTarget& target) {
  auto first = [&](const std::vector<NodeId>& v) {
    HC_ASSERT_MSG(!v.empty(), "fault action needs a node");
    return v[0];
  };
  switch (a.type) {
    case FaultType::kCrash:
      return target.CrashNode(first(a.nodes));
    case FaultType::kRestart:
      return target.RestartNode(first(a.nodes));
    case FaultType::kPartition:
      return target.Partition(a.nodes, a.others);
    case FaultType::kBlockOneWay:
      return target.BlockOneWay(first(a.nodes), first(a.others));
    case FaultType::kHeal:
      return target.HealAll();
    case FaultType::kClog:
      return target.ClogNode(first(a.nodes), a.duration);
    case FaultType::kSwizzle:
      return target.Swizzle(a.nodes, SwizzleStep(a), a.duration);
    case FaultType::kClockJump:
      return target.JumpClock(first(a.nodes), a.jump_ns);
    case FaultType::kDiskFaults:
      return target.SetDiskFaults(first(a.nodes), a.disk, a.duration);
    case FaultType::kDiskRot:
      return target.RotDisk(first(a.nodes));
  }
  return false;
}

}  // namespace

Duration FaultExtent(const FaultAction& action) {
  switch (action.type) {
    case FaultType::kClog:
    case FaultType::kDiskFaults:
      return action.duration;
    case FaultType::kSwizzle:
      if (action.nodes.empty()) return Duration::Zero();
      return Network::SwizzleSpan(action.nodes.size(), SwizzleStep(action), action.duration);
    case FaultType::kCrash:
    case FaultType::kRestart:
    case FaultType::kPartition:
    case FaultType::kBlockOneWay:
    case FaultType::kHeal:
    case FaultType::kClockJump:
    case FaultType::kDiskRot:
      break;
  }
  return Duration::Zero();
}

void ScheduleFaultPlan(Simulator& sim, const FaultPlan& plan, FaultTarget& target,
                       FaultStats* stats) {
  HC_ASSERT(stats != nullptr);
  for (const FaultAction& action : plan.actions) {
    HC_ASSERT_MSG(action.at >= Duration::Zero(), "fault action in the past");
    ++stats->planned;
    sim.ScheduleAt(Instant::Zero() + action.at, [&sim, &target, stats, action] {
      const bool applied = Apply(action, target);
      ++(applied ? stats->applied : stats->skipped);
      sim.Record({.kind = EventKind::kFault,
                  .a = static_cast<uint64_t>(action.type),
                  .b = applied ? 1u : 0u});
    });
  }
}

}  // namespace hindcast::sim
