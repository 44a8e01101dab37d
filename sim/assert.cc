#include "sim/assert.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace hindcast::sim {
namespace {
// Failure-message context only; see the header for why this is allowed.
thread_local std::string assert_context;
}  // namespace

void AssertFail(const char* file, int line, const char* condition, const std::string& message) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s%s%s\n", file, line, condition,
               message.empty() ? "" : ": ", message.c_str());
  if (!assert_context.empty()) std::fprintf(stderr, "  during %s\n", assert_context.c_str());
  std::fflush(stderr);
  std::abort();
}

ScopedAssertContext::ScopedAssertContext(std::string context)
    : previous_(std::exchange(assert_context, std::move(context))) {}

ScopedAssertContext::~ScopedAssertContext() { assert_context = std::move(previous_); }

}  // namespace hindcast::sim
