#include "sim/time.h"

#include <cstdlib>

#include "absl/strings/str_format.h"

namespace hindcast::sim {

std::string Duration::ToString() const {
  const int64_t abs_ns = ns_ < 0 ? -ns_ : ns_;
  const char* sign = ns_ < 0 ? "-" : "";
  if (abs_ns < 1000) return absl::StrFormat("%s%dns", sign, abs_ns);
  if (abs_ns < 1000 * 1000) {
    return absl::StrFormat("%s%d.%03dus", sign, abs_ns / 1000, abs_ns % 1000);
  }
  if (abs_ns < int64_t{1000} * 1000 * 1000) {
    return absl::StrFormat("%s%d.%03dms", sign, abs_ns / 1000000, (abs_ns / 1000) % 1000);
  }
  return absl::StrFormat("%s%d.%03ds", sign, abs_ns / 1000000000, (abs_ns / 1000000) % 1000);
}

}  // namespace hindcast::sim
