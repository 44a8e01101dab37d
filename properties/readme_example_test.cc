// The property test shown in README.md, kept here so the example always compiles and passes.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "nodes/world.h"
#include "properties/generators.h"
#include "sim/fault_plan.h"

namespace {

using namespace hindcast;

// A node that counts the pings it receives and answers each with a pong.
class Echo : public sim::Node {
 public:
  explicit Echo(nodes::NodeEnv& env) : env_(env) {}
  void Receive(sim::NodeId from, sim::Payload& payload) override {
    if (payload.bytes() == "ping") env_.Send(from, "pong");
  }

 private:
  nodes::NodeEnv& env_;
};

class Pinger : public sim::Node {
 public:
  Pinger(nodes::NodeEnv& env, int* pongs) : env_(env), pongs_(pongs) {}
  void Start() override { Tick(); }
  void Receive(sim::NodeId, sim::Payload& payload) override {
    *pongs_ += payload.bytes() == "pong";
  }

 private:
  void Tick() {
    env_.Send(0, "ping");
    env_.SetTimer(sim::Duration::Millis(10), [this] { Tick(); });
  }
  nodes::NodeEnv& env_;
  int* pongs_;
};

// The property is in the name: whatever the fault plan, once faults stop, pings get answered.
RC_GTEST_PROP(Echo, AnswersAgainAfterArbitraryFaults, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const sim::FaultPlan plan = *properties::GenFaultPlan(
      /*servers=*/1, /*nodes=*/2, sim::Duration::Seconds(1), /*actions_max=*/10);
  nodes::World world({.seed = seed});
  int pongs = 0;
  world.AddServer(0, "echo", [](nodes::NodeEnv& env) { return std::make_unique<Echo>(env); });
  world.AddClient(1, "pinger",
                  [&](nodes::NodeEnv& env) { return std::make_unique<Pinger>(env, &pongs); });
  sim::ScheduleFaultPlan(world.sim(), plan, world, &world.fault_stats());
  world.sim().Run({.time_limit = sim::Instant::Zero() + sim::Duration::Seconds(2)});
  world.HealAll();
  world.RestartNode(0);
  const int before = pongs;
  world.sim().Run({.time_limit = world.sim().Now() + sim::Duration::Seconds(1)});
  RC_ASSERT(pongs > before);  // rapidcheck shrinks `plan` to a minimal failing one.
}

}  // namespace
