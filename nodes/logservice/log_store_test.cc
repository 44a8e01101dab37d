// Tests of the replica's durable state: LogStore (with MetaStore) on a simulated disk,
// through crashes, torn writes and disk faults.
#include "nodes/logservice/log_store.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nodes/logservice/meta_store.h"
#include "nodes/wire.h"
#include "nodes/world.h"
#include "sim/assert.h"
#include "storage/record.h"

namespace hindcast::nodes::logservice {
namespace {

constexpr sim::NodeId kNode = 0;

// A node that only loads its store; the test drives the store.
class StoreNode : public sim::Node {
 public:
  explicit StoreNode(NodeEnv& env) : store(env) {}
  void Start() override {
    store.Load([this](LogStore::Loaded l) { loaded = std::move(l); });
  }
  void Receive(sim::NodeId, sim::Payload&) override {}
  LogStore store;
  std::optional<LogStore::Loaded> loaded;
};

Entry MakeEntry(uint64_t index, uint64_t term) {
  Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_client_id(7);
  e.set_seq(index);
  e.set_payload(absl::StrCat("payload-", index, "-", term, std::string(index % 40, 'x')));
  return e;
}

std::vector<Entry> MakeEntries(uint64_t first, uint64_t last, uint64_t term) {
  std::vector<Entry> out;
  for (uint64_t i = first; i <= last; ++i) out.push_back(MakeEntry(i, term));
  return out;
}

class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    world_ = std::make_unique<World>(WorldOptions{.seed = 3});
    world_->AddServer(kNode, "store",
                      [](NodeEnv& env) { return std::make_unique<StoreNode>(env); });
    RunFor(sim::Duration::Millis(20));
    ASSERT_TRUE(node().loaded.has_value());
  }
  void RunFor(sim::Duration d) { world_->sim().Run({.time_limit = world_->sim().Now() + d}); }
  StoreNode& node() { return *dynamic_cast<StoreNode*>(world_->sim().node(kNode)); }
  LogStore& store() { return node().store; }
  sim::Disk& disk() { return world_->disks().disk(kNode); }
  const LogStore::Loaded& Reload() {
    world_->CrashNode(kNode);
    world_->RestartNode(kNode);
    RunFor(sim::Duration::Millis(50));
    HC_ASSERT(node().loaded.has_value());
    return *node().loaded;
  }

  std::unique_ptr<World> world_;
};

TEST_F(LogStoreTest, AFreshDiskLoadsAnEmptyLog) {
  const LogStore::Loaded& l = *node().loaded;
  EXPECT_FALSE(l.amnesia);
  EXPECT_EQ(l.hard_state, HardState{});
  EXPECT_EQ(l.start_index, 0u);
  EXPECT_TRUE(l.entries.empty());
  EXPECT_EQ(l.vote_barrier, 0u);
}

TEST_F(LogStoreTest, AppendsCountAsDurableOnlyOnceSyncedAndSurviveACrash) {
  store().Append(MakeEntries(1, 5, 1));
  EXPECT_EQ(store().durable_index(), 0u);
  RunFor(sim::Duration::Millis(1));
  EXPECT_EQ(store().durable_index(), 0u);  // Not yet: a sync takes at least 0.5 ms.
  RunFor(sim::Duration::Millis(20));
  EXPECT_EQ(store().durable_index(), 5u);
  EXPECT_EQ(disk().UnsyncedWritesForTest(LogFileName(0)), 0u);
  const LogStore::Loaded& l = Reload();
  ASSERT_EQ(l.entries.size(), 5u);
  for (uint64_t i = 1; i <= 5; ++i)
    EXPECT_EQ(l.entries[i - 1].payload(), MakeEntry(i, 1).payload());
  EXPECT_FALSE(l.lost_synced_entries);
}

TEST_F(LogStoreTest, HardStateIsReportedDurableOnlyAfterItsMetadataIsSynced) {
  store().SetHardState({.term = 3, .vote = 2});
  EXPECT_EQ(store().durable_hard_state(), HardState{});
  RunFor(sim::Duration::Millis(20));
  EXPECT_EQ(store().durable_hard_state(), (HardState{.term = 3, .vote = 2}));
  EXPECT_EQ(Reload().hard_state, (HardState{.term = 3, .vote = 2}));
}

