#include "properties/isolation_gen.h"

#include <algorithm>

#include "sim/assert.h"
#include "sim/random.h"

namespace hindcast::properties {
namespace {

struct Running {
  size_t invoke_index = 0;
  int slot = 0;
  std::vector<Mop> invoked;                         // As invoked: reads carry no result.
  std::vector<Mop> completed;                       // With the results read from the snapshot.
  std::vector<std::pair<int64_t, size_t>> written;  // (key, list size in the snapshot)
};

class Generator {
 public:
  explicit Generator(const GenOptions& options)
      : o_(options), rng_(options.seed), busy_(static_cast<size_t>(Concurrency()), false) {
    HC_ASSERT(o_.keys > 0 && o_.max_mops > 0 && o_.appends_per_key > 0);
    for (int slot = 0; slot < Concurrency(); ++slot) process_of_slot_.push_back(slot);
    next_process_ = Concurrency();
    for (int k = 0; k < o_.keys; ++k) live_.push_back(NewKey());
  }

  GeneratedHistory Run() {
    int started = 0;
    while (started < o_.txns || !running_.empty()) {
      const bool can_start = started < o_.txns && static_cast<int>(running_.size()) < Concurrency();
      if (can_start && (running_.empty() || rng_.Chance(1, 2))) {
        Start();
        ++started;
      } else {
        Finish(rng_.Uniform(running_.size()));
      }
    }
    GeneratedHistory out;
    if (o_.final_reads) {
      const int64_t process = next_process_++;
      for (size_t k = 0; k < lists_.size(); ++k) {
        Mop read = Mop::Read(static_cast<int64_t>(k));
        const size_t i = history_.Invoke(process, ++now_, {read});
        read.list = lists_[k];
        history_.Complete(i, OpType::kOk, ++now_, {read});
      }
    }
    for (size_t k = 0; k < lists_.size(); ++k) {
      out.version_order.push_back({.key = static_cast<int64_t>(k), .values = lists_[k]});
    }
    out.history = std::move(history_);
    return out;
  }

 private:
  int Concurrency() const { return o_.mode == GenMode::kSerial ? 1 : std::max(1, o_.concurrency); }

  int64_t NewKey() {
    lists_.emplace_back();
    planned_.push_back(0);
    return static_cast<int64_t>(lists_.size() - 1);
  }

  void Start() {
    Running r;
    r.slot = static_cast<int>(std::find(busy_.begin(), busy_.end(), false) - busy_.begin());
    busy_[static_cast<size_t>(r.slot)] = true;
    // A buggy store sometimes serves a snapshot missing the last appends of each key.
    const bool stale = o_.mode == GenMode::kBuggy && rng_.Chance(1, 4);
    const int64_t mops = rng_.UniformRange(1, o_.max_mops);
    for (int64_t i = 0; i < mops; ++i) {
      const size_t live_slot = rng_.Uniform(live_.size());
      const int64_t key = live_[live_slot];
      const std::vector<int64_t>& list = lists_[static_cast<size_t>(key)];
      if (rng_.Chance(static_cast<uint64_t>(o_.read_percent), 100)) {
        Mop read = Mop::Read(key);
        r.invoked.push_back(read);
        size_t visible = list.size();
        if (stale) visible -= std::min<size_t>(visible, rng_.Uniform(3));
        std::vector<int64_t> seen(list.begin(), list.begin() + static_cast<int64_t>(visible));
        for (const Mop& own : r.completed) {
          if (own.kind == MopKind::kAppend && own.key == key) seen.push_back(*own.value);
        }
        read.list = std::move(seen);
        r.completed.push_back(std::move(read));
        continue;
      }
      const Mop append = Mop::Append(key, ++counter_);
      r.invoked.push_back(append);
      r.completed.push_back(append);
      r.written.emplace_back(key, list.size());
      if (++planned_[static_cast<size_t>(key)] >= o_.appends_per_key) live_[live_slot] = NewKey();
    }
    r.invoke_index =
        history_.Invoke(process_of_slot_[static_cast<size_t>(r.slot)], ++now_, r.invoked);
    running_.push_back(std::move(r));
  }

  void Finish(size_t which) {
    Running r = std::move(running_[which]);
    running_[which] = std::move(running_.back());
    running_.pop_back();
    busy_[static_cast<size_t>(r.slot)] = false;
    bool commit = true;
    if (o_.mode == GenMode::kSnapshot) {
      for (const auto& [key, size] : r.written) {
        if (lists_[static_cast<size_t>(key)].size() != size) commit = false;
      }
    }
    const bool info = rng_.Chance(static_cast<uint64_t>(o_.info_percent), 100);
    if (info) commit = commit && rng_.Chance(1, 2);
    if (commit) {
      for (const Mop& m : r.completed) {
        if (m.kind == MopKind::kAppend) lists_[static_cast<size_t>(m.key)].push_back(*m.value);
      }
    }
    const OpType type = info ? OpType::kInfo : commit ? OpType::kOk : OpType::kFail;
    history_.Complete(r.invoke_index, type, ++now_,
                      type == OpType::kOk ? std::move(r.completed) : std::move(r.invoked));
    // A client that saw :info no longer knows its state: Jepsen gives the slot a new process.
    if (info) process_of_slot_[static_cast<size_t>(r.slot)] = next_process_++;
  }

  const GenOptions o_;
  sim::Rng rng_;
  History history_;
  int64_t now_ = 0;
  int64_t counter_ = 0;
  std::vector<std::vector<int64_t>> lists_;  // Committed state per key.
  std::vector<int> planned_;                 // Appends handed out per key.
  std::vector<int64_t> live_;
  std::vector<bool> busy_;
  std::vector<int64_t> process_of_slot_;
  int64_t next_process_ = 0;
  std::vector<Running> running_;
};

}  // namespace

GeneratedHistory GenerateListAppend(const GenOptions& options) { return Generator(options).Run(); }

}  // namespace hindcast::properties
