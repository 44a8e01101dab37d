#include "properties/isolation.h"

#include <string>

#include "gtest/gtest.h"
#include "properties/edn.h"
#include "properties/isolation_gen.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace hindcast::properties {
namespace {

CheckResult MustCheck(const TxnHistory& h, std::vector<Consistency> models,
                      DataModel model = DataModel::kAuto) {
  CheckOptions options;
  options.model = model;
  options.consistency = std::move(models);
  absl::StatusOr<CheckResult> r = CheckIsolation(h, options);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : CheckResult{};
}

TxnHistory Edn(std::string_view text) {
  absl::StatusOr<TxnHistory> h = ParseEdnHistory(text);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *std::move(h) : TxnHistory{};
}

Mop ReadList(int64_t key, std::vector<int64_t> list) {
  Mop m = Mop::Read(key);
  m.list = std::move(list);
  return m;
}

// Runs `mops` as one committed transaction of `process` (invocation carries no results).
void Commit(History* h, int64_t process, std::vector<Mop> mops) {
  std::vector<Mop> invoked = mops;
  for (Mop& m : invoked) {
    if (m.kind == MopKind::kRead) m = Mop::Read(m.key);
  }
  const int64_t t = static_cast<int64_t>(h->size());
  const size_t i = h->Invoke(process, t, invoked);
  h->Complete(i, OpType::kOk, t + 1, std::move(mops));
}

TEST(IsolationTest, EmptyHistoryIsValid) {
  const CheckResult r = MustCheck(TxnHistory{}, {Consistency::kStrictSerializable});
  EXPECT_TRUE(r.valid);
  EXPECT_TRUE(r.anomalies.empty());
}

TEST(IsolationTest, SerialListAppendHistoryIsStrictSerializable) {
  History h;
  Commit(&h, 0, {Mop::Append(1, 1), ReadList(2, {})});
  Commit(&h, 1, {ReadList(1, {1}), Mop::Append(2, 5)});
  Commit(&h, 0, {ReadList(1, {1}), ReadList(2, {5})});
  absl::StatusOr<CheckResult> r = CheckIsolation(h, {});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->valid) << r->Report(FromHistory(h));
  EXPECT_TRUE(r->not_models.empty());
}

TEST(IsolationTest, WhiteBoxVersionOrderFindsG0ThatReadsCannotShow) {
  // Nobody reads, so black-box inference knows nothing; the true order says T1 and T2
  // wrote keys 1 and 2 in opposite orders.
  History h;
  Commit(&h, 0, {Mop::Append(1, 10), Mop::Append(2, 20)});
  Commit(&h, 1, {Mop::Append(1, 11), Mop::Append(2, 21)});
  CheckOptions options;
  EXPECT_TRUE(CheckIsolation(h, options)->valid);
  options.version_order = std::vector<KeyVersionOrder>{{1, {10, 11}}, {2, {21, 20}}};
  absl::StatusOr<CheckResult> r = CheckIsolation(h, options);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->valid);
  ASSERT_TRUE(r->Has("G0"));
  EXPECT_EQ(r->Find("G0")->cycle.size(), 2u);
  EXPECT_EQ(r->not_models, std::vector<std::string>{"read-uncommitted"});
}

TEST(IsolationTest, WhiteBoxReadOutsideTheTrueOrderIsIncompatible) {
  History h;
  Commit(&h, 0, {Mop::Append(1, 10)});
  Commit(&h, 1, {Mop::Append(1, 11)});
  Commit(&h, 2, {ReadList(1, {11})});
  CheckOptions options;
  options.version_order = std::vector<KeyVersionOrder>{{1, {10, 11}}};
  absl::StatusOr<CheckResult> r = CheckIsolation(h, options);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Has("incompatible-order"));
}

TEST(IsolationTest, NonCycleListAnomalies) {
  History h;
  Commit(&h, 0, {Mop::Append(1, 1)});
  Commit(&h, 1, {ReadList(1, {1, 1})});                  // duplicate
  Commit(&h, 2, {ReadList(2, {9})});                     // garbage
  Commit(&h, 3, {Mop::Append(3, 1), ReadList(3, {2})});  // internal
  Commit(&h, 4, {ReadList(4, {}), ReadList(4, {7})});    // internal
  const CheckResult r = MustCheck(FromHistory(h), {Consistency::kSerializable});
  EXPECT_TRUE(r.Has("duplicate-elements"));
  EXPECT_TRUE(r.Has("garbage-read"));
  ASSERT_TRUE(r.Has("internal"));
  int internal = 0;
  for (const Anomaly& a : r.anomalies) internal += a.name == "internal";
  EXPECT_EQ(internal, 2);
  EXPECT_FALSE(r.valid);
  EXPECT_TRUE(std::find(r.not_models.begin(), r.not_models.end(), "read-uncommitted") !=
              r.not_models.end());
}

