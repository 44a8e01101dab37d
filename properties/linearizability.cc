#include "properties/linearizability.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"

namespace hindcast::properties {

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kViolation:
      return "violation";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "unknown";
}

namespace {

struct RegOp {
  bool is_write = false;
  std::optional<int64_t> value;
  int64_t call_ns = 0;
  int64_t return_ns = 0;  // INT64_MAX: info write, no return entry.
  int64_t process = 0;
  int64_t history_index = 0;
  bool info = false;
};

// One node of the doubly linked entry list: a call or a return of op `op`.
struct Entry {
  int op = 0;
  bool is_call = false;
  int prev = -1;
  int next = -1;
  int match = -1;  // A call's return entry (or -1 for info), a return's call entry.
};

using Bits = std::vector<uint64_t>;

struct CacheKey {
  Bits bits;
  std::optional<int64_t> state;
  bool operator==(const CacheKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const CacheKey& k) {
    return H::combine(std::move(h), k.bits, k.state);
  }
};

std::string Describe(const RegOp& op) {
  std::string v = op.value.has_value() ? absl::StrCat(*op.value) : "nil";
  return absl::StrCat("process ", op.process, " ", op.is_write ? "write " : "read ", v,
                      op.info ? " (info)" : "", " [invoked ", op.call_ns, "ns",
                      op.info ? "" : absl::StrCat(", completed ", op.return_ns, "ns"),
                      ", history index ", op.history_index, "]");
}

std::vector<RegOp> Collect(const History& history, int64_t key) {
  std::vector<RegOp> ops;
  for (const Op& inv : history.ops()) {
    if (inv.type != OpType::kInvoke || inv.mops.size() != 1 || inv.mops[0].key != key) continue;
    HC_ASSERT_MSG(inv.pair >= 0, "close the history before checking it");
    const Op& done = history.ops()[inv.pair];
    const Mop& m = inv.mops[0];
    if (done.type == OpType::kFail) continue;
    const bool is_write = m.kind == MopKind::kWrite;
    if (done.type == OpType::kInfo && !is_write) continue;
    RegOp op{.is_write = is_write,
             .value = is_write ? m.value : done.mops[0].value,
             .call_ns = inv.time_ns,
             .return_ns = done.type == OpType::kInfo ? INT64_MAX : done.time_ns,
             .process = inv.process,
             .history_index = inv.index,
             .info = done.type == OpType::kInfo};
    ops.push_back(op);
  }
  return ops;
}

// An info write whose value no read returned is dropped. Exact: linearized as never
// happening it changes no read, and had it taken effect, no read could fall between it and
// the next write (that read would have returned its value). Timed-out writes are the info
// operations a faulty run has most of, and each one left in multiplies the search.
void DropUnreadInfoWrites(std::vector<RegOp>* ops) {
  std::vector<std::optional<int64_t>> read;
  for (const RegOp& op : *ops) {
    if (!op.is_write) read.push_back(op.value);
  }
  std::sort(read.begin(), read.end());
  std::erase_if(*ops, [&](const RegOp& op) {
    return op.is_write && op.info && !std::binary_search(read.begin(), read.end(), op.value);
  });
}

// A concrete witness for the most common violation, with unique written values: a read that
// began after a newer write had been acknowledged, yet returned an older value. "Older"
// means the write of the value read (if any) completed before the newer write began, so
// real time orders the two writes and the read must follow both.
std::string StaleReadWitness(const std::vector<RegOp>& ops) {
  for (const RegOp& read : ops) {
    if (read.is_write || read.info) continue;
    const RegOp* source = nullptr;
    for (const RegOp& w : ops) {
      if (w.is_write && w.value == read.value) source = &w;
    }
    for (const RegOp& newer : ops) {
      if (!newer.is_write || newer.info || newer.value == read.value) continue;
      if (newer.return_ns >= read.call_ns) continue;
      const bool source_older =
          source == nullptr || (!source->info && source->return_ns < newer.call_ns);
      if (!source_older) continue;
      const std::string read_value = read.value.has_value() ? absl::StrCat(*read.value) : "nil";
      return absl::StrCat(
          "stale read: process ", read.process, " read ", read_value, " (invoked at ", read.call_ns,
          "ns), but process ", newer.process, " had already written ", *newer.value,
          " (acknowledged at ", newer.return_ns, "ns), and ",
          source == nullptr ? std::string("the initial empty value precedes every write")
                            : absl::StrCat("the write of ", read_value, " had completed at ",
                                           source->return_ns, "ns, before that write began"),
          ": the acknowledged write of ", *newer.value, " was lost");
    }
  }
  return "";
}

}  // namespace

