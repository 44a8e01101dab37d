// StringOrder: a three-way, transparent order on strings for absl::btree_map keys; and a
// transparent hash and equality for absl's hash maps, for lookups by std::string_view.
//
//   absl::btree_map<std::string, File, StringOrder> files;
//   files.find(std::string_view("raft.log.1"));  // No std::string is built for the lookup.
//
// absl's btree upgrades std::less<std::string> to a three-way compare by itself, but only for
// lookups by absl::string_view, which is not std::string_view in Debian's Abseil; a
// transparent std::less<> gets plain boolean compares, two string compares per node step
// where a three-way compare needs one.
#ifndef HINDCAST_SIM_STRING_ORDER_H_
#define HINDCAST_SIM_STRING_ORDER_H_

#include <string_view>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "absl/types/compare.h"

namespace hindcast::sim {

struct StringOrder {
  using is_transparent = void;
  absl::weak_ordering operator()(std::string_view a, std::string_view b) const {
    const int c = a.compare(b);
    return c < 0 ? absl::weak_ordering::less
                 : (c == 0 ? absl::weak_ordering::equivalent : absl::weak_ordering::greater);
  }
};

// StringHash and StringEq: the same for absl's hash containers of std::string keys, so they
// are found by std::string_view (absl's own are transparent only for absl::string_view).
// For lookups only: a hash container's iteration order differs between processes.
//
//   absl::node_hash_map<std::string, Chain, StringHash, StringEq> chains;  // lookup-only
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    return absl::Hash<absl::string_view>{}(absl::string_view(s.data(), s.size()));
  }
};

struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

}  // namespace hindcast::sim

#endif  // HINDCAST_SIM_STRING_ORDER_H_