TEST(IsolationTest, IncompatibleOrderWhenReadsAreNotPrefixes) {
  History h;
  Commit(&h, 0, {Mop::Append(1, 1)});
  Commit(&h, 1, {Mop::Append(1, 2)});
  Commit(&h, 2, {ReadList(1, {1, 2})});
  Commit(&h, 3, {ReadList(1, {2, 1})});
  const CheckResult r = MustCheck(FromHistory(h), {Consistency::kReadCommitted});
  ASSERT_TRUE(r.Has("incompatible-order"));
  EXPECT_FALSE(r.valid);
}

TEST(IsolationTest, RegisterWritesFollowReadsGiveGSingle) {
  // T1 writes x=1. T2 reads x=1, writes x=2. T3 reads x=1 and y=2, where T2 wrote y=2:
  // T3 saw T2's y but not T2's overwrite of x, so T3 -rw-> T2 -wr-> T3.
  const TxnHistory h =
      Edn("{:type :invoke, :process 0, :value [[:w :x 1]]}\n"
          "{:type :ok, :process 0, :value [[:w :x 1]]}\n"
          "{:type :invoke, :process 1, :value [[:r :x nil] [:w :x 2] [:w :y 2]]}\n"
          "{:type :ok, :process 1, :value [[:r :x 1] [:w :x 2] [:w :y 2]]}\n"
          "{:type :invoke, :process 2, :value [[:r :x nil] [:r :y nil]]}\n"
          "{:type :ok, :process 2, :value [[:r :x 1] [:r :y 2]]}\n");
  const CheckResult r = MustCheck(h, {Consistency::kSerializable}, DataModel::kRwRegister);
  EXPECT_FALSE(r.valid);
  const Anomaly* a = r.Find("G-single-item");
  ASSERT_NE(a, nullptr) << r.Report(h);
  EXPECT_EQ(a->cycle.size(), 2u);
  EXPECT_NE(a->explanation.find("read that same version and then overwrote it"), std::string::npos)
      << a->explanation;
}

TEST(IsolationTest, RegisterNilReadPrecedesEveryWrite) {
  const TxnHistory h =
      Edn("{:type :invoke, :process 0, :value [[:w :x 1] [:r :y nil]]}\n"
          "{:type :invoke, :process 1, :value [[:w :y 1] [:r :x nil]]}\n"
          "{:type :ok, :process 0, :value [[:w :x 1] [:r :y nil]]}\n"
          "{:type :ok, :process 1, :value [[:w :y 1] [:r :x nil]]}\n");
  const CheckResult r = MustCheck(h, {Consistency::kSerializable});
  EXPECT_EQ(r.model, DataModel::kRwRegister);
  EXPECT_TRUE(r.Has("G2-item")) << r.Report(h);
  EXPECT_TRUE(MustCheck(h, {Consistency::kSnapshotIsolation}).valid);
}

TEST(IsolationTest, RegisterLostUpdateAndAbortedAndIntermediateReads) {
  const TxnHistory h =
      Edn("{:type :invoke, :process 0, :value [[:w :x 1]]}\n"
          "{:type :ok, :process 0, :value [[:w :x 1]]}\n"
          "{:type :invoke, :process 1, :value [[:r :x nil] [:w :x 2]]}\n"
          "{:type :invoke, :process 2, :value [[:r :x nil] [:w :x 3]]}\n"
          "{:type :ok, :process 1, :value [[:r :x 1] [:w :x 2]]}\n"
          "{:type :ok, :process 2, :value [[:r :x 1] [:w :x 3]]}\n"
          "{:type :invoke, :process 3, :value [[:w :y 5] [:w :y 6] [:w :z 9]]}\n"
          "{:type :ok, :process 3, :value [[:w :y 5] [:w :y 6] [:w :z 9]]}\n"
          "{:type :invoke, :process 4, :value [[:w :z 7]]}\n"
          "{:type :fail, :process 4, :value [[:w :z 7]]}\n"
          "{:type :invoke, :process 5, :value [[:r :y nil] [:r :z nil]]}\n"
          "{:type :ok, :process 5, :value [[:r :y 5] [:r :z 7]]}\n");
  const CheckResult r = MustCheck(h, {Consistency::kSnapshotIsolation});
  EXPECT_TRUE(r.Has("lost-update"));
  EXPECT_TRUE(r.Has("G1b"));
  EXPECT_TRUE(r.Has("G1a"));
  EXPECT_FALSE(r.valid);
}

