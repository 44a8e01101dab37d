#include "sim/disk.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sim/node.h"
#include "sim/simulator.h"

namespace hindcast::sim {
namespace {

constexpr NodeId kNode = 1;

class NullNode : public Node {
 public:
  void Receive(NodeId, Payload&) override {}
};

// A simulator with one node and its disk, plus blocking helpers that run the simulation
// until the operation completes.
class DiskHarness {
 public:
  explicit DiskHarness(uint64_t seed, const DiskOptions& options = DiskOptions{},
                       EventLog::Retention retention = EventLog::Retention::kFingerprintOnly)
      : sim_({.seed = seed, .retention = retention}), disk_(sim_, kNode, options) {
    sim_.AddNode(kNode, "n1", [](NodeId) { return std::make_unique<NullNode>(); });
  }

  Simulator& sim() { return sim_; }
  Disk& disk() { return disk_; }

  absl::Status Write(std::string_view file, uint64_t offset, std::string bytes) {
    std::optional<absl::Status> out;
    disk_.Write(file, offset, std::move(bytes), [&](absl::Status s) { out = std::move(s); });
    sim_.Run({});
    EXPECT_TRUE(out.has_value());
    return out.value_or(absl::InternalError("write never completed"));
  }
  absl::Status Append(std::string_view file, std::string bytes) {
    std::optional<absl::Status> out;
    disk_.Append(file, std::move(bytes), [&](absl::Status s) { out = std::move(s); });
    sim_.Run({});
    EXPECT_TRUE(out.has_value());
    return out.value_or(absl::InternalError("append never completed"));
  }
  absl::Status Sync(std::string_view file) {
    std::optional<absl::Status> out;
    disk_.Sync(file, [&](absl::Status s) { out = std::move(s); });
    sim_.Run({});
    EXPECT_TRUE(out.has_value());
    return out.value_or(absl::InternalError("sync never completed"));
  }
  absl::StatusOr<std::string> Read(std::string_view file, uint64_t offset, uint64_t length) {
    std::optional<absl::StatusOr<std::string>> out;
    disk_.Read(file, offset, length, [&](absl::StatusOr<std::string> r) { out = std::move(r); });
    sim_.Run({});
    EXPECT_TRUE(out.has_value());
    return out.value_or(absl::InternalError("read never completed"));
  }
  void CrashAndRestart() {
    ASSERT_TRUE(sim_.Crash(kNode));
    ASSERT_TRUE(sim_.Restart(kNode));
  }

