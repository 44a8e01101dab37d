#include "sim/simulator.h"

#include <algorithm>
#include <utility>

#include "sim/assert.h"

namespace hindcast::sim {

std::string_view StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kQuiescent:
      return "quiescent";
    case StopReason::kTimeLimit:
      return "time-limit";
    case StopReason::kStepLimit:
      return "step-limit";
    case StopReason::kStopped:
      return "stopped";
  }
  return "unknown";
}

Simulator::Simulator(const SimulatorOptions& options)
    : options_(options),
      root_rng_(options.seed),
      tie_rng_(root_rng_.Child("scheduler")),
      log_(options.retention) {}

// Nodes are destroyed before the queue so a node destructor may still cancel its timers.
Simulator::~Simulator() { DestroyNodes(); }

void Simulator::DestroyNodes() {
  for (NodeSlot& n : nodes_) n.node.reset();
}

uint32_t Simulator::AllocateSlot() {
  if (!free_slots_.empty()) {
    const uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  HC_ASSERT_MSG(slots_.size() < UINT32_MAX - 1, "task slot limit reached");
  slots_.emplace_back();
  return static_cast<uint32_t>(slots_.size() - 1);
}

void Simulator::FreeSlot(uint32_t slot) {
  Slot& s = slots_[slot];
  if (s.task != nullptr) s.task = nullptr;  // A task that ran was moved out already.
  ++s.generation;
  free_slots_.push_back(slot);
}

TimerId Simulator::Schedule(Duration delay, Task&& task, NodeId owner) {
  HC_ASSERT_MSG(delay >= Duration::Zero(), "cannot schedule in the past");
  return ScheduleAt(now_ + delay, std::move(task), owner);
}

// Takes the entry by value and is inlined into ScheduleAt, so the entry goes from registers
// into the heap: built on the stack and read back by reference, its 16-byte load missed
// store forwarding, which made this the costliest line of the event queue.
inline void Simulator::Push(Queue& q, HeapEntry e) {
  q.heap.push_back(e);
  std::push_heap(q.heap.begin(), q.heap.end(), Later());
}

TimerId Simulator::ScheduleAt(Instant when, Task&& task, NodeId owner) {
  HC_ASSERT_MSG(when >= now_, "cannot schedule in the past");
  HC_ASSERT(task != nullptr);
  const uint32_t slot = AllocateSlot();
  Slot& s = slots_[slot];
  s.task = std::move(task);
  s.cause = trigger_;
  s.owner = owner;
  s.owner_incarnation = owner == kNoNode ? 0 : incarnation(owner);
  const uint64_t seq = next_task_seq_++;
  const uint64_t tiebreak = options_.shuffle_ties ? tie_rng_.Next() : seq;
  const unsigned __int128 key =
      static_cast<unsigned __int128>(static_cast<uint64_t>(when.ns())) << 64 | tiebreak;
  s.far = when - now_ > options_.near_window;
  Push(s.far ? far_ : near_, {key, seq, slot, s.generation});
  return {slot, s.generation};
}

void Simulator::Cancel(TimerId id) {
  if (!id.valid() || id.slot >= slots_.size()) return;
  if (slots_[id.slot].generation != id.generation) return;  // Already ran or cancelled.
  Queue& q = slots_[id.slot].far ? far_ : near_;
  FreeSlot(id.slot);
  // The heap entry stays until its time comes. Timeouts that are set and then cancelled by
  // the reply are most of the far heap (3 of 5 entries of a cluster run's single heap, before
  // there were two), and every push and pop walks it, so sweep them out once they are half
  // of it. The pop order is the total
  // order of (time, tiebreak, seq), whatever the heap's layout: the run is unchanged.
  ++q.cancelled;
  MaybeCompact(q);
}

void Simulator::MaybeCompact(Queue& q) {
  if (q.cancelled < kCompactMin || 2 * q.cancelled <= q.heap.size()) return;
  std::erase_if(q.heap,
                [this](const HeapEntry& e) { return slots_[e.slot].generation != e.generation; });
  std::make_heap(q.heap.begin(), q.heap.end(), Later());
  q.cancelled = 0;
}

// std::pop_heap, with the earlier child chosen without a branch: which child is earlier is
// a coin flip the branch predictor loses half the time, on every level of every pop.
void Simulator::Pop(Queue& q) {
  HeapEntry* h = q.heap.data();
  const size_t n = q.heap.size() - 1;  // The last entry fills the hole the top leaves.
  size_t hole = 0;
  for (size_t child = 1; child < n; child = 2 * hole + 1) {
    const size_t right = child + static_cast<size_t>(child + 1 < n);
    child += static_cast<size_t>(Later()(h[child], h[right]));
    h[hole] = h[child];
    hole = child;
  }
  const HeapEntry last = h[n];
  while (hole > 0) {
    const size_t parent = (hole - 1) / 2;
    if (!Later()(h[parent], last)) break;
    h[hole] = h[parent];
    hole = parent;
  }
  h[hole] = last;
  q.heap.pop_back();
}

RunResult Simulator::Run(const RunLimits& limits) {
  stop_requested_ = false;
  uint64_t steps = 0;
  while (true) {
    if (stop_requested_) return {StopReason::kStopped, steps};
    if (near_.heap.empty() && far_.heap.empty()) return {StopReason::kQuiescent, steps};
    if (steps >= limits.step_limit) return {StopReason::kStepLimit, steps};
    Queue& q =
        far_.heap.empty() || (!near_.heap.empty() && Later()(far_.heap.front(), near_.heap.front()))
            ? near_
            : far_;
    const HeapEntry top = q.heap.front();
    if (top.ns() > limits.time_limit.ns()) {
      if (limits.time_limit > now_) now_ = limits.time_limit;
      return {StopReason::kTimeLimit, steps};
    }
    Pop(q);
    Slot& s = slots_[top.slot];
    if (s.generation != top.generation) {  // Cancelled.
      --q.cancelled;
      continue;
    }
    HC_ASSERT(top.ns() >= now_.ns());
    now_ = Instant::FromNanos(top.ns());
    const bool owner_died =
        s.owner != kNoNode && nodes_[s.owner].incarnation != s.owner_incarnation;
    if (owner_died) {
      FreeSlot(top.slot);
      continue;
    }
    Task task = std::move(s.task);
    trigger_ = s.cause;
    FreeSlot(top.slot);
    ++steps;
    ++total_steps_;
    task();
    trigger_ = 0;
  }
}

void Simulator::AddNode(NodeId id, std::string name, NodeFactory factory) {
  HC_ASSERT_MSG(id < 1u << 20, "node ids are dense small integers");
  HC_ASSERT(factory != nullptr);
  if (nodes_.size() <= id) nodes_.resize(id + 1);
  NodeSlot& n = nodes_[id];
  HC_ASSERT_MSG(n.factory == nullptr, "node id registered twice");
  n.name = std::move(name);
  n.factory = std::move(factory);
  n.up = true;
  n.node = n.factory(id);
  HC_ASSERT(n.node != nullptr);
  // Boot as a task so every node of a cluster is registered before any of them starts and
  // sends its first message.
  Schedule(
      Duration::Zero(), [this, id] { nodes_[id].node->Start(); }, id);
}

const std::string& Simulator::node_name(NodeId id) const {
  HC_ASSERT(HasNode(id));
  return nodes_[id].name;
}

bool Simulator::Crash(NodeId id) {
  HC_ASSERT(HasNode(id));
  NodeSlot& n = nodes_[id];
  if (!n.up) return false;
  Record({.node = id, .kind = EventKind::kCrash, .a = n.incarnation});
  n.up = false;
  ++n.incarnation;
  n.node.reset();
  for (CrashObserver& observer : crash_observers_) observer(id);
  return true;
}

bool Simulator::Restart(NodeId id) {
  HC_ASSERT(HasNode(id));
  NodeSlot& n = nodes_[id];
  if (n.up) return false;
  Record({.node = id, .kind = EventKind::kRestart, .a = n.incarnation});
  n.up = true;
  n.node = n.factory(id);
  HC_ASSERT(n.node != nullptr);
  n.node->Start();
  return true;
}

void Simulator::AddCrashObserver(CrashObserver observer) {
  crash_observers_.push_back(std::move(observer));
}

uint64_t Simulator::Record(Event event) {
  event.time = now_;
  if (event.cause == 0) event.cause = trigger_;
  return log_.Append(event);
}

uint64_t Simulator::RecordTrigger(Event event) {
  trigger_ = Record(event);
  return trigger_;
}

}  // namespace hindcast::sim
