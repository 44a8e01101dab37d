// The transaction view of a client history that the isolation checker works on.
//
// A `TxnHistory` holds one `Txn` per invocation, paired with its completion, in flat arrays
// indexed by transaction id (the order of invocation), so a million transactions cost a few
// allocations, not millions. It comes from a simulator `History` (`FromHistory`) or from a
// Jepsen EDN file (`ParseEdnHistory` in properties/edn.h).
//
//   TxnHistory txns = FromHistory(history);
//   for (const Txn& t : txns.txns) { ... txns.mops[t.mop_begin] ... }
//
// Keys and values are int64. EDN keywords (`:x`), strings and symbols are interned to ids at
// the bottom of the int64 range (`NameTable`), so explanations can print the spelling the
// file used.
#ifndef HINDCAST_PROPERTIES_ISOLATION_HISTORY_H_
#define HINDCAST_PROPERTIES_ISOLATION_HISTORY_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "properties/history.h"

namespace hindcast::properties {

enum class TxnStatus : uint8_t { kOk, kInfo, kFail };
std::string_view TxnStatusName(TxnStatus status);

// What a read micro-operation returned. Writes and appends use kNone.
enum class ReadForm : uint8_t { kNone, kNil, kScalar, kList };

struct TxnMop {
  MopKind kind = MopKind::kRead;
  ReadForm form = ReadForm::kNone;
  int64_t key = 0;
  int64_t value = 0;  // Written or appended value; a register read's value (kScalar).
  // A list read: elements[list_begin, list_begin + list_size). Lists may overlap: one that
  // is a prefix of another may be stored as the start of the other.
  uint32_t list_begin = 0;
  uint32_t list_size = 0;
};

inline constexpr int64_t kNoProcess = std::numeric_limits<int64_t>::min();
inline constexpr uint32_t kNoPosition = std::numeric_limits<uint32_t>::max();

struct Txn {
  int64_t process = kNoProcess;  // kNoProcess when the file named none.
  int64_t index = 0;             // The invocation's :index (or its position), for printing.
  int64_t complete_index = -1;   // The completion's :index (or position); -1 when none.
  // Positions of the invocation and completion in the history's total order of events; a
  // transaction A precedes B in real time when A.complete_position < B.invoke_position.
  uint32_t invoke_position = 0;
  uint32_t complete_position = kNoPosition;  // kNoPosition when it never completed.
  TxnStatus status = TxnStatus::kInfo;
  // mops[mop_begin, mop_end): the completion's micro-ops when ok, the invocation's otherwise.
  uint32_t mop_begin = 0;
  uint32_t mop_end = 0;
};

// Interns names (keywords, strings, symbols) to ids kNameBase + i. Integers in
// [kNameBase, kNameBase + kNameLimit) are therefore not valid keys or values.
class NameTable {
 public:
  static constexpr int64_t kNameBase = std::numeric_limits<int64_t>::min();
  static constexpr int64_t kNameLimit = int64_t{1} << 32;
  static bool IsName(int64_t id) { return id < kNameBase + kNameLimit; }

  int64_t Intern(std::string_view spelling);
  // Appends the spelling of `id` (a name's text, or the integer in decimal).
  void Append(int64_t id, std::string* out) const;
  std::string Format(int64_t id) const;

 private:
  absl::flat_hash_map<std::string, int64_t> ids_;  // lookup-only
  std::vector<std::string> names_;
};

struct TxnHistory {
  std::vector<Txn> txns;
  std::vector<TxnMop> mops;
  std::vector<int64_t> elements;
  NameTable names;

  // `{:index 3, :type :ok, :process 1, :value [[:append :x 1] [:r :y [1 2]]]}`.
  std::string FormatTxn(uint32_t txn) const;
  void AppendMop(const TxnMop& mop, std::string* out) const;
};

// Pairs each invocation of `history` with its completion (ok, fail, or info when none).
TxnHistory FromHistory(const History& history);

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_ISOLATION_HISTORY_H_
