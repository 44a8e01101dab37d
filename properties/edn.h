// Reads Jepsen/Elle history files (EDN) into a `TxnHistory`.
//
// A file is either one operation map per line (the usual `history.edn`) or a single vector
// of maps. Each map has `:type` (:invoke, :ok, :fail or :info), `:process`, `:value` (a
// vector of micro-ops `[:append k v]`, `[:r k nil]`, `[:r k [v ...]]`, `[:w k v]`,
// `[:r k v]`), and optionally `:index`, `:time` and anything else (skipped). Operations
// whose `:process` is not an integer (`:nemesis`) are not client transactions and are
// skipped; a missing `:process` is one anonymous session. Invocations and completions are
// paired by process; an invocation that never completes is :info.
//
//   absl::StatusOr<TxnHistory> h = ParseEdnHistory(text);
//   if (!h.ok()) std::puts(h.status().message());  // "line 7: expected ..."
//
// Errors are one-line messages naming the line of the malformed operation. The scanner is
// hand-written (no regex, no per-token allocation) because imported histories run to
// millions of operations.
#ifndef HINDCAST_PROPERTIES_EDN_H_
#define HINDCAST_PROPERTIES_EDN_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "properties/isolation_history.h"

namespace hindcast::properties {

[[nodiscard]] absl::StatusOr<TxnHistory> ParseEdnHistory(std::string_view text);

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_EDN_H_
