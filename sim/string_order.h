// StringOrder: a three-way, transparent order on strings for absl::btree_map keys.
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

}  // namespace hindcast::sim

#endif  // HINDCAST_SIM_STRING_ORDER_H_
