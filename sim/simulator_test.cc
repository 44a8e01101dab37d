#include "sim/simulator.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

namespace hindcast::sim {
namespace {

TEST(SimulatorTest, RunsTasksInTimeOrder) {
  Simulator sim({.seed = 1});
  std::vector<int> order;
  sim.Schedule(Duration::Millis(3), [&] { order.push_back(3); });
  sim.Schedule(Duration::Millis(1), [&] { order.push_back(1); });
  sim.Schedule(Duration::Millis(2), [&] { order.push_back(2); });
  RunResult r = sim.Run({});
  EXPECT_EQ(r.reason, StopReason::kQuiescent);
  EXPECT_EQ(r.steps, 3u);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(sim.Now(), Instant::Zero() + Duration::Millis(3));
}

TEST(SimulatorTest, SameTimeTasksKeepSchedulingOrderWithoutShuffle) {
  Simulator sim({.seed = 1, .shuffle_ties = false});
  std::vector<int> order;
  for (int i = 0; i < 10; ++i) sim.Schedule(Duration::Zero(), [&, i] { order.push_back(i); });
  sim.Run({});
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

std::vector<int> ShuffledOrder(uint64_t seed) {
  Simulator sim({.seed = seed});
  std::vector<int> order;
  for (int i = 0; i < 20; ++i) sim.Schedule(Duration::Zero(), [&, i] { order.push_back(i); });
  sim.Run({});
  return order;
}

TEST(SimulatorTest, SameTimeShuffleIsSeeded) {
  EXPECT_EQ(ShuffledOrder(5), ShuffledOrder(5));
  EXPECT_NE(ShuffledOrder(5), ShuffledOrder(6));
}

TEST(SimulatorTest, CancelledTaskDoesNotRun) {
  Simulator sim({.seed = 1});
  int ran = 0;
  TimerId id = sim.Schedule(Duration::Millis(1), [&] { ++ran; });
  sim.Cancel(id);
  sim.Cancel(id);  // Cancelling twice is harmless.
  sim.Run({});
  EXPECT_EQ(ran, 0);
}

// Cancelled entries are swept out of the queue once they are half of it; the tasks left run
// in exactly the order they would have (ties included: their shuffle is drawn at Schedule).
TEST(SimulatorTest, SweepingCancelledTimersKeepsTheOrderOfTheRest) {
  constexpr int kTasks = 2000;
  auto run = [](bool cancel_most, size_t* pending_after_cancel) {
    Simulator sim({.seed = 3});
    std::vector<int> order;
    std::vector<TimerId> ids;
    for (int i = 0; i < kTasks; ++i) {
      ids.push_back(sim.Schedule(Duration::Millis(i % 50), [&order, i] { order.push_back(i); }));
    }
    if (cancel_most) {
      for (int i = 0; i < kTasks; ++i) {
        if (i % 10 != 0) sim.Cancel(ids[i]);
      }
    }
    *pending_after_cancel = sim.pending_tasks();
    sim.Run({});
    return order;
  };
  size_t pending_all = 0, pending_few = 0;
  const std::vector<int> all = run(false, &pending_all);
  const std::vector<int> few = run(true, &pending_few);
  std::vector<int> expected;
  for (int i : all) {
    if (i % 10 == 0) expected.push_back(i);
  }
  EXPECT_EQ(few, expected);
  EXPECT_EQ(pending_all, static_cast<size_t>(kTasks));
  EXPECT_LE(pending_few, 2 * expected.size() + 64) << "cancelled entries were not swept out";
}

// A task that ran: when it was due, and its place in the order of scheduling.
struct Ran {
  int64_t ns;
  uint64_t scheduled;
};

// Runs a tree of tasks, each scheduling five more four levels deep at delays of 0 to 4 ms in
// 0.5 ms steps, and cancelling some on the way: many tasks share a due time, on both sides
// of the near/far split of the queue (simulator.h). Returns the tasks in the order they ran.
std::vector<Ran> RunTaskTree(const SimulatorOptions& options) {
  Simulator sim(options);
  std::vector<Ran> ran;
  std::vector<TimerId> ids;
  uint64_t scheduled = 0;
  std::function<void(int)> spawn = [&](int depth) {
    for (int i = 0; i < 5; ++i) {
      const Duration delay = Duration::Micros(500 * ((depth * 3 + i * 7) % 9));
      const uint64_t me = scheduled++;
      const int64_t due = (sim.Now() + delay).ns();
      ids.push_back(sim.Schedule(delay, [&, me, due, depth] {
        EXPECT_EQ(sim.Now().ns(), due);
        ran.push_back({due, me});
        if (depth < 4) spawn(depth + 1);
      }));
    }
    if (ids.size() % 4 == 0) sim.Cancel(ids[ids.size() / 3]);
  };
  spawn(0);
  sim.Run({});
  return ran;
}

// The two heaps still give one order: time first, then (ties unshuffled) the order of
// scheduling.
TEST(SimulatorTest, NearAndFarTasksRunInOneTimeOrder) {
  const std::vector<Ran> ran = RunTaskTree({.seed = 7, .shuffle_ties = false});
  ASSERT_GT(ran.size(), 100u);
  for (size_t i = 1; i < ran.size(); ++i) {
    ASSERT_TRUE(ran[i - 1].ns < ran[i].ns ||
                (ran[i - 1].ns == ran[i].ns && ran[i - 1].scheduled < ran[i].scheduled))
        << "task " << ran[i].scheduled << " due at " << ran[i].ns << " ns ran after task "
        << ran[i - 1].scheduled << " due at " << ran[i - 1].ns << " ns";
  }
}

// The split between the two heaps is a speed setting: with ties shuffled, the tree runs in
// the same order whether every task is near, every one far, or the split lies in between.
TEST(SimulatorTest, TheNearWindowNeverChangesTheRunOrder) {
  auto run = [](Duration near_window) {
    std::vector<uint64_t> order;
    for (const Ran& r :
         RunTaskTree({.seed = 11, .shuffle_ties = true, .near_window = near_window})) {
      order.push_back(r.scheduled);
    }
    return order;
  };
  const std::vector<uint64_t> split = run(Duration::Millis(1));
  ASSERT_GT(split.size(), 500u);
  EXPECT_EQ(run(Duration::Zero()), split) << "every task but the immediate ones far";
  EXPECT_EQ(run(Duration::Seconds(1)), split) << "every task near";
  EXPECT_EQ(run(Duration::Micros(1500)), split);
}

TEST(SimulatorTest, TimeAndStepLimitsStopTheRun) {
  Simulator sim({.seed = 1});
  int ran = 0;
  for (int i = 1; i <= 10; ++i) sim.Schedule(Duration::Millis(i), [&] { ++ran; });
  RunResult r = sim.Run({.time_limit = Instant::Zero() + Duration::Micros(4500)});
  EXPECT_EQ(r.reason, StopReason::kTimeLimit);
  EXPECT_EQ(ran, 4);
  EXPECT_EQ(sim.Now(), Instant::Zero() + Duration::Micros(4500));
  r = sim.Run({.step_limit = 2});
  EXPECT_EQ(r.reason, StopReason::kStepLimit);
  EXPECT_EQ(ran, 6);
}

class CountingNode : public Node {
 public:
  CountingNode(Simulator& sim, NodeId id, int* starts, int* fired)
      : sim_(sim), id_(id), fired_(fired) {
    ++*starts;
  }
  void Start() override {
    sim_.Schedule(
        Duration::Millis(10), [this] { ++*fired_; }, id_);
  }
  void Receive(NodeId, Payload&) override {}

 private:
  Simulator& sim_;
  NodeId id_;
  int* fired_;
};

TEST(SimulatorTest, CrashDiscardsTheNodesTimersAndRestartRebuildsIt) {
  Simulator sim({.seed = 1});
  int starts = 0;
  int fired = 0;
  std::vector<NodeId> crashed;
  sim.AddCrashObserver([&](NodeId id) { crashed.push_back(id); });
  sim.AddNode(0, "n0",
              [&](NodeId id) { return std::make_unique<CountingNode>(sim, id, &starts, &fired); });
  EXPECT_TRUE(sim.IsUp(0));
  sim.Schedule(Duration::Millis(5), [&] { EXPECT_TRUE(sim.Crash(0)); });
  sim.Schedule(Duration::Millis(20), [&] { EXPECT_TRUE(sim.Restart(0)); });
  sim.Run({});
  EXPECT_EQ(starts, 2);
  EXPECT_EQ(fired, 1);  // The first incarnation's timer died with it.
  EXPECT_EQ(crashed, (std::vector<NodeId>{0}));
  EXPECT_EQ(sim.incarnation(0), 1u);
  EXPECT_FALSE(sim.Restart(0));
}

TEST(SimulatorTest, EventsRecordTheirTriggerAsCause) {
  Simulator sim({.seed = 1, .retention = EventLog::Retention::kFull});
  sim.Schedule(Duration::Millis(1), [&] {
    const uint64_t send = sim.RecordTrigger({.node = 1, .kind = EventKind::kSend});
    sim.Schedule(Duration::Millis(1), [&, send] {
      sim.RecordTrigger({.node = 2, .kind = EventKind::kDeliver, .cause = send});
      sim.Record({.node = 2, .kind = EventKind::kNote});
    });
  });
  sim.Run({});
  ASSERT_EQ(sim.log().kept(), 3u);
  EXPECT_EQ(sim.log().event(1).cause, 1u);
  EXPECT_EQ(sim.log().event(2).cause, 2u);
}

}  // namespace
}  // namespace hindcast::sim