TEST_F(LogStoreTest, ACrashMidAppendLeavesAPrefixAndRaisesNoBarrier) {
  // Crash at many points of a batch's write and sync: what loads is a prefix of what was
  // appended, never less than what was durable, and a torn tail is not a disk fault.
  store().Append(MakeEntries(1, 10, 1));
  RunFor(sim::Duration::Millis(20));
  for (int step = 0; step < 40; ++step) {
    const uint64_t durable = store().durable_index();
    const uint64_t last = durable;
    store().Append(MakeEntries(last + 1, last + 8, 2));
    RunFor(sim::Duration::Micros(50 * step));
    const uint64_t durable_at_crash = store().durable_index();
    const LogStore::Loaded& l = Reload();
    ASSERT_GE(l.entries.size(), durable_at_crash);
    ASSERT_LE(l.entries.size(), last + 8);
    for (size_t i = 0; i < l.entries.size(); ++i) {
      ASSERT_EQ(l.entries[i].SerializeAsString(),
                MakeEntry(i + 1, i < 10 ? 1 : 2).SerializeAsString());
    }
    EXPECT_FALSE(l.lost_synced_entries);
    EXPECT_EQ(l.vote_barrier, 0u);
    RunFor(sim::Duration::Millis(20));  // Recovery's metadata write.
  }
}

TEST_F(LogStoreTest, TruncateSuffixLowersTheDurableIndexAtOnce) {
  store().Append(MakeEntries(1, 5, 1));
  RunFor(sim::Duration::Millis(20));
  store().TruncateSuffix(3);
  EXPECT_EQ(store().durable_index(), 2u);
  store().Append(MakeEntries(3, 4, 2));
  RunFor(sim::Duration::Millis(20));
  EXPECT_EQ(store().durable_index(), 4u);
  const LogStore::Loaded& l = Reload();
  ASSERT_EQ(l.entries.size(), 4u);
  EXPECT_EQ(l.entries[1].term(), 1u);
  EXPECT_EQ(l.entries[2].term(), 2u);
  EXPECT_EQ(l.entries[3].term(), 2u);
}

TEST_F(LogStoreTest, CompactionWritesANewGenerationAndDeletesTheOld) {
  store().Append(MakeEntries(1, 6, 1));
  store().Compact(4, 1, MakeEntries(5, 6, 1));
  store().Append(MakeEntries(7, 7, 2));
  RunFor(sim::Duration::Millis(40));
  EXPECT_EQ(store().durable_index(), 7u);
  EXPECT_EQ(disk().List(), (std::vector<std::string>{LogFileName(1), kMetaFile}));
  const LogStore::Loaded& l = Reload();
  EXPECT_EQ(l.start_index, 4u);
  EXPECT_EQ(l.start_term, 1u);
  ASSERT_EQ(l.entries.size(), 3u);
  EXPECT_EQ(l.entries[0].index(), 5u);
  EXPECT_EQ(l.entries[2].term(), 2u);
}

TEST_F(LogStoreTest, DamagedSyncedEntriesRaiseAVoteBarrierAtTheWatermark) {
  store().Append(MakeEntries(1, 8, 1));
  RunFor(sim::Duration::Millis(20));
  // A fault behind the store's back: the middle of the synced log changes.
  disk().Write(LogFileName(0), *disk().Size(LogFileName(0)) / 2, "garbage!", [](absl::Status) {});
  RunFor(sim::Duration::Millis(1));
  disk().Sync(LogFileName(0), [](absl::Status) {});
  RunFor(sim::Duration::Millis(5));
  const LogStore::Loaded& l = Reload();
  EXPECT_TRUE(l.lost_synced_entries);
  EXPECT_LT(l.entries.size(), 8u);
  EXPECT_EQ(l.vote_barrier, 8u);
  // The barrier is persisted: another crash does not forget it.
  EXPECT_EQ(Reload().vote_barrier, 8u);
}

TEST_F(LogStoreTest, MetadataWithNoValidCopyIsAmnesia) {
  store().SetHardState({.term = 2});
  RunFor(sim::Duration::Millis(20));
  disk().Write(kMetaFile, 0, std::string(2 * sim::kSectorSizeBytes, '\x7f'), [](absl::Status) {});
  RunFor(sim::Duration::Millis(1));
  disk().Sync(kMetaFile, [](absl::Status) {});
  RunFor(sim::Duration::Millis(5));
  EXPECT_TRUE(Reload().amnesia);
}