TEST(IsolationTest, ImmortalWriteIsNamed) {
  // T1 appends 1 and completes; T2 starts later and appends 2; reads put 2 before 1.
  const TxnHistory h =
      Edn("{:type :invoke, :process 0, :value [[:append :x 1]]}\n"
          "{:type :ok, :process 0, :value [[:append :x 1]]}\n"
          "{:type :invoke, :process 1, :value [[:append :x 2]]}\n"
          "{:type :ok, :process 1, :value [[:append :x 2]]}\n"
          "{:type :invoke, :process 2, :value [[:r :x nil]]}\n"
          "{:type :ok, :process 2, :value [[:r :x [2 1]]]}\n");
  EXPECT_TRUE(MustCheck(h, {Consistency::kSerializable}).valid);
  const CheckResult r = MustCheck(h, {Consistency::kStrictSerializable});
  const Anomaly* a = r.Find("G0-realtime");
  ASSERT_NE(a, nullptr) << r.Report(h);
  EXPECT_EQ(a->time_travel, "immortal write");
}

TEST(IsolationTest, CausalReverseIsNamed) {
  // T1 appends x=1 and completes before T2 starts and appends y=1. T3, running all along,
  // sees y=1 but not x=1: not a stale read (T1 had not completed when T3 began).
  const TxnHistory h =
      Edn("{:type :invoke, :process 2, :value [[:r :y nil] [:r :x nil]]}\n"
          "{:type :invoke, :process 0, :value [[:append :x 1]]}\n"
          "{:type :ok, :process 0, :value [[:append :x 1]]}\n"
          "{:type :invoke, :process 1, :value [[:append :y 1]]}\n"
          "{:type :ok, :process 1, :value [[:append :y 1]]}\n"
          "{:type :ok, :process 2, :value [[:r :y [1]] [:r :x []]]}\n");
  const CheckResult r = MustCheck(h, {Consistency::kStrictSerializable});
  const Anomaly* a = r.Find("G-single-item-realtime");
  ASSERT_NE(a, nullptr) << r.Report(h);
  EXPECT_EQ(a->time_travel, "causal reverse");
  EXPECT_TRUE(MustCheck(h, {Consistency::kSerializable}).valid);
}

TEST(IsolationTest, ProcessOrderViolationIsGSingleProcess) {
  // One process appends 1, then reads x as empty: it failed to read its own write.
  const TxnHistory h =
      Edn("{:type :invoke, :process 0, :value [[:append :x 1]]}\n"
          "{:type :ok, :process 0, :value [[:append :x 1]]}\n"
          "{:type :invoke, :process 0, :value [[:r :x nil]]}\n"
          "{:type :ok, :process 0, :value [[:r :x []]]}\n");
  const CheckResult r = MustCheck(h, {Consistency::kStrongSessionSerializable});
  EXPECT_FALSE(r.valid);
  ASSERT_TRUE(r.Has("G-single-item-process")) << r.Report(h);
  const std::vector<std::string> want = {"strong-session-serializable",
                                         "strong-snapshot-isolation"};
  EXPECT_EQ(r.not_models, want);
}

TEST(IsolationTest, ModelTableFollowsElle) {
  EXPECT_TRUE(Proscribes(Consistency::kReadUncommitted, "G0"));
  EXPECT_FALSE(Proscribes(Consistency::kReadUncommitted, "G1a"));
  EXPECT_TRUE(Proscribes(Consistency::kReadCommitted, "G1c"));
  EXPECT_FALSE(Proscribes(Consistency::kReadCommitted, "G2-item"));
  EXPECT_TRUE(Proscribes(Consistency::kSnapshotIsolation, "G-nonadjacent-item"));
  EXPECT_FALSE(Proscribes(Consistency::kSnapshotIsolation, "G2-item"));
  EXPECT_TRUE(Proscribes(Consistency::kRepeatableRead, "G2-item"));
  EXPECT_FALSE(Proscribes(Consistency::kSerializable, "G-single-item-realtime"));
  EXPECT_TRUE(Proscribes(Consistency::kStrongSnapshotIsolation, "G-single-item-realtime"));
  EXPECT_FALSE(Proscribes(Consistency::kStrongSnapshotIsolation, "G2-item-realtime"));
  EXPECT_TRUE(Proscribes(Consistency::kStrongSessionSerializable, "G2-item-process"));
  EXPECT_TRUE(Proscribes(Consistency::kStrictSerializable, "G2-item-realtime"));
  for (int i = 0; i < kConsistencyCount; ++i) {
    const auto c = static_cast<Consistency>(i);
    EXPECT_EQ(ParseConsistency(ConsistencyName(c)), c);
  }
  EXPECT_EQ(ParseConsistency("acid"), std::nullopt);
}

