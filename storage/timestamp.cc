#include "storage/timestamp.h"

#include "absl/strings/str_cat.h"
#include "sim/assert.h"

namespace hindcast::storage {

Timestamp Timestamp::Next() const {
  HC_ASSERT_MSG(*this != Max(), "Timestamp::Max() has no successor");
  const Timestamp next = logical == std::numeric_limits<uint32_t>::max()
                             ? Timestamp{physical_ns + 1, 0}
                             : Timestamp{physical_ns, logical + 1};
  HC_ASSERT(*this < next);
  return next;
}

Timestamp Timestamp::Prev() const {
  HC_ASSERT_MSG(*this != Min(), "Timestamp::Min() has no predecessor");
  const Timestamp prev = logical == 0
                             ? Timestamp{physical_ns - 1, std::numeric_limits<uint32_t>::max()}
                             : Timestamp{physical_ns, logical - 1};
  HC_ASSERT(prev < *this);
  return prev;
}

std::string Timestamp::ToString() const {
  if (*this == Min()) return "min";
  if (*this == Max()) return "max";
  return absl::StrCat(physical_ns, ".", logical);
}

std::ostream& operator<<(std::ostream& os, const Timestamp& ts) { return os << ts.ToString(); }

}  // namespace hindcast::storage
