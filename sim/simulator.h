// The deterministic scheduler: virtual time, the event queue, timers and node lifecycle.
//
//   Simulator sim({.seed = 42});
//   sim.AddNode(1, "replica-1", [&](NodeId id) { return std::make_unique<Replica>(...); });
//   sim.Schedule(Duration::Millis(5), [&] { ... }, /*owner=*/1);
//   RunResult r = sim.Run({.time_limit = Instant::Zero() + Duration::Seconds(60)});
//
// Tasks run one at a time on the calling thread in (time, tiebreak, sequence) order. With
// `shuffle_ties` the tiebreak of each task is a draw from the scheduler's own stream, so
// same-time tasks run in a seeded order; otherwise same-time tasks run in scheduling order.
// Nothing is ordered by pointer or hash. A task owned by a node is discarded, unrun, if
// that node crashed after the task was scheduled (its timers die with its memory).
//
// The simulator also holds the run's event log. `Record` appends an event whose cause is
// the event that triggered the running task (see `set_trigger`), so the log forms a causal
// graph: a send is caused by the delivery or timer whose handler sent it.
#ifndef HINDCAST_SIM_SIMULATOR_H_
#define HINDCAST_SIM_SIMULATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "sim/assert.h"
#include "sim/event_log.h"
#include "sim/node.h"
#include "sim/random.h"
#include "sim/time.h"

namespace hindcast::sim {

using Task = absl::AnyInvocable<void()>;

// Identifies a scheduled task for cancellation; stale ids are harmless to cancel.
struct TimerId {
  uint32_t slot = UINT32_MAX;
  uint32_t generation = 0;
  bool valid() const { return slot != UINT32_MAX; }
};

struct SimulatorOptions {
  uint64_t seed = 1;
  bool shuffle_ties = true;
  EventLog::Retention retention = EventLog::Retention::kFingerprintOnly;
  // Tasks due within this of now wait in a small heap of their own, the rest in another
  // (see Simulator's queues). A speed setting only: no value changes the order tasks run in,
  // which simulator_test.cc checks.
  Duration near_window = Duration::Millis(1);
};

struct RunLimits {
  Instant time_limit = Instant::Max();
  uint64_t step_limit = UINT64_MAX;
};

enum class StopReason { kQuiescent, kTimeLimit, kStepLimit, kStopped };
std::string_view StopReasonName(StopReason reason);

struct RunResult {
  StopReason reason;
  uint64_t steps;  // Tasks executed in this call (discarded tasks not counted).
};

class Simulator {
 public:
  explicit Simulator(const SimulatorOptions& options);
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;
  ~Simulator();

  Instant Now() const { return now_; }
  uint64_t seed() const { return options_.seed; }
  // The run's root stream; components take children of it by name.
  const Rng& root_rng() const { return root_rng_; }

  // Schedules `task` at Now() + delay (delay >= 0). With `owner`, the task is discarded if
  // the owner crashes before it runs.
  TimerId Schedule(Duration delay, Task&& task, NodeId owner = kNoNode);
  TimerId ScheduleAt(Instant when, Task&& task, NodeId owner = kNoNode);
  void Cancel(TimerId id);

  // Runs tasks until the queue is empty, the next task lies past `time_limit` (time then
  // advances to the limit), `step_limit` tasks have run, or Stop() is called.
  RunResult Run(const RunLimits& limits);
  void Stop() { stop_requested_ = true; }
  uint64_t total_steps() const { return total_steps_; }
  // Queued tasks, counting cancelled ones not yet swept out (in each of the two heaps, at
  // most half of it or fewer than kCompactMin).
  size_t pending_tasks() const { return near_.heap.size() + far_.heap.size(); }

