// A transaction's identity across the cluster: the CN that started it and a number that CN
// never reuses. It travels in commit records (storage/wal.h) and names the transaction that
// owns a workspace spill object (storage/object.h).
//
//   TxnId txn{.cn = 2, .seq = 17};
//   txn.ToString();  // "cn2.17"
#ifndef HINDCAST_STORAGE_TXN_ID_H_
#define HINDCAST_STORAGE_TXN_ID_H_

#include <compare>
#include <cstdint>
#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"

namespace hindcast::storage {

struct TxnId {
  uint32_t cn = 0;   // The CN's node id.
  uint64_t seq = 0;  // Unique per CN, across the CN's restarts too (the CN persists a floor).

  // By CN, then number: a total order for ordered containers, not a time order.
  auto operator<=>(const TxnId&) const = default;

  std::string ToString() const { return absl::StrCat("cn", cn, ".", seq); }
};

inline std::ostream& operator<<(std::ostream& os, const TxnId& txn) { return os << txn.ToString(); }

}  // namespace hindcast::storage

#endif  // HINDCAST_STORAGE_TXN_ID_H_
