// A faster global operator new and delete for Hindcast's programs, after FoundationDB's
// FastAllocator: requests up to kSmallBytesMax bytes take a block of one of kClassCount
// sizes from a thread-local free list, refilled from 64 KiB slabs that are never returned
// to the system; larger requests go to malloc. A run allocates and frees millions of small
// objects (messages, their fields, closures, tree nodes), and glibc's malloc spent about a
// third of a cluster run's instructions on them.
//
// Linking the `hindcast_fast_new` library into a program replaces its operator new and
// delete (new[] and delete[], sized or not; the aligned forms keep the standard ones).
// Sanitizer builds leave it out so AddressSanitizer sees every allocation.
//
// Threads: each thread allocates from and frees into its own lists, so a block freed by
// another thread than the one that allocated it simply changes lists; a thread that ends
// hands its lists to a shared pool that the next thread to run short draws from. Nothing
// here can reach a simulation's state: addresses never order or hash anything there.
#ifndef HINDCAST_SIM_FAST_NEW_H_
#define HINDCAST_SIM_FAST_NEW_H_

#include <cstddef>

namespace hindcast::sim::fast_new {

inline constexpr size_t kClassCount = 16;
inline constexpr size_t kSmallBytesMax = 512;

// What operator new and delete call. Allocate throws std::bad_alloc when out of memory;
// Free aborts on a pointer Allocate did not return.
void* Allocate(size_t bytes);
void Free(void* p) noexcept;

}  // namespace hindcast::sim::fast_new

#endif  // HINDCAST_SIM_FAST_NEW_H_