 private:
  Simulator sim_;
  Disk disk_;
};

// Bytes that differ between writes, so a test can tell whose bytes survived.
std::string Pattern(uint64_t tag, size_t length) {
  std::string out(length, '\0');
  for (size_t i = 0; i < length; ++i) out[i] = static_cast<char>(Mix64(tag * 1'000'003 + i));
  return out;
}

int BitsDifferent(std::string_view x, std::string_view y) {
  EXPECT_EQ(x.size(), y.size());
  int bits = 0;
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
    bits += __builtin_popcount(static_cast<unsigned char>(x[i] ^ y[i]));
  }
  return bits;
}

TEST(DiskTest, LatencyOfEachOperationLiesWithinItsBounds) {
  const DiskOptions options{.read_latency = {Duration::Micros(10), Duration::Micros(20)},
                            .write_latency = {Duration::Micros(30), Duration::Micros(60)},
                            .sync_latency = {Duration::Micros(100), Duration::Micros(400)}};
  DiskHarness h(7, options);
  ASSERT_TRUE(h.Write("f", 0, "seed").ok());
  constexpr int kOpsPerKind = 300;
  struct Span {
    Duration min = Duration::Max();
    Duration max = Duration::Zero();
    int done = 0;
    void Add(Duration d) {
      min = std::min(min, d);
      max = std::max(max, d);
      ++done;
    }
  };
  Span reads, writes, syncs;
  const Instant start = h.sim().Now();
  for (int i = 0; i < kOpsPerKind; ++i) {
    h.disk().Read("f", 0, 4,
                  [&](absl::StatusOr<std::string>) { reads.Add(h.sim().Now() - start); });
    h.disk().Write("f", 8 * i, "x", [&](absl::Status) { writes.Add(h.sim().Now() - start); });
    h.disk().Sync("f", [&](absl::Status) { syncs.Add(h.sim().Now() - start); });
  }
  h.sim().Run({});
  ASSERT_EQ(reads.done, kOpsPerKind);
  ASSERT_EQ(writes.done, kOpsPerKind);
  ASSERT_EQ(syncs.done, kOpsPerKind);
  for (const auto& [span, range] :
       {std::pair(reads, options.read_latency), std::pair(writes, options.write_latency),
        std::pair(syncs, options.sync_latency)}) {
    EXPECT_GE(span.min, range.min);
    EXPECT_LE(span.max, range.max);
    // The draws spread over the range rather than sitting at one end.
    EXPECT_LT(span.min, range.min + (range.max - range.min) / 4);
    EXPECT_GT(span.max, range.max - (range.max - range.min) / 4);
  }
}

TEST(DiskTest, ReadsSeeCompletedWritesSyncedOrNot) {
  DiskHarness h(1);
  ASSERT_TRUE(h.Write("f", 0, "hello world").ok());
  EXPECT_EQ(*h.Read("f", 0, 100), "hello world");  // Short read at the end of the file.
  ASSERT_TRUE(h.Write("f", 6, "WORLD").ok());
  EXPECT_EQ(*h.Read("f", 0, 11), "hello WORLD");
  ASSERT_TRUE(h.Append("f", "!").ok());
  EXPECT_EQ(*h.Read("f", 6, 6), "WORLD!");
  EXPECT_EQ(*h.Read("f", 12, 5), "");  // At the end: empty, not an error.
  EXPECT_EQ(*h.disk().Size("f"), 12u);
  EXPECT_EQ(h.disk().DurableForTest("f"), "");  // Nothing was synced.
  EXPECT_EQ(h.Read("missing", 0, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(h.Sync("missing").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(h.Write("", 0, "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.disk().Size("missing").status().code(), absl::StatusCode::kNotFound);
}

TEST(DiskTest, WriteBeyondTheEndFillsTheGapWithZeros) {
  DiskHarness h(1);
  ASSERT_TRUE(h.Write("f", 4, "ab").ok());
  EXPECT_EQ(*h.Read("f", 0, 6), std::string("\0\0\0\0ab", 6));
  EXPECT_EQ(h.Write("f", Disk::kMaxFileSizeBytes, "x").code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(DiskTest, SyncMakesCompletedWritesDurable) {
  DiskHarness h(1);
  ASSERT_TRUE(h.Write("f", 0, "abc").ok());
  ASSERT_TRUE(h.Append("f", "def").ok());
  EXPECT_EQ(h.disk().UnsyncedWritesForTest("f"), 2u);
  ASSERT_TRUE(h.Sync("f").ok());
  EXPECT_EQ(h.disk().DurableForTest("f"), "abcdef");
  EXPECT_EQ(h.disk().UnsyncedWritesForTest("f"), 0u);
  h.CrashAndRestart();
  EXPECT_EQ(*h.Read("f", 0, 6), "abcdef");
}

TEST(DiskTest, SyncCoversOnlyWritesCompletedBeforeItWasIssued) {
  const DiskOptions options{.write_latency = {Duration::Micros(10), Duration::Micros(10)},
                            .sync_latency = {Duration::Millis(1), Duration::Millis(1)}};
  DiskHarness h(1, options);
  ASSERT_TRUE(h.Write("f", 0, "old").ok());
  bool synced = false;
  h.disk().Sync("f", [&](absl::Status s) { synced = s.ok(); });
  // Completes during the sync, but after it was issued.
  h.disk().Write("f", 3, "new", [](absl::Status) {});
  h.sim().Run({});
  ASSERT_TRUE(synced);
  EXPECT_EQ(h.disk().DurableForTest("f"), "old");
  EXPECT_EQ(h.disk().VolatileForTest("f"), "oldnew");
  EXPECT_EQ(h.disk().UnsyncedWritesForTest("f"), 1u);
}

TEST(DiskTest, CrashLosesOperationsInFlightAndDiscardsTheirCallbacks) {
  DiskHarness h(1);
  ASSERT_TRUE(h.Write("f", 0, "durable").ok());
  ASSERT_TRUE(h.Sync("f").ok());
  int callbacks = 0;
  h.disk().Write("f", 0, "VOLATILE", [&](absl::Status) { ++callbacks; });
  h.disk().Sync("f", [&](absl::Status) { ++callbacks; });
  h.disk().Write("g", 0, "never", [&](absl::Status) { ++callbacks; });
  EXPECT_EQ(h.disk().ops_in_flight(), 3u);
  h.CrashAndRestart();
  h.sim().Run({});
  EXPECT_EQ(callbacks, 0);
  EXPECT_EQ(h.disk().ops_in_flight(), 0u);
  EXPECT_EQ(*h.Read("f", 0, 100), "durable");
  EXPECT_FALSE(h.disk().Exists("g"));
}

// Fixed latencies, so a test can crash before or after a WriteAndSync's write point.
constexpr DiskOptions kFixedLatency{.read_latency = {Duration::Micros(10), Duration::Micros(10)},
                                    .write_latency = {Duration::Micros(100), Duration::Micros(100)},
                                    .sync_latency = {Duration::Micros(900), Duration::Micros(900)},
                                    .crash_lost_weight = 0,
                                    .crash_torn_weight = 0};

TEST(DiskTest, WriteAndSyncCompletesAfterAWriteAndASyncAndLeavesTheFileDurable) {
  DiskHarness h(5, kFixedLatency, EventLog::Retention::kFull);
  ASSERT_TRUE(h.Write("f", 0, "0123456789").ok());  // Unsynced: the sync covers it too.
  const Instant start = h.sim().Now();
  std::optional<absl::Status> done;
  std::optional<Instant> done_at;
  h.disk().WriteAndSync("f", 4, "abc", [&](absl::Status s) {
    done = s;
    done_at = h.sim().Now();
  });
  // A read completing between the write point and the completion does not see the write.
  std::optional<std::string> read_between;
  h.sim().Schedule(Duration::Micros(500), [&] {
    h.disk().Read("f", 0, 10, [&](absl::StatusOr<std::string> r) { read_between = *r; });
  });
  h.sim().Run({});
  ASSERT_TRUE(done.has_value() && done->ok());
  EXPECT_EQ(*done_at - start, Duration::Micros(1000));
  EXPECT_EQ(read_between, "0123456789");
  EXPECT_EQ(*h.disk().DurableForTest("f"), "0123abc789");
  EXPECT_EQ(h.disk().UnsyncedWritesForTest("f"), 0u);
  // Its events are a write then a sync that covers both writes, at its completion.
  std::vector<Event> mine;
  for (size_t i = 0; i < h.sim().log().kept(); ++i) {
    const Event e = h.sim().log().event(i);
    if (e.node == kNode && e.time == *done_at) mine.push_back(e);
  }
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].kind, EventKind::kDiskWrite);
  EXPECT_EQ(mine[0].a, 4u);
  EXPECT_EQ(mine[0].b, 3u);
  EXPECT_EQ(mine[1].kind, EventKind::kDiskSync);
  EXPECT_EQ(mine[1].a, 2u);
  EXPECT_EQ(mine[1].b, 13u);
  EXPECT_EQ(mine[1].cause, mine[0].seq);
}

TEST(DiskTest, WriteAndSyncToAMissingFileCreatesIt) {
  DiskHarness h(5);
  std::optional<absl::Status> done;
  h.disk().WriteAndSync("new", 0, "abc", [&](absl::Status s) { done = s; });
  h.sim().Run({});
  ASSERT_TRUE(done.has_value() && done->ok());
  EXPECT_EQ(*h.disk().DurableForTest("new"), "abc");
  done.reset();
  h.disk().WriteAndSync("", 0, "abc", [&](absl::Status s) { done = s; });
  h.sim().Run({});
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->code(), absl::StatusCode::kInvalidArgument);
}

TEST(DiskTest, CrashBeforeAWriteAndSyncsWritePointLosesItWhole) {
  DiskHarness h(5, kFixedLatency);
  ASSERT_TRUE(h.Write("f", 0, "durable").ok());
  ASSERT_TRUE(h.Sync("f").ok());
  int callbacks = 0;
  h.disk().WriteAndSync("f", 0, "VOLATILE", [&](absl::Status) { ++callbacks; });
  h.disk().WriteAndSync("g", 0, "never", [&](absl::Status) { ++callbacks; });
  h.sim().Run({.time_limit = h.sim().Now() + Duration::Micros(99)});
  h.CrashAndRestart();
  h.sim().Run({});
  EXPECT_EQ(callbacks, 0);
  EXPECT_TRUE(h.disk().last_crash().empty());
  EXPECT_EQ(*h.Read("f", 0, 100), "durable");
  EXPECT_FALSE(h.disk().Exists("g"));
}

TEST(DiskTest, CrashAfterAWriteAndSyncsWritePointResolvesItLikeAnUnsyncedWrite) {
  // Every unsynced write is kept at a crash (kFixedLatency's weights): the in-flight
  // write-throughs past their write point survive, in write-point order, after the file's
  // completed unsynced write.
  DiskHarness h(5, kFixedLatency);
  ASSERT_TRUE(h.Write("f", 0, "aaaaaaaa").ok());
  h.disk().WriteAndSync("f", 2, "bbbb", [](absl::Status) { FAIL(); });
  h.sim().Schedule(Duration::Micros(50), [&] {
    h.disk().WriteAndSync("f", 4, "cccc", [](absl::Status) { FAIL(); });
    h.disk().WriteAndSync("g", 0, "created", [](absl::Status) { FAIL(); });
  });
  h.sim().Run({.time_limit = h.sim().Now() + Duration::Micros(200)});
  h.CrashAndRestart();
  h.sim().Run({});
  ASSERT_EQ(h.disk().last_crash().size(), 4u);
  EXPECT_EQ(*h.Read("f", 0, 100), "aabbcccc");
  EXPECT_EQ(*h.Read("g", 0, 100), "created");
}

TEST(DiskTest, CrashThatLosesEveryUnsyncedWriteKeepsExactlyTheSyncedBytes) {
  DiskHarness h(3, DiskOptions{.crash_kept_weight = 0, .crash_torn_weight = 0});
  ASSERT_TRUE(h.Write("f", 0, Pattern(1, 3000)).ok());
  ASSERT_TRUE(h.Sync("f").ok());
  ASSERT_TRUE(h.Write("f", 100, Pattern(2, 2000)).ok());
  ASSERT_TRUE(h.Append("f", Pattern(3, 700)).ok());
  h.CrashAndRestart();
  EXPECT_EQ(*h.Read("f", 0, 10'000), Pattern(1, 3000));
  EXPECT_EQ(h.disk().fault_counts().crash_lost_writes, 2u);
  ASSERT_EQ(h.disk().last_crash().size(), 2u);
  EXPECT_EQ(h.disk().last_crash()[0].fate, CrashFate::kLost);
}

TEST(DiskTest, CrashThatKeepsEveryUnsyncedWriteKeepsWhatReadsSaw) {
  DiskHarness h(3, DiskOptions{.crash_lost_weight = 0, .crash_torn_weight = 0});
  ASSERT_TRUE(h.Write("f", 0, Pattern(1, 3000)).ok());
  ASSERT_TRUE(h.Write("f", 100, Pattern(2, 2000)).ok());
  const std::string before(*h.disk().VolatileForTest("f"));
  h.CrashAndRestart();
  EXPECT_EQ(*h.Read("f", 0, 10'000), before);
  EXPECT_EQ(h.disk().fault_counts().total(), 0u);
}

TEST(DiskTest, TornWriteKeepsOrDropsEachSectorAsAUnit) {
  const std::string old_bytes = Pattern(1, 8 * kSectorSizeBytes);
  const std::string new_bytes = Pattern(2, 6 * kSectorSizeBytes);
  constexpr uint64_t kOffset = 300;  // Unaligned: the first and last sectors are partial.
  int mixed = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    DiskHarness h(seed, DiskOptions{.crash_lost_weight = 0, .crash_kept_weight = 0});
    ASSERT_TRUE(h.Write("f", 0, old_bytes).ok());
    ASSERT_TRUE(h.Sync("f").ok());
    ASSERT_TRUE(h.Write("f", kOffset, new_bytes).ok());
    h.CrashAndRestart();
    const std::string after(*h.disk().DurableForTest("f"));
    ASSERT_EQ(after.size(), old_bytes.size());
    ASSERT_EQ(h.disk().last_crash().size(), 1u);
    const CrashedWrite& report = h.disk().last_crash()[0];
    ASSERT_EQ(report.fate, CrashFate::kTorn);
    ASSERT_EQ(report.sector_kept.size(), 7u);  // Bytes 300..3372 touch sectors 0..6.
    bool any_kept = false, any_lost = false;
    for (uint64_t sector = 0; sector < 7; ++sector) {
      const uint64_t begin = std::max(sector * kSectorSizeBytes, kOffset);
      const uint64_t end = std::min((sector + 1) * kSectorSizeBytes, kOffset + new_bytes.size());
      const std::string_view got = std::string_view(after).substr(begin, end - begin);
      const bool kept = report.sector_kept[sector];
      (kept ? any_kept : any_lost) = true;
      const std::string& source = kept ? new_bytes : old_bytes;
      const uint64_t base = kept ? kOffset : 0;
      EXPECT_EQ(got, std::string_view(source).substr(begin - base, end - begin))
          << "seed " << seed << " sector " << sector;
    }
    // Bytes the write never covered keep their old value.
    EXPECT_EQ(after.substr(0, kOffset), old_bytes.substr(0, kOffset));
    EXPECT_EQ(after.substr(kOffset + new_bytes.size()),
              old_bytes.substr(kOffset + new_bytes.size()));
    if (any_kept && any_lost) ++mixed;
  }
  EXPECT_GT(mixed, 10);  // Seven fair coins: nearly every seed keeps some and drops some.
}

std::pair<std::string, uint64_t> CrashOutcome(uint64_t seed) {
  DiskHarness h(seed);
  EXPECT_TRUE(h.Write("f", 0, Pattern(1, 4096)).ok());
  EXPECT_TRUE(h.Sync("f").ok());
  for (uint64_t i = 0; i < 8; ++i) EXPECT_TRUE(h.Write("f", 500 * i, Pattern(10 + i, 900)).ok());
  h.CrashAndRestart();
  return {std::string(*h.disk().DurableForTest("f")), h.sim().log().fingerprint()};
}

TEST(DiskTest, CrashEffectIsSeededAndReproducible) {
  std::vector<std::string> outcomes;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const auto first = CrashOutcome(seed);
    const auto second = CrashOutcome(seed);
    EXPECT_EQ(first, second) << "seed " << seed;
    outcomes.push_back(first.first);
  }
  std::sort(outcomes.begin(), outcomes.end());
  EXPECT_GT(std::unique(outcomes.begin(), outcomes.end()) - outcomes.begin(), 5);
}

TEST(DiskTest, TruncateAndDeleteAreImmediateAndDurable) {
  DiskHarness h(1, DiskOptions{.crash_kept_weight = 0, .crash_torn_weight = 0});
  ASSERT_TRUE(h.Write("b", 0, "0123456789").ok());
  ASSERT_TRUE(h.Sync("b").ok());
  ASSERT_TRUE(h.Write("b", 8, "ABCD").ok());  // Unsynced; extends to 12 bytes.
  ASSERT_TRUE(h.Write("a", 0, "x").ok());
  EXPECT_EQ(h.disk().List(), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(h.disk().Truncate("b", 9).ok());
  EXPECT_EQ(h.disk().VolatileForTest("b"), "01234567A");
  EXPECT_EQ(h.disk().DurableForTest("b"), "012345678");
  ASSERT_TRUE(h.disk().Truncate("b", 11).ok());
  EXPECT_EQ(h.disk().VolatileForTest("b"), std::string("01234567A\0\0", 11));
  ASSERT_TRUE(h.disk().Delete("a").ok());
  EXPECT_EQ(h.disk().Delete("a").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(h.disk().Truncate("a", 0).code(), absl::StatusCode::kNotFound);
  h.CrashAndRestart();  // Loses the clipped unsynced write only.
  EXPECT_EQ(h.disk().List(), (std::vector<std::string>{"b"}));
  EXPECT_EQ(*h.Read("b", 0, 100), std::string("012345678\0\0", 11));
}

TEST(DiskTest, CallbacksMayIssueFurtherOperations) {
  DiskHarness h(5);
  int appended = 0;
  std::function<void(absl::Status)> chain = [&](absl::Status s) {
    ASSERT_TRUE(s.ok());
    if (++appended < 100) h.disk().Append("log", std::string(1, 'a' + appended % 26), chain);
  };
  h.disk().Append("log", "a", chain);
  h.sim().Run({});
  EXPECT_EQ(appended, 100);
  EXPECT_EQ(*h.disk().Size("log"), 100u);
  EXPECT_EQ(h.disk().ops_in_flight(), 0u);
}

TEST(DiskTest, CompletionsAndFaultsAreRecordedInTheEventLog) {
  DiskHarness h(1, DiskOptions{}, EventLog::Retention::kFull);
  ASSERT_TRUE(h.Write("f", 0, "abc").ok());
  ASSERT_TRUE(h.Sync("f").ok());
  ASSERT_TRUE(h.Read("f", 1, 2).ok());
  h.disk().SetFaults({.read_corrupt_ppm = kPartsPerMillion});
  ASSERT_TRUE(h.Read("f", 0, 3).ok());
  std::vector<EventKind> kinds;
  for (size_t i = 0; i < h.sim().log().kept(); ++i) {
    const Event e = h.sim().log().event(i);
    if (e.node == kNode) kinds.push_back(e.kind);
    if (e.kind == EventKind::kDiskRead && e.a == 1) {
      EXPECT_EQ(e.b, 2u);
      EXPECT_EQ(e.payload, "f");
    }
  }
  EXPECT_EQ(kinds, (std::vector<EventKind>{EventKind::kDiskWrite, EventKind::kDiskSync,
                                           EventKind::kDiskRead, EventKind::kDiskRead,
                                           EventKind::kDiskCorrupt}));
}

TEST(DiskTest, DestroyedDiskIgnoresLaterCrashes) {
  Simulator sim({.seed = 1});
  sim.AddNode(kNode, "n1", [](NodeId) { return std::make_unique<NullNode>(); });
  { Disk disk(sim, kNode, DiskOptions{}); }
  EXPECT_TRUE(sim.Crash(kNode));  // Must not touch the destroyed disk.
}

// --- Faults ---------------------------------------------------------------------------

constexpr uint32_t kFivePercentPpm = 50'000;
constexpr int kFaultTrials = 4000;  // Expect 200 faults; 140..260 is beyond 4 sigma.
constexpr uint64_t kMinExpectedFaults = 140;
constexpr uint64_t kMaxExpectedFaults = 260;

TEST(DiskFaultTest, FaultsAreOffByDefaultAndAfterClear) {
  DiskHarness h(9);
  const std::string data = Pattern(1, 64);
  for (int i = 0; i < 500; ++i) {
    if (i == 250) {
      h.disk().SetFaults({kPartsPerMillion, kPartsPerMillion, kPartsPerMillion});
      h.disk().ClearFaults();
    }
    ASSERT_TRUE(h.Write("f", 64 * i, data).ok());
    ASSERT_EQ(*h.Read("f", 64 * i, 64), data);
  }
  EXPECT_EQ(h.disk().fault_counts().total(), 0u);
}

TEST(DiskFaultTest, ReadCorruptionFlipsOneReturnedBitAtItsRateAndSparesStoredBytes) {
  DiskHarness h(11);
  const std::string data = Pattern(1, 256);
  ASSERT_TRUE(h.Write("f", 0, data).ok());
  h.disk().SetFaults({.read_corrupt_ppm = kFivePercentPpm});
  uint64_t damaged = 0;
  int reads = 0;
  for (int i = 0; i < kFaultTrials; ++i) {
    h.disk().Read("f", 0, 256, [&](absl::StatusOr<std::string> got) {
      ++reads;
      const int bits = BitsDifferent(*got, data);
      EXPECT_LE(bits, 1);
      damaged += bits;
    });
  }
  h.sim().Run({});
  ASSERT_EQ(reads, kFaultTrials);
  EXPECT_EQ(damaged, h.disk().fault_counts().read_corruptions);
  EXPECT_GE(damaged, kMinExpectedFaults);
  EXPECT_LE(damaged, kMaxExpectedFaults);
  EXPECT_EQ(h.disk().VolatileForTest("f"), data);
}

TEST(DiskFaultTest, WriteCorruptionFlipsOneStoredBitAtItsRate) {
  DiskHarness h(12);
  h.disk().SetFaults({.write_corrupt_ppm = kFivePercentPpm});
  constexpr uint64_t kBlockBytes = 64;
  for (int i = 0; i < kFaultTrials; ++i) {
    h.disk().Write("f", kBlockBytes * i, Pattern(i, kBlockBytes),
                   [](absl::Status s) { EXPECT_TRUE(s.ok()); });  // Silent corruption.
  }
  h.sim().Run({});
  ASSERT_TRUE(h.Sync("f").ok());
  const std::string_view stored = *h.disk().DurableForTest("f");
  uint64_t damaged = 0;
  for (int i = 0; i < kFaultTrials; ++i) {
    const int bits =
        BitsDifferent(stored.substr(kBlockBytes * i, kBlockBytes), Pattern(i, kBlockBytes));
    EXPECT_LE(bits, 1);
    damaged += bits;
  }
  EXPECT_EQ(damaged, h.disk().fault_counts().write_corruptions);
  EXPECT_GE(damaged, kMinExpectedFaults);
  EXPECT_LE(damaged, kMaxExpectedFaults);
}

TEST(DiskFaultTest, MisdirectedWriteLandsWholeSectorsAwayAtItsRate) {
  DiskHarness h(13);
  constexpr uint64_t kFileBytes = 4 * kSectorSizeBytes;
  constexpr uint64_t kOffset = 700;
  const std::string old_bytes(kFileBytes, 'o');
  const std::string new_bytes(100, 'n');
  uint64_t misdirected = 0;
  for (int i = 0; i < kFaultTrials; ++i) {
    const std::string file = absl::StrCat("m", i);
    ASSERT_TRUE(h.Write(file, 0, old_bytes).ok());
    h.disk().SetFaults({.misdirect_ppm = kFivePercentPpm});
    ASSERT_TRUE(h.Write(file, kOffset, new_bytes).ok());
    h.disk().ClearFaults();
    const std::string_view got = *h.disk().VolatileForTest(file);
    if (got.substr(kOffset, new_bytes.size()) == new_bytes) continue;
    ++misdirected;
    EXPECT_EQ(got.substr(kOffset, new_bytes.size()), old_bytes.substr(0, new_bytes.size()));
    const size_t landed = got.find(new_bytes);
    ASSERT_NE(landed, std::string_view::npos);
    EXPECT_EQ(landed % kSectorSizeBytes, kOffset % kSectorSizeBytes);
    EXPECT_LE(landed, kFileBytes + kSectorSizeBytes);
  }
  EXPECT_EQ(misdirected, h.disk().fault_counts().misdirected_writes);
  EXPECT_GE(misdirected, kMinExpectedFaults);
  EXPECT_LE(misdirected, kMaxExpectedFaults);
}

// Offsets where `got` is not `expected` (same length).
std::vector<size_t> Differences(const std::string& got, const std::string& expected) {
  std::vector<size_t> out;
  for (size_t i = 0; i < std::min(got.size(), expected.size()); ++i) {
    if (got[i] != expected[i]) out.push_back(i);
  }
  return out;
}

// A latent sector error damages one durable byte, for good: the next read and every read
// after a crash see it. An unsynced write over the byte still reads as written.
TEST(DiskFaultTest, RotSectorDamagesOneDurableByteAtRest) {
  DiskHarness h(21, DiskOptions{}, EventLog::Retention::kFull);
  EXPECT_FALSE(h.disk().RotSector()) << "no durable bytes anywhere yet";
  const std::string data(3000, 'a');
  ASSERT_TRUE(h.Write("log", 0, data).ok());
  ASSERT_TRUE(h.Sync("log").ok());
  ASSERT_TRUE(h.disk().RotSector());
  EXPECT_EQ(h.disk().fault_counts().rotted_sectors, 1u);
  const std::vector<size_t> bad = Differences(*h.Read("log", 0, 3000), data);
  ASSERT_EQ(bad.size(), 1u);
  h.CrashAndRestart();
  EXPECT_EQ(Differences(*h.Read("log", 0, 3000), data), bad);
  std::vector<Event> corrupt;
  for (size_t i = 0; i < h.sim().log().kept(); ++i) {
    if (h.sim().log().event(i).kind == EventKind::kDiskCorrupt) {
      corrupt.push_back(h.sim().log().event(i));
    }
  }
  ASSERT_EQ(corrupt.size(), 1u);
  EXPECT_EQ(corrupt[0].a, bad[0]);
  EXPECT_EQ(corrupt[0].b, 2u);
}

TEST(DiskFaultTest, AnUnsyncedWriteShadowsARottedByteUntilACrash) {
  DiskHarness h(22);
  ASSERT_TRUE(h.Write("log", 0, std::string(3000, 'a')).ok());
  ASSERT_TRUE(h.Sync("log").ok());
  ASSERT_TRUE(h.Write("log", 0, std::string(3000, 'b')).ok());
  ASSERT_TRUE(h.disk().RotSector());
  EXPECT_EQ(*h.Read("log", 0, 3000), std::string(3000, 'b'));
}

TEST(DiskFaultTest, DiskSetSumsTheFaultsOfItsDisks) {
  Simulator sim({.seed = 4});
  DiskSet disks(sim, DiskOptions{});
  for (NodeId id : {1u, 2u}) {
    sim.AddNode(id, "n", [](NodeId) { return std::make_unique<NullNode>(); });
    disks.Add(id);
  }
  disks.SetFaults({.write_corrupt_ppm = kPartsPerMillion});
  for (NodeId id : {1u, 2u}) disks.disk(id).Write("f", 0, "abc", [](absl::Status) {});
  sim.Run({});
  EXPECT_EQ(disks.TotalFaultCounts().write_corruptions, 2u);
  EXPECT_TRUE(disks.Has(2));
  EXPECT_FALSE(disks.Has(3));
}

// --- The crash property -----------------------------------------------------------------

// The test's own model of one file: the durable bytes and the unsynced writes since.
struct ModelWrite {
  uint64_t offset;
  std::string bytes;
};
struct ModelFile {
  std::string durable;
  std::vector<ModelWrite> pending;
};

void Overlay(std::string& image, uint64_t offset, std::string_view bytes) {
  if (image.size() < offset + bytes.size()) image.resize(offset + bytes.size(), '\0');
  std::copy(bytes.begin(), bytes.end(), image.begin() + offset);
}

std::string Replay(const ModelFile& file) {
  std::string image = file.durable;
  for (const ModelWrite& w : file.pending) Overlay(image, w.offset, w.bytes);
  return image;
}

// Checks one file after a crash against the model, two ways: every byte is one the model
// allows (the durable value, or the value of an unsynced write covering it), and the image
// equals the model's replay of the fates the disk reports, at sector granularity.
void CheckCrashedFile(const Disk& disk, const std::string& name, const ModelFile& model,
                      std::vector<CrashedWrite>::const_iterator& report) {
  const std::string_view actual = *disk.DurableForTest(name);
  RC_ASSERT(disk.VolatileForTest(name) == actual);
  uint64_t size_max = model.durable.size();
  for (const ModelWrite& w : model.pending) {
    size_max = std::max(size_max, w.offset + w.bytes.size());
  }
  RC_ASSERT(actual.size() >= model.durable.size());
  RC_ASSERT(actual.size() <= size_max);
  for (uint64_t i = 0; i < actual.size(); ++i) {
    bool allowed = actual[i] == (i < model.durable.size() ? model.durable[i] : '\0');
    for (const ModelWrite& w : model.pending) {
      if (i >= w.offset && i < w.offset + w.bytes.size()) {
        allowed = allowed || actual[i] == w.bytes[i - w.offset];
      }
    }
    RC_ASSERT(allowed);
  }
  std::string expected = model.durable;
  for (const ModelWrite& w : model.pending) {
    RC_ASSERT(report->file == name);
    RC_ASSERT(report->offset == w.offset);
    RC_ASSERT(report->length == w.bytes.size());
    if (report->fate == CrashFate::kKept) Overlay(expected, w.offset, w.bytes);
    if (report->fate == CrashFate::kTorn) {
      const uint64_t first = w.offset / kSectorSizeBytes;
      const uint64_t last = (w.offset + w.bytes.size() - 1) / kSectorSizeBytes;
      RC_ASSERT(report->sector_kept.size() == last - first + 1);
      for (uint64_t s = first; s <= last; ++s) {
        if (!report->sector_kept[s - first]) continue;
        const uint64_t begin = std::max(s * kSectorSizeBytes, w.offset);
        const uint64_t end = std::min((s + 1) * kSectorSizeBytes, w.offset + w.bytes.size());
        Overlay(expected, begin, std::string_view(w.bytes).substr(begin - w.offset, end - begin));
      }
    } else {
      RC_ASSERT(report->sector_kept.empty());
    }
    ++report;
  }
  RC_ASSERT(actual == expected);
}

enum class Step { kWrite, kSync, kRead, kCrash, kCrashWithOpsInFlight };

RC_GTEST_PROP(DiskProperty, CrashKeepsSyncedBytesAndOnlyWholeSectorsOfUnsyncedWrites, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  DiskHarness h(seed);
  const std::vector<std::string> names = {"a", "b"};
  absl::btree_map<std::string, ModelFile> model;
  const int steps = *rc::gen::inRange(1, 40);
  uint64_t tag = 0;
  for (int i = 0; i < steps; ++i) {
    const Step step = *rc::gen::weightedElement<Step>({{8, Step::kWrite},
                                                       {2, Step::kSync},
                                                       {1, Step::kRead},
                                                       {2, Step::kCrash},
                                                       {1, Step::kCrashWithOpsInFlight}});
    const std::string& name = names[*rc::gen::inRange<size_t>(0, names.size())];
    switch (step) {
      case Step::kWrite: {
        const uint64_t offset = *rc::gen::inRange<uint64_t>(0, 3000);
        const size_t length = *rc::gen::inRange<size_t>(1, 1300);
        std::string bytes = Pattern(++tag, length);
        RC_ASSERT(h.Write(name, offset, bytes).ok());
        model[name].pending.push_back({offset, std::move(bytes)});
        RC_ASSERT(h.disk().VolatileForTest(name) == Replay(model[name]));
        break;
      }
      case Step::kSync: {
        const absl::Status s = h.Sync(name);
        if (!model.contains(name)) {
          RC_ASSERT(s.code() == absl::StatusCode::kNotFound);
          break;
        }
        RC_ASSERT(s.ok());
        ModelFile& file = model[name];
        file.durable = Replay(file);
        file.pending.clear();
        RC_ASSERT(h.disk().DurableForTest(name) == file.durable);
        break;
      }
      case Step::kRead: {
        if (!model.contains(name)) break;
        RC_ASSERT(*h.Read(name, 0, 10'000) == Replay(model[name]));
        break;
      }
      case Step::kCrash:
      case Step::kCrashWithOpsInFlight: {
        int callbacks = 0;
        if (step == Step::kCrashWithOpsInFlight) {
          h.disk().Write(name, 0, Pattern(++tag, 100), [&](absl::Status) { ++callbacks; });
          h.disk().Sync(name, [&](absl::Status) { ++callbacks; });
        }
        RC_ASSERT(h.sim().Crash(kNode));
        auto report = h.disk().last_crash().cbegin();
        for (auto& [file_name, file] : model) {
          CheckCrashedFile(h.disk(), file_name, file, report);
          file.durable = std::string(*h.disk().DurableForTest(file_name));
          file.pending.clear();
        }
        RC_ASSERT(report == h.disk().last_crash().cend());
        RC_ASSERT(h.sim().Restart(kNode));
        h.sim().Run({});
        RC_ASSERT(callbacks == 0);
        break;
      }
    }
  }
}

}  // namespace
}  // namespace hindcast::sim
