#include "properties/edn.h"

#include <string>

#include "gtest/gtest.h"
#include "properties/history.h"

namespace hindcast::properties {
namespace {

TxnHistory MustParse(std::string_view text) {
  absl::StatusOr<TxnHistory> h = ParseEdnHistory(text);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *std::move(h) : TxnHistory{};
}

std::string ErrorOf(std::string_view text) {
  absl::StatusOr<TxnHistory> h = ParseEdnHistory(text);
  EXPECT_FALSE(h.ok()) << "parsed: " << text;
  return h.ok() ? "" : std::string(h.status().message());
}

TEST(EdnTest, PairsInvocationsAndCompletionsByProcess) {
  const TxnHistory h = MustParse(
      "{:index 0, :type :invoke, :process 0, :value [[:append :x 1] [:r :y nil]]}\n"
      "{:index 1, :type :invoke, :process 1, :value [[:r :x nil]]}\n"
      "{:index 2, :type :ok, :process 1, :value [[:r :x [1 2]]]}\n"
      "{:index 3, :type :ok, :process 0, :value [[:append :x 1] [:r :y []]]}\n"
      "{:index 4, :type :invoke, :process 2, :value [[:w 5 6]]}\n");
  ASSERT_EQ(h.txns.size(), 3u);
  EXPECT_EQ(h.txns[0].status, TxnStatus::kOk);
  EXPECT_EQ(h.txns[0].process, 0);
  EXPECT_EQ(h.txns[0].invoke_position, 0u);
  EXPECT_EQ(h.txns[0].complete_position, 3u);
  EXPECT_EQ(h.txns[0].complete_index, 3);
  EXPECT_EQ(h.txns[1].complete_position, 2u);
  EXPECT_EQ(h.txns[2].status, TxnStatus::kInfo);  // Never completed.
  EXPECT_EQ(h.txns[2].complete_position, kNoPosition);
  EXPECT_EQ(h.FormatTxn(0),
            "{:index 0, :type :ok, :process 0, :value [[:append :x 1] [:r :y []]]}");
  EXPECT_EQ(h.FormatTxn(1), "{:index 1, :type :ok, :process 1, :value [[:r :x [1 2]]]}");
  EXPECT_EQ(h.FormatTxn(2), "{:index 4, :type :info, :process 2, :value [[:w 5 6]]}");
}

TEST(EdnTest, KeywordsAreInternedAndKeepTheirSpelling) {
  const TxnHistory h = MustParse(
      "{:type :invoke, :process 0, :value [[:append :x :a] [:append \"k\" 3]]}\n"
      "{:type :ok, :process 0, :value [[:append :x :a] [:append \"k\" 3]]}\n");
  ASSERT_EQ(h.mops.size(), 2u);
  EXPECT_TRUE(NameTable::IsName(h.mops[0].key));
  EXPECT_TRUE(NameTable::IsName(h.mops[0].value));
  EXPECT_NE(h.mops[0].key, h.mops[0].value);
  EXPECT_EQ(h.names.Format(h.mops[0].key), ":x");
  EXPECT_EQ(h.names.Format(h.mops[0].value), ":a");
  EXPECT_EQ(h.names.Format(h.mops[1].key), "\"k\"");
  EXPECT_EQ(h.mops[1].value, 3);
  EXPECT_FALSE(NameTable::IsName(3));
}

TEST(EdnTest, SkipsNemesisAndUnknownKeysAndComments) {
  const TxnHistory h = MustParse(
      "; a comment\n"
      "{:type :info, :process :nemesis, :f :start, :value {:n1 [:isolated]}}\n"
      "{:type :invoke, :f :txn, :time 5, :error [:no-client \"x\\\"y\"], :process 3,"
      " :value [[:r 1 nil]], :extra #{1 2} :tag #inst \"2020\"}\n"
      "{:type :info, :process :nemesis, :f :stop, :value nil}\n"
      "{:type :ok, :process 3, :value [[:r 1 [-4 5N]]]}\n");
  ASSERT_EQ(h.txns.size(), 1u);
  EXPECT_EQ(h.txns[0].status, TxnStatus::kOk);
  ASSERT_EQ(h.mops[0].form, ReadForm::kList);
  ASSERT_EQ(h.mops[0].list_size, 2u);
  EXPECT_EQ(h.elements[h.mops[0].list_begin], -4);
  EXPECT_EQ(h.elements[h.mops[0].list_begin + 1], 5);
}

TEST(EdnTest, ReadsASingleVectorOfMapsWithoutProcesses) {
  const TxnHistory h = MustParse(
      "[{:index 0 :type :invoke :value [[:w :x 1]]}\n"
      " {:index 1 :type :ok :value [[:w :x 1]]}\n"
      " {:index 2 :type :invoke :value [[:r :x nil]]}\n"
      " {:index 3 :type :fail :value [[:r :x nil]]}]\n");
  ASSERT_EQ(h.txns.size(), 2u);
  EXPECT_EQ(h.txns[0].process, kNoProcess);
  EXPECT_EQ(h.txns[1].status, TxnStatus::kFail);
  EXPECT_EQ(h.mops[h.txns[1].mop_begin].form, ReadForm::kNil);
}

TEST(EdnTest, RegisterReadsKeepScalarValues) {
  const TxnHistory h = MustParse(
      "{:type :invoke, :process 0, :value [[:r :x nil] [:w :x 2]]}\n"
      "{:type :ok, :process 0, :value [[:r :x 7] [:w :x 2]]}\n");
  EXPECT_EQ(h.mops[0].form, ReadForm::kScalar);
  EXPECT_EQ(h.mops[0].value, 7);
  EXPECT_EQ(h.mops[1].kind, MopKind::kWrite);
}

TEST(EdnTest, RoundTripsHistoryToEdn) {
  History history;
  const size_t a = history.Invoke(0, 10, {Mop::Append(1, 5), Mop::Read(2)});
  const size_t b = history.Invoke(1, 11, {Mop::Write(3, 4)});
  Mop read = Mop::Read(2);
  read.list = std::vector<int64_t>{7, 8};
  history.Complete(a, OpType::kOk, 12, {Mop::Append(1, 5), read});
  history.Complete(b, OpType::kFail, 13, {Mop::Write(3, 4)});
  const TxnHistory parsed = MustParse(history.ToEdn());
  const TxnHistory direct = FromHistory(history);
  ASSERT_EQ(parsed.txns.size(), direct.txns.size());
  for (uint32_t t = 0; t < parsed.txns.size(); ++t) {
    EXPECT_EQ(parsed.FormatTxn(t), direct.FormatTxn(t));
    EXPECT_EQ(parsed.txns[t].invoke_position, direct.txns[t].invoke_position);
    EXPECT_EQ(parsed.txns[t].complete_position, direct.txns[t].complete_position);
  }
}

TEST(EdnTest, ErrorsNameTheLineOfTheMalformedOperation) {
  const std::string good = "{:type :invoke, :process 0, :value [[:append :x 1]]}\n";
  EXPECT_EQ(ErrorOf(good + "{:type :ok, :process 0, :value [[:append :x]]}\n").substr(0, 7),
            "line 2:");
  EXPECT_NE(
      ErrorOf(good + "\n\n{:type :bogus, :process 1, :value []}").find("line 4: unknown :type"),
      std::string::npos);
  EXPECT_NE(ErrorOf(good + good).find("line 2: process 0 invoked"), std::string::npos);
  EXPECT_NE(ErrorOf("{:type :ok, :process 0, :value []}").find("no invocation"), std::string::npos);
  EXPECT_NE(ErrorOf("{:type :invoke, :process 0, :value [[:w :x 1.5]]}").find("line 1"),
            std::string::npos);
  EXPECT_NE(ErrorOf("{:type :invoke, :process 0}").find("no :value"), std::string::npos);
  EXPECT_NE(ErrorOf("{:process 0, :value []}").find("no :type"), std::string::npos);
  EXPECT_NE(ErrorOf("[{:type :invoke, :process 0, :value []}").find("closing"), std::string::npos);
  EXPECT_NE(ErrorOf("{:type :invoke, :process 0, :value [[:r :x [1 2]").find("line 1"),
            std::string::npos);
  EXPECT_NE(ErrorOf("(:type)").find("expected an operation map"), std::string::npos);
  EXPECT_NE(
      ErrorOf("{:type :invoke, :process 0, :value [[:w :x 99999999999999999999]]}").find("line 1"),
      std::string::npos);
}

TEST(EdnTest, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = "{:type :invoke, :process 0, :junk " + std::string(100000, '[') +
                           std::string(100000, ']') + ", :value []}";
  EXPECT_NE(ErrorOf(deep).find("line 1"), std::string::npos);
}

TEST(EdnTest, ArbitraryBytesNeverCrash) {
  // A deterministic stream of mutations of a valid history: every prefix and single-byte
  // change parses or fails with a line number.
  const std::string base =
      "{:index 0, :type :invoke, :process 0, :value [[:append :x 1] [:r :y nil]]}\n"
      "{:index 1, :type :ok, :process 0, :value [[:append :x 1] [:r :y [1 \"s\" :k]]]}\n";
  const std::string alphabet = "[](){}#\\\";:, \n0-Nx";
  for (size_t cut = 0; cut <= base.size(); ++cut) {
    absl::StatusOr<TxnHistory> h = ParseEdnHistory(base.substr(0, cut));
    if (!h.ok()) {
      EXPECT_EQ(h.status().message().substr(0, 5), "line ");
    }
  }
  for (size_t i = 0; i < base.size(); ++i) {
    for (char c : alphabet) {
      std::string mutated = base;
      mutated[i] = c;
      absl::StatusOr<TxnHistory> h = ParseEdnHistory(mutated);
      if (!h.ok()) {
        EXPECT_EQ(h.status().message().substr(0, 5), "line ");
      }
    }
  }
}

}  // namespace
}  // namespace hindcast::properties
