#include "properties/history.h"

#include <gtest/gtest.h>

namespace hindcast::properties {
namespace {

TEST(HistoryTest, PairsInvocationsWithCompletions) {
  History h;
  const size_t a = h.Invoke(1, 5, {Mop::Write(0, 7)});
  const size_t b = h.Invoke(2, 6, {Mop::Read(0)});
  h.Complete(a, OpType::kOk, 9, {Mop::Write(0, 7)});
  h.CloseOpenAsInfo(12);
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h.ops()[a].pair, 2);
  EXPECT_EQ(h.ops()[b].pair, 3);
  EXPECT_EQ(h.ops()[3].type, OpType::kInfo);
  EXPECT_EQ(h.ops()[3].process, 2);
  EXPECT_EQ(h.Count(OpType::kInvoke), 2u);
  EXPECT_EQ(h.Count(OpType::kOk), 1u);
}

TEST(HistoryTest, WritesJepsenEdn) {
  History h;
  const size_t a = h.Invoke(3, 12, {Mop::Write(0, 7)});
  h.Complete(a, OpType::kOk, 20, {Mop::Write(0, 7)});
  const size_t b = h.Invoke(4, 21, {Mop::Read(0)});
  Mop read = Mop::Read(0);
  read.value = 7;
  h.Complete(b, OpType::kOk, 30, {read});
  EXPECT_EQ(h.ToEdn(),
            "{:index 0, :type :invoke, :process 3, :time 12, :value [[:w 0 7]]}\n"
            "{:index 1, :type :ok, :process 3, :time 20, :value [[:w 0 7]]}\n"
            "{:index 2, :type :invoke, :process 4, :time 21, :value [[:r 0 nil]]}\n"
            "{:index 3, :type :ok, :process 4, :time 30, :value [[:r 0 7]]}\n");
}

}  // namespace
}  // namespace hindcast::properties
