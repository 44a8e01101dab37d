// Conformance: every history in testdata/elle/ gets the verdict its README table gives
// (Elle's, or a stricter one where noted), with concrete cycles whose edges really exist.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "properties/edn.h"
#include "properties/isolation.h"

namespace hindcast::properties {
namespace {

const char* const kDir = HINDCAST_SOURCE_DIR "/properties/testdata/elle/";

TxnHistory Load(const std::string& name) {
  std::ifstream in(kDir + name);
  EXPECT_TRUE(in.good()) << "missing test file " << kDir << name;
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<TxnHistory> h = ParseEdnHistory(text.str());
  EXPECT_TRUE(h.ok()) << name << ": " << h.status();
  return h.ok() ? *std::move(h) : TxnHistory{};
}

CheckResult Check(const TxnHistory& h, DataModel model, std::vector<Consistency> models) {
  CheckOptions options;
  options.model = model;
  options.consistency = std::move(models);
  absl::StatusOr<CheckResult> r = CheckIsolation(h, options);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : CheckResult{};
}

int Count(const std::vector<CycleEdge>& cycle, EdgeType type) {
  return static_cast<int>(std::count_if(cycle.begin(), cycle.end(),
                                        [&](const CycleEdge& e) { return e.type == type; }));
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The cycle closes, every edge has a concrete reason recomputed from the history (the
// fallback texts mean no evidence was found), and the edge types fit the anomaly's name.
void ExpectRealCycle(const Anomaly& a) {
  SCOPED_TRACE(a.name);
  ASSERT_GE(a.cycle.size(), 2u);
  for (size_t i = 0; i < a.cycle.size(); ++i) {
    EXPECT_EQ(a.cycle[i].to, a.cycle[(i + 1) % a.cycle.size()].from);
    EXPECT_EQ(a.cycle[i].from, a.txns[i]);
    const std::string& why = a.cycle[i].why;
    EXPECT_FALSE(why.empty());
    EXPECT_EQ(why.find("did not observe a write of"), std::string::npos) << why;
    EXPECT_EQ(why.find("observed a write of"), std::string::npos) << why;
    EXPECT_EQ(why.find("wrote a version that"), std::string::npos) << why;
  }
  const int rw = Count(a.cycle, kEdgeRW);
  const int session = Count(a.cycle, kEdgeProcess) + Count(a.cycle, kEdgeRealtime);
  if (a.name.starts_with("G0")) {
    EXPECT_EQ(Count(a.cycle, kEdgeWW) + session, static_cast<int>(a.cycle.size()));
  } else if (a.name.starts_with("G1c")) {
    EXPECT_EQ(rw, 0);
    EXPECT_GE(Count(a.cycle, kEdgeWR), 1);
  } else if (a.name.starts_with("G-single")) {
    EXPECT_EQ(rw, 1);
  } else if (a.name.starts_with("G2-item") || a.name.starts_with("G-nonadjacent")) {
    EXPECT_GE(rw, 2);
  }
  if (a.name.ends_with("-realtime")) {
    EXPECT_GE(Count(a.cycle, kEdgeRealtime), 1);
  }
  if (a.name.ends_with("-process")) {
    EXPECT_GE(Count(a.cycle, kEdgeProcess), 1);
  }
  EXPECT_NE(a.explanation.find("a contradiction!"), std::string::npos);
  EXPECT_NE(a.dot.find("digraph"), std::string::npos);
}

void ExpectAllCyclesReal(const CheckResult& r) {
  for (const Anomaly& a : r.anomalies) {
    if (!a.cycle.empty()) ExpectRealCycle(a);
  }
}

TEST(ConformanceTest, G0IsAWriteCycleOnXAndY) {
  const TxnHistory h = Load("g0.edn");
  const CheckResult r = Check(h, DataModel::kListAppend, {Consistency::kReadUncommitted});
  EXPECT_FALSE(r.valid);
  const Anomaly* g0 = r.Find("G0");
  ASSERT_NE(g0, nullptr);
  ExpectRealCycle(*g0);
  EXPECT_EQ(g0->cycle.size(), 2u);
  const std::string text = g0->cycle[0].why + g0->cycle[1].why;
  EXPECT_NE(text.find(":x"), std::string::npos);
  EXPECT_NE(text.find(":y"), std::string::npos);
  EXPECT_EQ(r.not_models, std::vector<std::string>{"read-uncommitted"});
}

TEST(ConformanceTest, G1cHasElleCycle) {
  const TxnHistory h = Load("g1c.edn");
  const CheckResult r = Check(h, DataModel::kListAppend, {Consistency::kReadCommitted});
  EXPECT_FALSE(r.valid);
  const Anomaly* g1c = r.Find("G1c");
  ASSERT_NE(g1c, nullptr);
  ExpectRealCycle(*g1c);
  // Elle: T2 -wr(y)-> T1 -ww(x)-> T2, where T1 is :index 0 and T2 is :index 2.
  ASSERT_EQ(g1c->cycle.size(), 2u);
  for (const CycleEdge& e : g1c->cycle) {
    const int64_t from = h.txns[e.from].index;
    const int64_t to = h.txns[e.to].index;
    if (e.type == kEdgeWR) {
      EXPECT_EQ(from, 2);
      EXPECT_EQ(to, 0);
      EXPECT_NE(e.why.find(":y"), std::string::npos) << e.why;
    } else {
      EXPECT_EQ(e.type, kEdgeWW);
      EXPECT_EQ(from, 0);
      EXPECT_EQ(to, 2);
      EXPECT_NE(e.why.find(":x"), std::string::npos) << e.why;
    }
  }
}

TEST(ConformanceTest, AbortedReadIsG1a) {
  const CheckResult r =
      Check(Load("aborted-read.edn"), DataModel::kListAppend, {Consistency::kReadCommitted});
  EXPECT_FALSE(r.valid);
  const Anomaly* g1a = r.Find("G1a");
  ASSERT_NE(g1a, nullptr);
  EXPECT_TRUE(g1a->proscribed);
  EXPECT_EQ(r.not_models, std::vector<std::string>{"read-committed"});
}

TEST(ConformanceTest, IntermediateReadIsG1bAndGSingleItem) {
  const CheckResult r = Check(Load("intermediate-read.edn"), DataModel::kListAppend,
                              {Consistency::kStrictSerializable});
  EXPECT_FALSE(r.valid);
  EXPECT_TRUE(r.Has("G1b"));
  const Anomaly* single = r.Find("G-single-item");
  ASSERT_NE(single, nullptr);
  ExpectRealCycle(*single);
}

TEST(ConformanceTest, LostUpdateIsLostUpdateAndG2Item) {
  const CheckResult r =
      Check(Load("lost-update.edn"), DataModel::kListAppend, {Consistency::kSnapshotIsolation});
  EXPECT_FALSE(r.valid);
  const Anomaly* lost = r.Find("lost-update");
  ASSERT_NE(lost, nullptr);
  EXPECT_EQ(lost->txns.size(), 2u);
  EXPECT_TRUE(lost->proscribed);
  const Anomaly* g2 = r.Find("G2-item");
  ASSERT_NE(g2, nullptr);
  ExpectRealCycle(*g2);
}

TEST(ConformanceTest, WriteSkewIsG2ItemOnlyUnderSerializable) {
  const TxnHistory h = Load("write-skew.edn");
  const CheckResult ser = Check(h, DataModel::kListAppend, {Consistency::kSerializable});
  EXPECT_FALSE(ser.valid);
  const Anomaly* g2 = ser.Find("G2-item");
  ASSERT_NE(g2, nullptr);
  EXPECT_TRUE(g2->proscribed);
  ExpectRealCycle(*g2);
  EXPECT_TRUE(Check(h, DataModel::kListAppend, {Consistency::kReadCommitted}).valid);
  EXPECT_TRUE(Check(h, DataModel::kListAppend, {Consistency::kSnapshotIsolation}).valid);
  // The second transaction began after the first committed yet missed its append: a stale
  // read, so strong snapshot isolation is out too.
  EXPECT_TRUE(Contains(ser.not_models, "repeatable-read"));
  EXPECT_TRUE(Contains(ser.not_models, "strong-snapshot-isolation"));
  EXPECT_FALSE(Contains(ser.not_models, "snapshot-isolation"));
  ASSERT_NE(ser.Find("G-single-item-realtime"), nullptr);
  EXPECT_EQ(ser.Find("G-single-item-realtime")->time_travel, "stale read");
}

TEST(ConformanceTest, StaleReadIsGSingleItemRealtimeNamedStaleRead) {
  const TxnHistory h = Load("stale-read.edn");
  EXPECT_TRUE(Check(h, DataModel::kListAppend, {Consistency::kSerializable}).valid);
  const CheckResult r = Check(h, DataModel::kListAppend, {Consistency::kStrictSerializable});
  EXPECT_FALSE(r.valid);
  const Anomaly* stale = r.Find("G-single-item-realtime");
  ASSERT_NE(stale, nullptr);
  ExpectRealCycle(*stale);
  EXPECT_EQ(stale->time_travel, "stale read");
  EXPECT_TRUE(Contains(r.not_models, "strong-snapshot-isolation"));
}

TEST(ConformanceTest, SnapshotIsolationWithoutGSingle) {
  const TxnHistory h = Load("si-without-g-single.edn");
  EXPECT_TRUE(Check(h, DataModel::kListAppend, {Consistency::kSnapshotIsolation}).valid);
  const CheckResult rr = Check(h, DataModel::kListAppend, {Consistency::kRepeatableRead});
  EXPECT_FALSE(rr.valid);
  const Anomaly* g2 = rr.Find("G2-item");
  ASSERT_NE(g2, nullptr);
  ExpectRealCycle(*g2);
  EXPECT_FALSE(rr.Has("G-single-item"));
  EXPECT_TRUE(Contains(rr.not_models, "repeatable-read"));
}

TEST(ConformanceTest, PaperExampleIsGSingleWithThreeSteps) {
  const CheckResult r =
      Check(Load("paper-example.edn"), DataModel::kListAppend, {Consistency::kSerializable});
  EXPECT_FALSE(r.valid);
  const Anomaly* single = r.Find("G-single-item");
  ASSERT_NE(single, nullptr);
  ExpectRealCycle(*single);
  EXPECT_EQ(single->cycle.size(), 3u);
  const std::string& text = single->explanation;
  EXPECT_NE(text.find("Let:"), std::string::npos);
  EXPECT_NE(text.find("Then:"), std::string::npos);
  EXPECT_NE(text.find("However, "), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '-') >= 3, true);
  EXPECT_NE(text.find("255"), std::string::npos) << text;  // T2's append of 8 to 255.
}

TEST(ConformanceTest, HugeSccGetsAConcreteCycleWithoutTimeout) {
  const TxnHistory h = Load("huge-scc.edn");
  const CheckResult r = Check(h, DataModel::kListAppend, {Consistency::kStrictSerializable});
  EXPECT_FALSE(r.valid);
  EXPECT_FALSE(r.search_incomplete);
  EXPECT_GT(r.largest_scc, 100u);
  bool cycle = false;
  for (const Anomaly& a : r.anomalies) cycle |= !a.cycle.empty();
  EXPECT_TRUE(cycle);
  ExpectAllCyclesReal(r);
  EXPECT_TRUE(Contains(r.not_models, "strong-snapshot-isolation") ||
              Contains(r.also_not, "strong-snapshot-isolation"));
  EXPECT_TRUE(Contains(r.also_not, "strict-serializable"));
}

TEST(ConformanceTest, GithubIssue30IsG2ItemByTheEmptyReadInference) {
  const TxnHistory h = Load("list-append-gh-30.edn");
  const CheckResult r = Check(h, DataModel::kListAppend, {Consistency::kSerializable});
  EXPECT_FALSE(r.valid);
  const Anomaly* g2 = r.Find("G2-item");
  ASSERT_NE(g2, nullptr);
  ExpectRealCycle(*g2);
  bool empty_read = false;
  for (const CycleEdge& e : g2->cycle) empty_read |= e.why.find("as empty") != std::string::npos;
  EXPECT_TRUE(empty_read) << g2->explanation;
  EXPECT_TRUE(Check(h, DataModel::kListAppend, {Consistency::kSnapshotIsolation}).valid);
}

TEST(ConformanceTest, RwRegisterGarbageReadOfThree) {
  const CheckResult r =
      Check(Load("rw-register.edn"), DataModel::kRwRegister, {Consistency::kStrictSerializable});
  EXPECT_FALSE(r.valid);
  const Anomaly* garbage = r.Find("garbage-read");
  ASSERT_NE(garbage, nullptr);
  EXPECT_NE(garbage->detail.find("read 3"), std::string::npos) << garbage->detail;
  EXPECT_EQ(r.anomaly_types, std::vector<std::string>{"garbage-read"});
}

TEST(ConformanceTest, EveryFileParsesAndIsChecked) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    if (entry.path().extension() == ".edn") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files.size(), 12u);
  for (const std::string& f : files) {
    SCOPED_TRACE(f);
    const TxnHistory h = Load(f);
    EXPECT_GT(h.txns.size(), 0u);
    CheckOptions options;
    absl::StatusOr<CheckResult> r = CheckIsolation(h, options);
    ASSERT_TRUE(r.ok()) << r.status();
    // Every file here shows some anomaly under strict serializability.
    EXPECT_FALSE(r->valid);
    ExpectAllCyclesReal(*r);
  }
}

}  // namespace
}  // namespace hindcast::properties
