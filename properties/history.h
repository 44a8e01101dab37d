// Client histories in Jepsen's model.
//
// Every client operation appears twice: an invocation and a completion that is ok (it
// happened), fail (it certainly did not happen) or info (unknown: it may or may not have
// happened, at any time after its invocation). An operation is a transaction: a list of
// micro-operations on keys — `r` (read), `w` (write, rw-register) and `append`
// (list-append). Times are true virtual nanoseconds from the simulator, which no node can
// see, so real-time checks are exact.
//
//   History h;
//   size_t i = h.Invoke(/*process=*/3, now, {Mop::Write(0, 7)});
//   h.Complete(i, OpType::kOk, later, {Mop::Write(0, 7)});
//
// Processes are sessions; a process has at most one operation in flight.
#ifndef HINDCAST_PROPERTIES_HISTORY_H_
#define HINDCAST_PROPERTIES_HISTORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hindcast::properties {

enum class OpType : uint8_t { kInvoke, kOk, kFail, kInfo };
std::string_view OpTypeName(OpType type);

enum class MopKind : uint8_t { kRead, kWrite, kAppend };

struct Mop {
  MopKind kind = MopKind::kRead;
  int64_t key = 0;
  // w / append: the value written. r on a register: the value read, if any.
  std::optional<int64_t> value;
  // r on a list: the list read, if the read completed.
  std::optional<std::vector<int64_t>> list;

  static Mop Read(int64_t key) { return {.kind = MopKind::kRead, .key = key}; }
  static Mop Write(int64_t key, int64_t v) {
    return {.kind = MopKind::kWrite, .key = key, .value = v};
  }
  static Mop Append(int64_t key, int64_t v) {
    return {.kind = MopKind::kAppend, .key = key, .value = v};
  }
  bool operator==(const Mop&) const = default;
};

struct Op {
  int64_t index = 0;  // Position in the history.
  OpType type = OpType::kInvoke;
  int64_t process = 0;
  int64_t time_ns = 0;
  std::vector<Mop> mops;
  // For a completion, the index of its invocation; for an invocation, of its completion
  // (-1 while it has none).
  int64_t pair = -1;
};

class History {
 public:
  // Appends an invocation and returns its index.
  size_t Invoke(int64_t process, int64_t time_ns, std::vector<Mop> mops);
  // Appends the completion of invocation `invoke_index`.
  void Complete(size_t invoke_index, OpType type, int64_t time_ns, std::vector<Mop> mops);
  // Completes every operation still in flight as info (the run ended under it).
  void CloseOpenAsInfo(int64_t time_ns);

  const std::vector<Op>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }
  size_t Count(OpType type) const;

  // Jepsen EDN, one map per line: {:index 0, :type :invoke, :process 3, :time 12,
  // :value [[:w 0 7]]}.
  std::string ToEdn() const;

 private:
  std::vector<Op> ops_;
};

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_HISTORY_H_
