// Debian's Abseil 20220623 is built with its own absl::string_view (not std::string_view).
// Project APIs take std::string_view; these convert at the boundary with Abseil calls.
//
//   absl::StrAppend(&out, Sv(name));           // std::string_view -> absl::string_view
//   std::string_view piece = StdSv(split[0]);  // absl::string_view -> std::string_view
#ifndef HINDCAST_SIM_ABSL_COMPAT_H_
#define HINDCAST_SIM_ABSL_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace hindcast {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view StdSv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace hindcast

#endif  // HINDCAST_SIM_ABSL_COMPAT_H_