TEST(IsolationTest, ResultsAreDeterministic) {
  const GeneratedHistory g =
      GenerateListAppend({.mode = GenMode::kBuggy, .seed = 11, .txns = 300, .concurrency = 6});
  absl::StatusOr<CheckResult> a = CheckIsolation(g.history, {});
  absl::StatusOr<CheckResult> b = CheckIsolation(g.history, {});
  ASSERT_TRUE(a.ok() && b.ok());
  const TxnHistory h = FromHistory(g.history);
  EXPECT_EQ(a->Report(h), b->Report(h));
  EXPECT_FALSE(a->valid);
}

TEST(IsolationTest, BuggyStoreShowsLostUpdates) {
  bool lost = false;
  for (uint64_t seed = 1; seed <= 20 && !lost; ++seed) {
    const GeneratedHistory g =
        GenerateListAppend({.mode = GenMode::kBuggy, .seed = seed, .txns = 200});
    absl::StatusOr<CheckResult> r = CheckIsolation(g.history, {});
    ASSERT_TRUE(r.ok());
    lost = r->Has("lost-update");
  }
  EXPECT_TRUE(lost);
}

GenOptions ArbitraryOptions(GenMode mode) {
  GenOptions o;
  o.mode = mode;
  o.seed = *rc::gen::arbitrary<uint64_t>();
  o.txns = *rc::gen::inRange(1, 120);
  o.concurrency = *rc::gen::inRange(1, 8);
  o.keys = *rc::gen::inRange(1, 6);
  o.appends_per_key = *rc::gen::inRange(1, 10);
  o.max_mops = *rc::gen::inRange(1, 6);
  o.read_percent = *rc::gen::inRange(0, 101);
  return o;
}

RC_GTEST_PROP(IsolationProperty, SerialHistoriesAreStrictSerializable, ()) {
  const GeneratedHistory g = GenerateListAppend(ArbitraryOptions(GenMode::kSerial));
  absl::StatusOr<CheckResult> r = CheckIsolation(g.history, {});
  RC_ASSERT(r.ok());
  if (!r->anomalies.empty()) RC_FAIL(r->Report(FromHistory(g.history)));
}

RC_GTEST_PROP(IsolationProperty, SnapshotStoreHistoriesAreStrongSnapshotIsolation, ()) {
  const GeneratedHistory g = GenerateListAppend(ArbitraryOptions(GenMode::kSnapshot));
  CheckOptions options;
  options.consistency = {Consistency::kStrongSnapshotIsolation};
  absl::StatusOr<CheckResult> r = CheckIsolation(g.history, options);
  RC_ASSERT(r.ok());
  if (!r->valid) RC_FAIL(r->Report(FromHistory(g.history)));
}

RC_GTEST_PROP(IsolationProperty, BlackBoxAndWhiteBoxAgreeWhenInferenceIsComplete, ()) {
  const GenMode mode = *rc::gen::element(GenMode::kSerial, GenMode::kSnapshot, GenMode::kBuggy);
  const GeneratedHistory g = GenerateListAppend(ArbitraryOptions(mode));
  CheckOptions black;
  absl::StatusOr<CheckResult> b = CheckIsolation(g.history, black);
  CheckOptions white;
  white.version_order = g.version_order;
  absl::StatusOr<CheckResult> w = CheckIsolation(g.history, white);
  RC_ASSERT(b.ok() && w.ok());
  const TxnHistory h = FromHistory(g.history);
  RC_ASSERT(b->Has("incompatible-order") == w->Has("incompatible-order"));
  // A buggy store's stale snapshot plus the transaction's own appends is not a prefix of the
  // true order: black-box inference then keeps only the sound wr edges of that key, so it
  // is not complete there and may find fewer cycles; the verdict is invalid either way.
  if (b->Has("incompatible-order")) {
    RC_ASSERT(!b->valid && !w->valid);
    return;
  }
  if (b->anomaly_types != w->anomaly_types) {
    RC_FAIL("black-box:\n" + b->Report(h) + "\nwhite-box:\n" + w->Report(h));
  }
  RC_ASSERT(b->valid == w->valid);
  RC_ASSERT(b->anomaly_types == w->anomaly_types);
  RC_ASSERT(b->not_models == w->not_models);
  // With every read a prefix of the true order, inference recovers it exactly.
  RC_ASSERT(b->edge_count == w->edge_count);
}

}  // namespace
}  // namespace hindcast::properties
