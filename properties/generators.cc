#include "properties/generators.h"

#include <algorithm>

namespace hindcast::properties {
namespace {

rc::Gen<sim::FaultAction> GenAction(int servers, int nodes, sim::Duration horizon) {
  using sim::FaultType;
  const auto node = rc::gen::inRange<sim::NodeId>(0, static_cast<sim::NodeId>(nodes));
  const auto server = rc::gen::inRange<sim::NodeId>(0, static_cast<sim::NodeId>(servers));
  const auto at = rc::gen::map(rc::gen::inRange<int64_t>(0, horizon.ns()),
                               [](int64_t ns) { return sim::Duration::Nanos(ns); });
  const auto span = rc::gen::map(rc::gen::inRange<int64_t>(1, 500),
                                 [](int64_t ms) { return sim::Duration::Millis(ms); });
  return rc::gen::oneOf(
      rc::gen::build<sim::FaultAction>(
          rc::gen::set(&sim::FaultAction::at, at),
          rc::gen::set(&sim::FaultAction::type,
                       rc::gen::element(FaultType::kCrash, FaultType::kRestart)),
          rc::gen::set(&sim::FaultAction::nodes,
                       rc::gen::container<std::vector<sim::NodeId>>(1, server))),
      rc::gen::build<sim::FaultAction>(
          rc::gen::set(&sim::FaultAction::at, at),
          rc::gen::set(&sim::FaultAction::type, rc::gen::just(FaultType::kPartition)),
          rc::gen::set(&sim::FaultAction::nodes,
                       rc::gen::container<std::vector<sim::NodeId>>(1, node)),
          rc::gen::set(&sim::FaultAction::others,
                       rc::gen::container<std::vector<sim::NodeId>>(1, node))),
      rc::gen::build<sim::FaultAction>(
          rc::gen::set(&sim::FaultAction::at, at),
          rc::gen::set(&sim::FaultAction::type, rc::gen::just(FaultType::kHeal))),
      rc::gen::build<sim::FaultAction>(
          rc::gen::set(&sim::FaultAction::at, at),
          rc::gen::set(&sim::FaultAction::type,
                       rc::gen::element(FaultType::kClog, FaultType::kBlockOneWay)),
          rc::gen::set(&sim::FaultAction::nodes,
                       rc::gen::container<std::vector<sim::NodeId>>(1, node)),
          rc::gen::set(&sim::FaultAction::others,
                       rc::gen::container<std::vector<sim::NodeId>>(1, node)),
          rc::gen::set(&sim::FaultAction::duration, span)),
      rc::gen::build<sim::FaultAction>(
          rc::gen::set(&sim::FaultAction::at, at),
          rc::gen::set(&sim::FaultAction::type, rc::gen::just(FaultType::kClockJump)),
          rc::gen::set(&sim::FaultAction::nodes,
                       rc::gen::container<std::vector<sim::NodeId>>(1, server)),
          rc::gen::set(&sim::FaultAction::jump_ns,
                       rc::gen::inRange<int64_t>(-500'000'000, 500'000'000))),
      rc::gen::build<sim::FaultAction>(
          rc::gen::set(&sim::FaultAction::at, at),
          rc::gen::set(&sim::FaultAction::type, rc::gen::just(FaultType::kDiskFaults)),
          rc::gen::set(&sim::FaultAction::nodes,
                       rc::gen::container<std::vector<sim::NodeId>>(1, server)),
          rc::gen::set(&sim::FaultAction::duration, span),
          rc::gen::set(&sim::FaultAction::disk,
                       rc::gen::build<sim::DiskFaultRates>(
                           rc::gen::set(&sim::DiskFaultRates::read_corrupt_ppm,
                                        rc::gen::inRange<uint32_t>(0, 100'000)),
                           rc::gen::set(&sim::DiskFaultRates::write_corrupt_ppm,
                                        rc::gen::inRange<uint32_t>(0, 100'000)),
                           rc::gen::set(&sim::DiskFaultRates::misdirect_ppm,
                                        rc::gen::inRange<uint32_t>(0, 100'000))))));
}

// Partition sides must be disjoint and non-empty, and a one-way block joins two different
// nodes; generated actions are mended rather than filtered, so shrinking stays smooth.
void MakeWellFormed(int nodes, sim::FaultAction& a) {
  if (a.type == sim::FaultType::kPartition) {
    std::vector<sim::NodeId> side_a = a.nodes;
    std::sort(side_a.begin(), side_a.end());
    side_a.erase(std::unique(side_a.begin(), side_a.end()), side_a.end());
    std::vector<sim::NodeId> side_b;
    for (sim::NodeId n = 0; n < static_cast<sim::NodeId>(nodes); ++n) {
      if (!std::binary_search(side_a.begin(), side_a.end(), n)) side_b.push_back(n);
    }
    if (side_b.empty()) {
      a = {.at = a.at, .type = sim::FaultType::kHeal};
      return;
    }
    a.nodes = side_a;
    a.others = side_b;
  } else if (a.type == sim::FaultType::kBlockOneWay && a.nodes[0] == a.others[0]) {
    a.others[0] = (a.nodes[0] + 1) % nodes;
  }
}

}  // namespace

rc::Gen<sim::FaultPlan> GenFaultPlan(int servers, int nodes, sim::Duration horizon,
                                     int actions_max) {
  return rc::gen::map(
      rc::gen::container<std::vector<sim::FaultAction>>(GenAction(servers, nodes, horizon)),
      [actions_max, nodes](std::vector<sim::FaultAction> actions) {
        if (static_cast<int>(actions.size()) > actions_max) actions.resize(actions_max);
        for (sim::FaultAction& a : actions) MakeWellFormed(nodes, a);
        sim::SortByTime(&actions);
        return sim::FaultPlan{std::move(actions)};
      });
}

rc::Gen<RegisterScenario> GenRegisterScenario(bool bug) {
  constexpr int kServers = 3;
  return rc::gen::mapcat(rc::gen::inRange(1, 4), [bug](int clients) {
    return rc::gen::apply(
        [bug, clients](uint64_t seed, int ops, sim::FaultPlan plan) {
          return RegisterScenario{.seed = seed,
                                  .plan = std::move(plan),
                                  .bug_ack_before_replicate = bug,
                                  .clients = clients,
                                  .ops_per_client = ops};
        },
        rc::gen::arbitrary<uint64_t>(), rc::gen::inRange(1, 25),
        GenFaultPlan(kServers, kServers + clients, sim::Duration::Seconds(1), 20));
  });
}

rc::Gen<ClusterScenario> GenClusterScenario(const ClusterScenario& base) {
  const int servers = static_cast<int>(
      nodes::txn::ClusterLayout{.log_replicas = base.log_replicas}.first_cn() + base.cns);
  return rc::gen::mapcat(rc::gen::inRange(1, 4), [base, servers](int clients) {
    return rc::gen::apply(
        [base, clients](uint64_t seed, int txns, sim::FaultPlan plan) {
          ClusterScenario s = base;
          s.seed = seed;
          s.clients = clients;
          s.txns_per_client = txns;
          s.plan = std::move(plan);
          return s;
        },
        // Seeds from the whole range at every size, never shrunk: a seed is a name, not a
        // magnitude, and a smaller one is not a simpler run.
        rc::gen::noShrink(rc::gen::inRange<uint64_t>(1, uint64_t{1} << 62)),
        rc::gen::inRange(1, 21),
        GenFaultPlan(servers, servers + clients, sim::Duration::Seconds(2), 15));
  });
}

}  // namespace hindcast::properties
