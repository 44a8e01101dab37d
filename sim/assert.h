// Always-on assertions for programmer errors (never for user input, which gets a Status).
//
//   HC_ASSERT(queue_.size() <= kQueueLimit);
//   HC_ASSERT_MSG(term >= current_term_, "term went backwards");
//
// A failed assertion prints file, line, the condition and, when a simulation is running on
// this thread, its seed and the command that replays it; then it aborts. The seed context
// is installed by `ScopedAssertContext` around a run. It is the one piece of thread-local
// state in the kernel, and it only ever feeds the failure message, never the simulation.
#ifndef HINDCAST_SIM_ASSERT_H_
#define HINDCAST_SIM_ASSERT_H_

#include <string>

namespace hindcast::sim {

[[noreturn]] void AssertFail(const char* file, int line, const char* condition,
                             const std::string& message);

// Names the run (seed and replay command) in every assertion failure while it lives.
class ScopedAssertContext {
 public:
  explicit ScopedAssertContext(std::string context);
  ~ScopedAssertContext();
  ScopedAssertContext(const ScopedAssertContext&) = delete;
  ScopedAssertContext& operator=(const ScopedAssertContext&) = delete;

 private:
  std::string previous_;
};

}  // namespace hindcast::sim

#define HC_ASSERT(cond)                                                      \
  do {                                                                       \
    if (__builtin_expect(!(cond), 0)) {                                      \
      ::hindcast::sim::AssertFail(__FILE__, __LINE__, #cond, std::string()); \
    }                                                                        \
  } while (0)

#define HC_ASSERT_MSG(cond, msg)                                     \
  do {                                                               \
    if (__builtin_expect(!(cond), 0)) {                              \
      ::hindcast::sim::AssertFail(__FILE__, __LINE__, #cond, (msg)); \
    }                                                                \
  } while (0)

#endif  // HINDCAST_SIM_ASSERT_H_
