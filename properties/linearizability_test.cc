#include "properties/linearizability.h"

#include <gtest/gtest.h>

namespace hindcast::properties {
namespace {

// Builds a history of single-register operations from (process, kind, value, call, return)
// rows; return < 0 means info, value for reads is what the read returned.
struct Row {
  int64_t process;
  char kind;  // 'w' or 'r'
  std::optional<int64_t> value;
  int64_t call_ns;
  int64_t return_ns;
  OpType outcome = OpType::kOk;
};

History Build(const std::vector<Row>& rows) {
  struct Point {
    int64_t t;
    bool call;
    size_t row;
  };
  std::vector<Point> points;
  for (size_t i = 0; i < rows.size(); ++i) {
    points.push_back({rows[i].call_ns, true, i});
    points.push_back({rows[i].return_ns, false, i});
  }
  std::stable_sort(points.begin(), points.end(),
                   [](const Point& a, const Point& b) { return a.t < b.t; });
  History h;
  std::vector<size_t> invoked(rows.size());
  for (const Point& p : points) {
    const Row& r = rows[p.row];
    const Mop m = r.kind == 'w' ? Mop::Write(0, *r.value) : Mop::Read(0);
    if (p.call) {
      invoked[p.row] = h.Invoke(r.process, p.t, {m});
    } else {
      Mop done = m;
      if (r.kind == 'r') done.value = r.value;
      h.Complete(invoked[p.row], r.outcome, p.t, {done});
    }
  }
  return h;
}

TEST(LinearizabilityTest, SequentialHistoryIsLinearizable) {
  const History h =
      Build({{1, 'w', 1, 0, 10}, {2, 'r', 1, 20, 30}, {1, 'w', 2, 40, 50}, {2, 'r', 2, 60, 70}});
  EXPECT_EQ(CheckRegisterLinearizable(h, 0).verdict, Verdict::kOk);
}

TEST(LinearizabilityTest, ReadOfInitialValueIsNil) {
  EXPECT_EQ(CheckRegisterLinearizable(Build({{1, 'r', std::nullopt, 0, 10}}), 0).verdict,
            Verdict::kOk);
  EXPECT_EQ(CheckRegisterLinearizable(Build({{1, 'r', 5, 0, 10}}), 0).verdict, Verdict::kViolation);
}

TEST(LinearizabilityTest, StaleReadAfterAcknowledgedWriteIsAViolationWithWitness) {
  const History h = Build({{1, 'w', 1, 0, 10}, {1, 'w', 2, 20, 30}, {2, 'r', 1, 40, 50}});
  const LinearizabilityResult r = CheckRegisterLinearizable(h, 0);
  EXPECT_EQ(r.verdict, Verdict::kViolation);
  EXPECT_NE(r.explanation.find("stale read: process 2 read 1"), std::string::npos) << r.explanation;
  EXPECT_NE(r.explanation.find("the acknowledged write of 2 was lost"), std::string::npos);
}

TEST(LinearizabilityTest, ConcurrentReadMaySeeEitherValue) {
  for (int64_t seen : {1, 2}) {
    const History h = Build({{1, 'w', 1, 0, 10}, {1, 'w', 2, 20, 40}, {2, 'r', seen, 25, 35}});
    EXPECT_EQ(CheckRegisterLinearizable(h, 0).verdict, Verdict::kOk) << seen;
  }
}

TEST(LinearizabilityTest, InfoWriteMayTakeEffectLateOrNever) {
  // The info write of 2 may land after the first read, or never.
  const History late = Build({{1, 'w', 1, 0, 10},
                              {3, 'w', 2, 15, 1000, OpType::kInfo},
                              {2, 'r', 1, 20, 30},
                              {2, 'r', 2, 40, 50}});
  EXPECT_EQ(CheckRegisterLinearizable(late, 0).verdict, Verdict::kOk);
  const History never =
      Build({{1, 'w', 1, 0, 10}, {3, 'w', 2, 15, 1000, OpType::kInfo}, {2, 'r', 1, 40, 50}});
  EXPECT_EQ(CheckRegisterLinearizable(never, 0).verdict, Verdict::kOk);
  // But not go back: 2 then 1 again without another write of 1.
  const History back = Build({{1, 'w', 1, 0, 10},
                              {3, 'w', 2, 15, 1000, OpType::kInfo},
                              {2, 'r', 2, 20, 30},
                              {2, 'r', 1, 40, 50}});
  EXPECT_EQ(CheckRegisterLinearizable(back, 0).verdict, Verdict::kViolation);
}

TEST(LinearizabilityTest, FailedWriteNeverHappened) {
  const History h = Build({{1, 'w', 1, 0, 10, OpType::kFail}, {2, 'r', 1, 20, 30}});
  EXPECT_EQ(CheckRegisterLinearizable(h, 0).verdict, Verdict::kViolation);
}

TEST(LinearizabilityTest, SameInstantReturnAndCallAreConcurrent) {
  // The read is invoked at the instant the second write returns: treated as concurrent, so
  // reading the older value is allowed (a tie never makes a violation).
  const History h = Build({{1, 'w', 1, 0, 10}, {1, 'w', 2, 20, 30}, {2, 'r', 1, 30, 40}});
  EXPECT_EQ(CheckRegisterLinearizable(h, 0).verdict, Verdict::kOk);
}

// Forty concurrent timed-out writes left the search 40! orders to try; none of their values
// was read, so none can explain or break a read, and the verdicts come at once.
TEST(LinearizabilityTest, UnreadInfoWritesDoNotBlowUpTheSearch) {
  std::vector<Row> rows = {{1, 'w', 1, 0, 10}};
  for (int i = 0; i < 40; ++i) rows.push_back({10 + i, 'w', 100 + i, 20, 1000, OpType::kInfo});
  rows.push_back({2, 'r', 1, 30, 40});
  std::vector<Row> stale = rows;
  stale.push_back({3, 'w', 2, 50, 60});
  stale.push_back({2, 'r', 1, 70, 80});  // After the acknowledged write of 2.
  const LinearizabilityResult ok = CheckRegisterLinearizable(Build(rows), 0, 1000);
  EXPECT_EQ(ok.verdict, Verdict::kOk) << ok.explanation;
  const LinearizabilityResult bad = CheckRegisterLinearizable(Build(stale), 0, 1000);
  EXPECT_EQ(bad.verdict, Verdict::kViolation) << bad.explanation;
  // An info write whose value was read still explains the read, late as it lands.
  rows.push_back({4, 'w', 7, 45, 2000, OpType::kInfo});
  rows.push_back({2, 'r', 7, 1500, 1510});
  rows.push_back({2, 'r', 1, 1600, 1610});  // But then 1 again: nothing wrote it anew.
  const LinearizabilityResult back = CheckRegisterLinearizable(Build(rows), 0, 100000);
  EXPECT_EQ(back.verdict, Verdict::kViolation) << back.explanation;
}

TEST(LinearizabilityTest, SearchLimitGivesUnknown) {
  std::vector<Row> rows;
  for (int i = 0; i < 12; ++i) rows.push_back({i, 'w', i + 1, 0, 100});
  rows.push_back({99, 'r', 12, 200, 210});
  rows.push_back({98, 'r', 1, 220, 230});
  const LinearizabilityResult r = CheckRegisterLinearizable(Build(rows), 0, 50);
  EXPECT_EQ(r.verdict, Verdict::kUnknown);
}

}  // namespace
}  // namespace hindcast::properties
