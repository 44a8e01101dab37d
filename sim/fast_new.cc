// determinism-lint: not simulated (the allocator of the programs, shared by their threads).
//
// The global operator new and delete of Hindcast's programs: thread-local free lists of
// fixed-size blocks, after FoundationDB's FastAllocator. See fast_new.h.
#include "sim/fast_new.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>

namespace hindcast::sim::fast_new {
namespace {

// Every block is preceded by a header naming its size class, so the unsized delete can
// free it; 16 bytes keep the payload at the alignment operator new promises
// (__STDCPP_DEFAULT_NEW_ALIGNMENT__).
constexpr size_t kHeaderBytes = 16;
static_assert(kHeaderBytes % __STDCPP_DEFAULT_NEW_ALIGNMENT__ == 0);
constexpr uint32_t kMagic = 0x48434e57;  // "HCNW": catches frees of foreign pointers.
constexpr uint32_t kLargeClass = 0xffff'ffff;

// Payload sizes of the classes; a request takes the smallest class that holds it.
constexpr std::array<uint32_t, kClassCount> kClassBytes = {16,  32,  48,  64,  80,  96,  112, 128,
                                                           160, 192, 224, 256, 320, 384, 448, 512};
static_assert(kClassBytes.back() == kSmallBytesMax);

// A slab is carved into blocks of one class; slabs are never returned to the system.
constexpr size_t kSlabBytes = 64 * 1024;

struct Header {
  uint32_t magic;
  uint32_t size_class;
  uint64_t unused;
};
static_assert(sizeof(Header) == kHeaderBytes);

struct FreeBlock {
  FreeBlock* next;
};

// The class of each request size in 16-byte steps: kClassOf[(n + 15) / 16].
constexpr std::array<uint8_t, kSmallBytesMax / 16 + 1> MakeClassTable() {
  std::array<uint8_t, kSmallBytesMax / 16 + 1> table{};
  uint8_t c = 0;
  for (size_t step = 0; step < table.size(); ++step) {
    while (kClassBytes[c] < step * 16) ++c;
    table[step] = c;
  }
  return table;
}
constexpr std::array<uint8_t, kSmallBytesMax / 16 + 1> kClassOf = MakeClassTable();

// The fast path touches only this: a trivially constructed thread-local needs no guard.
thread_local std::array<FreeBlock*, kClassCount> tl_free{};

// Blocks of threads that ended, for the next thread that runs short.
struct Pool {
  std::mutex mu;
  std::array<FreeBlock*, kClassCount> free{};
};
Pool& GlobalPool() {
  static Pool* pool = new (std::malloc(sizeof(Pool))) Pool();  // Never destroyed.
  return *pool;
}

// Gives a thread's free blocks to the pool when the thread ends.
struct ThreadReturn {
  ~ThreadReturn() {
    Pool& pool = GlobalPool();
    std::lock_guard<std::mutex> lock(pool.mu);
    for (size_t c = 0; c < kClassCount; ++c) {
      while (FreeBlock* b = tl_free[c]) {
        tl_free[c] = b->next;
        b->next = pool.free[c];
        pool.free[c] = b;
      }
    }
  }
};

[[noreturn]] void Corrupt(const void* p) {
  std::fprintf(stderr, "fast_new: delete of %p, which operator new did not return\n", p);
  std::abort();
}

Header* HeaderOf(void* payload) {
  return reinterpret_cast<Header*>(static_cast<char*>(payload) - kHeaderBytes);
}

// Cuts a new slab into blocks of class c, every one with its header written once: the
// first is returned, the rest become this thread's list (which was empty).
char* Carve(size_t c) {
  const size_t block = kHeaderBytes + kClassBytes[c];
  char* slab = static_cast<char*>(std::malloc(kSlabBytes));
  if (slab == nullptr) throw std::bad_alloc();
  const size_t count = kSlabBytes / block;
  FreeBlock* head = nullptr;
  for (size_t i = count; i-- > 0;) {
    char* payload = slab + i * block + kHeaderBytes;
    *HeaderOf(payload) = {.magic = kMagic, .size_class = static_cast<uint32_t>(c), .unused = 0};
    if (i == 0) break;
    FreeBlock* b = reinterpret_cast<FreeBlock*>(payload);
    b->next = head;
    head = b;
  }
  tl_free[c] = head;
  return slab + kHeaderBytes;
}

// Makes sure the thread hands its lists back when it ends. Called whenever a list may have
// gone from empty to not empty, which is rare next to the hits of the fast path.
__attribute__((noinline)) void GiveBackAtExit() {
  thread_local ThreadReturn give_back;
  (void)&give_back;
}

__attribute__((noinline)) void* Refill(size_t c) {
  GiveBackAtExit();
  Pool& pool = GlobalPool();
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    if (FreeBlock* b = pool.free[c]) {  // Take the whole list at once.
      pool.free[c] = nullptr;
      tl_free[c] = b->next;
      return b;
    }
  }
  return Carve(c);
}

__attribute__((noinline)) void* AllocateLarge(size_t n) {
  char* raw = static_cast<char*>(std::malloc(kHeaderBytes + n));
  if (raw == nullptr) throw std::bad_alloc();
  *reinterpret_cast<Header*>(raw) = {.magic = kMagic, .size_class = kLargeClass, .unused = 0};
  return raw + kHeaderBytes;
}

}  // namespace

void* Allocate(size_t n) {
  if (n > kSmallBytesMax) return AllocateLarge(n);
  const size_t c = kClassOf[(n + 15) / 16];
  FreeBlock* b = tl_free[c];
  if (__builtin_expect(b == nullptr, 0)) return Refill(c);
  tl_free[c] = b->next;
  return b;
}

void Free(void* p) noexcept {
  if (p == nullptr) return;
  Header* h = HeaderOf(p);
  if (__builtin_expect(h->magic != kMagic, 0)) Corrupt(p);
  const uint32_t c = h->size_class;
  if (c == kLargeClass) {
    std::free(h);
    return;
  }
  if (__builtin_expect(c >= kClassCount, 0)) Corrupt(p);
  FreeBlock* b = static_cast<FreeBlock*>(p);
  b->next = tl_free[c];
  tl_free[c] = b;
  if (__builtin_expect(b->next == nullptr, 0)) GiveBackAtExit();
}

}  // namespace hindcast::sim::fast_new

void* operator new(size_t n) { return hindcast::sim::fast_new::Allocate(n); }
void* operator new[](size_t n) { return hindcast::sim::fast_new::Allocate(n); }
void operator delete(void* p) noexcept { hindcast::sim::fast_new::Free(p); }
void operator delete[](void* p) noexcept { hindcast::sim::fast_new::Free(p); }
void operator delete(void* p, size_t) noexcept { hindcast::sim::fast_new::Free(p); }
void operator delete[](void* p, size_t) noexcept { hindcast::sim::fast_new::Free(p); }