TEST(MetaStoreTest, ScanTakesTheNewestValidRecordInAnySector) {
  auto sector = [](uint64_t version, uint64_t term) {
    Meta m;
    m.set_version(version);
    m.set_term(term);
    std::string s = storage::EncodeRecord(Encode(m));
    s.resize(sim::kSectorSizeBytes, '\0');
    return s;
  };
  std::string junk(sim::kSectorSizeBytes, '\x33');
  // Slot 1 was hit by a misdirected newer record; a third sector holds an older one.
  const std::optional<Meta> m = MetaStore::Scan(sector(4, 2) + sector(6, 3) + sector(5, 9) + junk);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->version(), 6u);
  EXPECT_EQ(m->term(), 3u);
  EXPECT_FALSE(MetaStore::Scan(junk + junk).has_value());
}

// EncodeLogEntry writes the entry as LogRecord's field without building the LogRecord: the
// bytes must be exactly those of the LogRecord, for an empty entry, a small one, and one whose
// length takes a multi-byte varint.
TEST(LogFileTest, AnEntryEncodesAsItsLogRecord) {
  for (const size_t payload_bytes : {size_t{0}, size_t{5}, size_t{200}, size_t{70000}}) {
    Entry e;
    if (payload_bytes > 0) {
      e.set_index(7);
      e.set_term(3);
      e.set_payload(std::string(payload_bytes, 'x'));
    }
    LogRecord record;
    *record.mutable_entry() = e;
    EXPECT_EQ(EncodeLogEntry(e), storage::EncodeRecord(Encode(record))) << payload_bytes;
    const DecodedLog decoded = DecodeLogFile(EncodeLogHeader(6, 3) + EncodeLogEntry(e));
    if (payload_bytes > 0) {
      ASSERT_EQ(decoded.entries.size(), 1u) << payload_bytes;
      EXPECT_EQ(decoded.entries[0].payload().size(), payload_bytes);
    }
  }
}

// Under heavy write corruption, misdirection and read corruption, a crash at any moment
// never loses an entry the store had reported durable without recovery noticing: either
// every such entry loads, or recovery raises the vote barrier over them.
RC_GTEST_PROP(LogStoreProperty, CrashesNeverLoseADurableEntryUnnoticed, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const int batches = *rc::gen::inRange(1, 30);
  const int crash_after_us = *rc::gen::inRange(0, 60'000);
  World world({.seed = seed});
  world.AddServer(kNode, "store", [](NodeEnv& env) { return std::make_unique<StoreNode>(env); });
  sim::Simulator& sim = world.sim();
  sim.Run({.time_limit = sim.Now() + sim::Duration::Millis(20)});
  auto* node = dynamic_cast<StoreNode*>(sim.node(kNode));
  world.disks().disk(kNode).SetFaults(
      {.read_corrupt_ppm = 100'000, .write_corrupt_ppm = 100'000, .misdirect_ppm = 100'000});
  uint64_t last = 0;
  for (int b = 0; b < batches; ++b) {
    node->store.Append(MakeEntries(last + 1, last + 1 + b % 4, 1));
    node->store.SetHardState({.term = static_cast<uint64_t>(b + 1)});
    last += 1 + b % 4;
    sim.Run({.time_limit = sim.Now() + sim::Duration::Micros(1'000 + 300 * (b % 7))});
  }
  sim.Run({.time_limit = sim::Instant::Zero() + sim::Duration::Micros(20'000 + crash_after_us)});
  const uint64_t durable = node->store.durable_index();
  const uint64_t durable_term = node->store.durable_hard_state().term;
  RC_CLASSIFY(node->store.stats().repairs > 0, "writes were repaired before the crash");
  world.disks().disk(kNode).ClearFaults();
  world.CrashNode(kNode);
  world.RestartNode(kNode);
  sim.Run({.time_limit = sim.Now() + sim::Duration::Millis(50)});
  node = dynamic_cast<StoreNode*>(sim.node(kNode));
  RC_ASSERT(node->loaded.has_value());
  const LogStore::Loaded& l = *node->loaded;
  RC_ASSERT(!l.amnesia);
  RC_ASSERT(l.hard_state.term >= durable_term);
  for (size_t i = 0; i < l.entries.size(); ++i) {
    RC_ASSERT(l.entries[i].SerializeAsString() == MakeEntry(i + 1, 1).SerializeAsString());
  }
  RC_CLASSIFY(l.lost_synced_entries, "recovery found damaged synced entries");
  if (l.entries.size() < durable) {
    RC_ASSERT(l.lost_synced_entries);
    RC_ASSERT(l.vote_barrier >= durable);
  }
}

}  // namespace
}  // namespace hindcast::nodes::logservice
