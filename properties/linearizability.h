// Linearizability of a single read-write register, by the Wing-Gong search with Lowe's
// memoization (the algorithm behind Knossos' "wgl" and Porcupine).
//
//   LinearizabilityResult r = CheckRegisterLinearizable(history, /*key=*/0);
//   if (r.verdict == Verdict::kViolation) std::cout << r.explanation;
//
// The history's operations must each hold one micro-operation on `key` (others are
// ignored): `w` writes its value, `r` returns the value it read (nullopt: the initial, empty
// register). Failed operations never happened and are dropped. Info (unknown) writes may
// take effect at any moment after their invocation or never; info reads constrain nothing,
// and neither does an info write whose value no read returned (it is dropped before the
// search, which keeps runs with many timed-out writes from exhausting it).
// Invocations and completions at the same instant are treated as concurrent, the lenient
// reading, so a verdict of violation never rests on a tie.
#ifndef HINDCAST_PROPERTIES_LINEARIZABILITY_H_
#define HINDCAST_PROPERTIES_LINEARIZABILITY_H_

#include <cstdint>
#include <string>

#include "properties/history.h"

namespace hindcast::properties {

enum class Verdict { kOk, kViolation, kUnknown };
std::string_view VerdictName(Verdict verdict);

struct LinearizabilityResult {
  Verdict verdict = Verdict::kOk;
  uint64_t search_steps = 0;
  // For a violation: the longest linearizable prefix found and the operations that could
  // not be placed after it, in words.
  std::string explanation;
};

// The search is exponential in the worst case; it gives up with kUnknown after
// `search_steps_max` steps rather than run unbounded.
LinearizabilityResult CheckRegisterLinearizable(const History& history, int64_t key,
                                                uint64_t search_steps_max = 20'000'000);

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_LINEARIZABILITY_H_
