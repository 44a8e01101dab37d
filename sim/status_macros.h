// RETURN_IF_ERROR and ASSIGN_OR_RETURN for absl::Status, which Abseil 20220623 lacks.
//
//   absl::StatusOr<Plan> LoadPlan(std::string_view path) {
//     ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     RETURN_IF_ERROR(Validate(text));
//     ...
//   }
#ifndef HINDCAST_SIM_STATUS_MACROS_H_
#define HINDCAST_SIM_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define HC_STATUS_CONCAT_INNER(a, b) a##b
#define HC_STATUS_CONCAT(a, b) HC_STATUS_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    ::absl::Status hc_status_ = (expr);      \
    if (!hc_status_.ok()) return hc_status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  HC_ASSIGN_OR_RETURN_IMPL(HC_STATUS_CONCAT(hc_statusor_, __LINE__), lhs, expr)

#define HC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

#endif  // HINDCAST_SIM_STATUS_MACROS_H_