  // --- Nodes ---------------------------------------------------------------------------
  // Registers node `id` (ids are dense small integers) and builds it with its factory; its
  // Start() runs as the first task at the current time, once the caller has added the rest.
  void AddNode(NodeId id, std::string name, NodeFactory factory);
  bool IsUp(NodeId id) const { return HasNode(id) && nodes_[id].up; }
  bool HasNode(NodeId id) const { return id < nodes_.size() && nodes_[id].factory != nullptr; }
  // The live node object, or nullptr while it is down.
  Node* node(NodeId id) { return IsUp(id) ? nodes_[id].node.get() : nullptr; }
  const std::string& node_name(NodeId id) const;
  // Crash drops the node's volatile state (its object and its pending tasks) and tells the
  // crash observers (disks drop unsynced writes). Restart builds it afresh and starts it.
  // Both are no-ops, returning false, when the node is already in that state.
  bool Crash(NodeId id);
  bool Restart(NodeId id);
  // How many times `id` has crashed; tasks remember the incarnation they were owned by.
  uint64_t incarnation(NodeId id) const {
    HC_ASSERT(HasNode(id));
    return nodes_[id].incarnation;
  }
  // Destroys every node object without recording anything (end of a run). Owners of what
  // nodes reference (disks, environments) call it before tearing those down.
  void DestroyNodes();
  using CrashObserver = absl::AnyInvocable<void(NodeId)>;
  void AddCrashObserver(CrashObserver observer);

  // --- Event log -----------------------------------------------------------------------
  EventLog& log() { return log_; }
  const EventLog& log() const { return log_; }
  // Appends an event at Now() on `node`, caused by the current trigger (unless `event`
  // names a cause). Returns its seq.
  uint64_t Record(Event event);
  // Records a triggering event (a delivery, a timer firing) and makes it the cause of the
  // events the rest of the running task records.
  uint64_t RecordTrigger(Event event);
  uint64_t trigger() const { return trigger_; }

 private:
  // The order is (time, tiebreak, seq), with time and tiebreak packed into one 128-bit key
  // so that comparing two entries is one wide compare (Pop picks a child by it without a
  // branch); seq breaks only a tie of keys. With shuffle_ties off the tiebreak is the seq
  // itself, which orders as (time, 0, seq) does.
  struct HeapEntry {
    unsigned __int128 key;  // time << 64 | tiebreak; time is never negative.
    uint64_t seq;
    uint32_t slot;
    uint32_t generation;
    int64_t ns() const { return static_cast<int64_t>(static_cast<uint64_t>(key >> 64)); }
  };
  struct Slot {
    Task task;
    uint64_t cause = 0;
    uint64_t owner_incarnation = 0;
    NodeId owner = kNoNode;
    uint32_t generation = 0;
    bool far = false;  // Queued in far_.
  };
  // A binary heap of entries, earliest on top, and how many of them were cancelled.
  struct Queue {
    std::vector<HeapEntry> heap;
    size_t cancelled = 0;
  };
  struct NodeSlot {
    std::string name;
    NodeFactory factory;
    std::unique_ptr<Node> node;
    bool up = false;
    uint64_t incarnation = 0;
  };

  // A function object (not a function pointer) so the heap algorithms inline it.
  struct Later {
    bool operator()(const HeapEntry& x, const HeapEntry& y) const {
      if (x.key != y.key) [[likely]]
        return x.key > y.key;  // Keys tie only on a 64-bit collision.
      return x.seq > y.seq;
    }
  };
  static void Push(Queue& q, HeapEntry e);
  static void Pop(Queue& q);
  // Sweeps q's cancelled entries out once they are half of it.
  void MaybeCompact(Queue& q);
  uint32_t AllocateSlot();
  void FreeSlot(uint32_t slot);

  SimulatorOptions options_;
  Rng root_rng_;
  Rng tie_rng_;
  Instant now_;
  uint64_t next_task_seq_ = 0;
  uint64_t total_steps_ = 0;
  uint64_t trigger_ = 0;
  bool stop_requested_ = false;
  // Two queues, and a task runs from the one whose top is earlier, so the run order is the
  // total order over both. A task due within near_window goes to near_, the rest (timeouts,
  // ticks: most of them cancelled before they are due) to far_. A cluster run's queue held
  // about 50 entries of which 4 were due within 1 ms: near_ stays that small, and most pops
  // (messages, disk operations) walk it instead of the whole queue.
  Queue near_;
  Queue far_;
  // A queue is swept of cancelled entries when they are half of it and at least this many.
  static constexpr size_t kCompactMin = 64;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<NodeSlot> nodes_;
  std::vector<CrashObserver> crash_observers_;
  EventLog log_;
};

}  // namespace hindcast::sim

#endif  // HINDCAST_SIM_SIMULATOR_H_