LinearizabilityResult CheckRegisterLinearizable(const History& history, int64_t key,
                                                uint64_t search_steps_max) {
  std::vector<RegOp> ops = Collect(history, key);
  DropUnreadInfoWrites(&ops);
  LinearizabilityResult result;
  if (ops.empty()) return result;

  // Entries sorted by time; at equal times calls come first (concurrent, see header).
  struct Point {
    int64_t time;
    bool is_call;
    int op;
  };
  std::vector<Point> points;
  for (int i = 0; i < static_cast<int>(ops.size()); ++i) {
    points.push_back({ops[i].call_ns, true, i});
    if (!ops[i].info) points.push_back({ops[i].return_ns, false, i});
  }
  std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    if (a.time != b.time) return a.time < b.time;
    return a.is_call && !b.is_call;
  });
  // Entry 0 is the list head sentinel.
  std::vector<Entry> entries(points.size() + 1);
  std::vector<int> call_of(ops.size(), -1);
  std::vector<int> return_of(ops.size(), -1);
  for (size_t i = 0; i < points.size(); ++i) {
    Entry& e = entries[i + 1];
    e.op = points[i].op;
    e.is_call = points[i].is_call;
    e.prev = static_cast<int>(i);
    e.next = i + 1 < points.size() ? static_cast<int>(i + 2) : -1;
    (e.is_call ? call_of : return_of)[e.op] = static_cast<int>(i + 1);
  }
  entries[0].next = points.empty() ? -1 : 1;
  for (size_t i = 0; i < ops.size(); ++i) {
    entries[call_of[i]].match = return_of[i];
    if (return_of[i] >= 0) entries[return_of[i]].match = call_of[i];
  }
  auto unlink = [&](int e) {
    entries[entries[e].prev].next = entries[e].next;
    if (entries[e].next >= 0) entries[entries[e].next].prev = entries[e].prev;
  };
  auto relink = [&](int e) {
    entries[entries[e].prev].next = e;
    if (entries[e].next >= 0) entries[entries[e].next].prev = e;
  };
  // Lifting a call removes it and its return; relinking in reverse order restores both.
  auto lift = [&](int call) {
    unlink(call);
    if (entries[call].match >= 0) unlink(entries[call].match);
  };
  auto unlift = [&](int call) {
    if (entries[call].match >= 0) relink(entries[call].match);
    relink(call);
  };

  size_t returns_left = 0;
  for (const RegOp& op : ops) returns_left += !op.info;
  Bits linearized((ops.size() + 63) / 64, 0);
  std::optional<int64_t> state;
  struct Frame {
    int call;
    std::optional<int64_t> state_before;
  };
  std::vector<Frame> stack;
  absl::flat_hash_set<CacheKey> cache;  // lookup-only: never iterated.
  size_t best_depth = 0;
  int best_blocker = -1;

  int entry = entries[0].next;
  while (returns_left > 0) {
    if (++result.search_steps > search_steps_max) {
      result.verdict = Verdict::kUnknown;
      result.explanation = absl::StrCat("search gave up after ", search_steps_max, " steps");
      return result;
    }
    HC_ASSERT(entry >= 0);
    const Entry& e = entries[entry];
    if (e.is_call) {
      const RegOp& op = ops[e.op];
      const bool legal = op.is_write || op.value == state;
      if (legal) {
        const std::optional<int64_t> next_state = op.is_write ? op.value : state;
        linearized[e.op / 64] |= uint64_t{1} << (e.op % 64);
        if (cache.insert({linearized, next_state}).second) {
          stack.push_back({entry, state});
          state = next_state;
          if (!op.info) --returns_left;
          lift(entry);
          entry = entries[0].next;
          continue;
        }
        linearized[e.op / 64] &= ~(uint64_t{1} << (e.op % 64));
      }
      entry = e.next;
    } else {
      // A return whose call is still unplaced: the prefix cannot be extended; backtrack.
      if (stack.size() >= best_depth) {
        best_depth = stack.size();
        best_blocker = e.op;
      }
      if (stack.empty()) break;
      const Frame f = stack.back();
      stack.pop_back();
      const int op_index = entries[f.call].op;
      state = f.state_before;
      linearized[op_index / 64] &= ~(uint64_t{1} << (op_index % 64));
      if (!ops[op_index].info) ++returns_left;
      unlift(f.call);
      entry = entries[f.call].next;
    }
  }
  if (returns_left == 0) return result;

  result.verdict = Verdict::kViolation;
  result.explanation =
      absl::StrCat("not linearizable: the longest linearizable prefix places ", best_depth, " of ",
                   ops.size(), " operations, and no order can place ",
                   best_blocker >= 0 ? Describe(ops[best_blocker]) : std::string("an operation"),
                   " before it completes");
  const std::string witness = StaleReadWitness(ops);
  if (!witness.empty()) result.explanation = absl::StrCat(witness, "; ", result.explanation);
  return result;
}

}  // namespace hindcast::properties
