// determinism-lint: not simulated (it tests the allocator from several threads).
//
// The programs' operator new (sim/fast_new.h): every size gets aligned, writable memory of
// its own; freed blocks are reused; blocks may be freed on another thread; a pointer it
// did not hand out is refused loudly.
#include "sim/fast_new.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace hindcast::sim::fast_new {
namespace {

bool Aligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % __STDCPP_DEFAULT_NEW_ALIGNMENT__ == 0;
}

TEST(FastNewTest, EverySizeGetsAlignedDisjointWritableMemory) {
  std::vector<std::pair<char*, size_t>> blocks;
  for (size_t n = 0; n <= kSmallBytesMax + 64; ++n) {
    char* p = static_cast<char*>(Allocate(n));
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(Aligned(p)) << n;
    std::memset(p, static_cast<int>(n & 0xff), n);
    blocks.emplace_back(p, n);
  }
  // Nothing overlapped: every block still holds its own byte.
  for (const auto& [p, n] : blocks) {
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(static_cast<uint8_t>(p[i]), n & 0xff) << n;
  }
  for (const auto& [p, n] : blocks) Free(p);
}

TEST(FastNewTest, LargeRequestsWork) {
  const size_t n = 3u << 20;
  char* p = static_cast<char*>(Allocate(n));
  EXPECT_TRUE(Aligned(p));
  std::memset(p, 7, n);
  EXPECT_EQ(p[n - 1], 7);
  Free(p);
}

TEST(FastNewTest, AFreedBlockIsTheNextOneOfItsClass) {
  void* a = Allocate(40);
  Free(a);
  void* b = Allocate(33);  // Same class (48 bytes).
  EXPECT_EQ(a, b);
  Free(b);
}

TEST(FastNewTest, GlobalNewAndDeleteGoThroughIt) {
  // new/delete, sized and unsized, arrays and library types all pair up with this allocator
  // (a mismatch would abort in Free).
  auto owned = std::make_unique<std::string>(200, 'x');
  int* array = new int[1000];
  array[999] = 1;
  delete[] array;
  std::vector<std::unique_ptr<int>> many;
  for (int i = 0; i < 100'000; ++i) many.push_back(std::make_unique<int>(i));
  for (int i = 0; i < 100'000; ++i) ASSERT_EQ(*many[i], i);
  EXPECT_EQ(owned->size(), 200u);
}

TEST(FastNewTest, BlocksMayBeFreedByAnotherThreadAndSurviveThreadExit) {
  std::vector<void*> made;
  std::thread maker([&] {
    for (int i = 0; i < 20'000; ++i) made.push_back(Allocate(64));
  });
  maker.join();  // Its free lists go to the shared pool.
  std::set<void*> distinct(made.begin(), made.end());
  EXPECT_EQ(distinct.size(), made.size());
  std::thread freer([&] {
    for (void* p : made) Free(p);
  });
  freer.join();
  // A new thread draws the pooled blocks rather than carving new slabs.
  std::vector<void*> again;
  std::thread taker([&] {
    for (int i = 0; i < 1000; ++i) again.push_back(Allocate(64));
  });
  taker.join();
  size_t reused = 0;
  for (void* p : again) reused += distinct.count(p);
  EXPECT_GT(reused, 0u);
  for (void* p : again) Free(p);
}

TEST(FastNewDeathTest, FreeingAForeignPointerAborts) {
  alignas(16) static char buffer[64] = {};
  EXPECT_DEATH(Free(buffer + 32), "did not return");
}

}  // namespace
}  // namespace hindcast::sim::fast_new
