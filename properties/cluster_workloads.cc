#include "properties/cluster_workloads.h"

#include <algorithm>
#include <optional>

#include "absl/container/btree_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "properties/cluster_run.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"

namespace hindcast::properties {
namespace {

using nodes::txn::Op;
using nodes::txn::OpResult;
using nodes::txn::TxnReply;

Op MakeOp(Op::Kind kind, std::string key, std::string value = "", int64_t delta = 0) {
  Op op;
  op.set_kind(kind);
  op.set_key(std::move(key));
  op.set_value(std::move(value));
  op.set_delta(delta);
  return op;
}

Op Reserve(std::string key, int64_t n) {
  Op op = MakeOp(Op::RESERVE, std::move(key), "", n);
  op.set_abort_if_short(true);
  return op;
}

std::string Key(std::string_view prefix, int64_t i) { return absl::StrCat(Sv(prefix), "/", i); }

// The integer after the last '/' of a key.
int64_t KeyIndex(std::string_view key) {
  int64_t n = 0;
  const size_t slash = key.rfind('/');
  HC_ASSERT(slash != std::string_view::npos && absl::SimpleAtoi(Sv(key.substr(slash + 1)), &n));
  return n;
}

// The integer a workload's own PUT or APPEND writes (always one it formatted).
int64_t Value(const Op& op) {
  int64_t v = 0;
  HC_ASSERT(absl::SimpleAtoi(Sv(op.value()), &v));
  return v;
}

// An integer value; absent (or not a number) reads as 0, as the CN's ADD treats it.
int64_t AsInt(const OpResult& r) {
  int64_t n = 0;
  if (r.has_value() && !absl::SimpleAtoi(Sv(r.value()), &n)) n = 0;
  return n;
}

std::optional<int64_t> MaybeInt(const OpResult& r) {
  int64_t n = 0;
  if (!r.has_value() || !absl::SimpleAtoi(Sv(r.value()), &n)) return std::nullopt;
  return n;
}

// A comma-separated list as APPEND builds it; absent is the empty list. A malformed element
// reads as -1, which no transaction appends, so it shows up as a garbage read.
std::vector<int64_t> AsList(const OpResult& r) {
  std::vector<int64_t> out;
  if (!r.has_value() || r.value().empty()) return out;
  for (absl::string_view part : absl::StrSplit(Sv(r.value()), ',')) {
    int64_t n = -1;
    if (!absl::SimpleAtoi(part, &n)) n = -1;
    out.push_back(n);
  }
  return out;
}

std::string ListString(const std::vector<int64_t>& list) {
  return absl::StrCat("[", absl::StrJoin(list, " "), "]");
}

std::string TurnName(const ClientTurn& turn) {
  return absl::StrCat("client ", turn.node, " transaction ", turn.txn);
}

// The writer of a value, for explanations: who, and why it aborted if it did.
std::string WriterName(const ClientTurn& turn, const TxnResult& r) {
  if (r.outcome != TxnOutcome::kFail || r.reply == nullptr) return TurnName(turn);
  return absl::StrCat(TurnName(turn), " (aborted: ", r.reply->reason(), ")");
}

const OpResult& Result(const TxnReply& reply, size_t i) {
  static const OpResult kNone;
  return i < static_cast<size_t>(reply.results_size()) ? reply.results(static_cast<int>(i)) : kNone;
}

// What a client learned of a transaction that wrote something the final read checks.
enum class Known { kPending, kOk, kFail, kUnknown };

Known FromOutcome(TxnOutcome o) {
  switch (o) {
    case TxnOutcome::kOk:
      return Known::kOk;
    case TxnOutcome::kFail:
      return Known::kFail;
    case TxnOutcome::kUnknown:
      return Known::kUnknown;
  }
  return Known::kUnknown;
}

// --- bank -------------------------------------------------------------------------------
// Transfers between the accounts (five by default), so the total is always 0. Under
// snapshot isolation every committed read of all accounts must sum to 0; under read
// committed only the final read must. Each transfer also writes a marker key, and every
// acknowledged transfer's marker must be present after the restarts (durability).
class Bank : public ClusterWorkload {
 public:
  explicit Bank(const ClusterScenario& s)
      : accounts_(s.accounts), snapshot_reads_(s.isolation == nodes::txn::Isolation::kSnapshot) {
    HC_ASSERT(accounts_ >= 2);
  }

  std::vector<Op> NextTxn(const ClientTurn& turn, sim::Rng& rng) override {
    if (rng.Chance(1, 4)) return ReadAll({});
    const int a = static_cast<int>(rng.Uniform(accounts_));
    const int b = (a + 1 + static_cast<int>(rng.Uniform(accounts_ - 1))) % accounts_;
    const int64_t amount = rng.UniformRange(1, 10);
    return {MakeOp(Op::ADD, Key("acct", a), "", -amount),
            MakeOp(Op::ADD, Key("acct", b), "", amount),
            MakeOp(Op::PUT, absl::StrCat("mark/", turn.node, "/", turn.txn), "1")};
  }

  void Observe(const ClientTurn& turn, const std::vector<Op>& ops, const TxnResult& r) override {
    if (r.outcome != TxnOutcome::kOk) return;
    // Told apart by kind, not length: with three accounts a read of all of them has three
    // operations too, and was taken for a transfer whose marker was an account.
    if (IsTransfer(ops)) {
      committed_markers_.push_back(ops[2].key());
      return;
    }
    if (!snapshot_reads_) return;
    const int64_t sum = Sum(*r.reply);
    if (sum != 0) {
      Fail(absl::StrCat("bank: a snapshot read of all accounts sums to ", sum,
                        ", not 0 (money created or destroyed)"),
           absl::StrCat(TurnName(turn), " read ", Balances(*r.reply), " at ",
                        r.completed.ToString()));
    }
  }

  std::vector<Op> FinalRead() const override { return ReadAll(committed_markers_); }

  void JudgeFinal(const TxnReply& reply) override {
    const int64_t sum = Sum(reply);
    if (sum != 0) {
      Fail(absl::StrCat("bank: after all nodes restarted the accounts sum to ", sum,
                        ", not 0 (a lost update or lost commit)"),
           absl::StrCat("final read ", Balances(reply)));
      return;
    }
    for (size_t i = 0; i < committed_markers_.size(); ++i) {
      if (!Result(reply, accounts_ + i).has_value()) {
        Fail(absl::StrCat("durability: the acknowledged transfer that wrote ",
                          committed_markers_[i], " is gone after all nodes restarted"));
        return;
      }
    }
  }

 private:
  static bool IsTransfer(const std::vector<Op>& ops) {
    return !ops.empty() && ops[0].kind() == Op::ADD;
  }
  std::vector<Op> ReadAll(const std::vector<std::string>& markers) const {
    std::vector<Op> ops;
    for (int i = 0; i < accounts_; ++i) ops.push_back(MakeOp(Op::READ, Key("acct", i)));
    for (const std::string& m : markers) ops.push_back(MakeOp(Op::READ, m));
    return ops;
  }
  int64_t Sum(const TxnReply& r) const {
    int64_t sum = 0;
    for (int i = 0; i < accounts_; ++i) sum += AsInt(Result(r, i));
    return sum;
  }
  std::string Balances(const TxnReply& r) const {
    std::vector<std::string> parts;
    for (int i = 0; i < accounts_; ++i) {
      parts.push_back(absl::StrCat(Key("acct", static_cast<int64_t>(i)), "=", AsInt(Result(r, i))));
    }
    return absl::StrJoin(parts, " ");
  }

  const int accounts_;
  const bool snapshot_reads_;
  std::vector<std::string> committed_markers_;
};

// --- counter ----------------------------------------------------------------------------
// Each transaction adds 1; the final value must lie between the number of acknowledged
// increments and that plus the unknown ones.
class Counter : public ClusterWorkload {
 public:
  std::vector<Op> NextTxn(const ClientTurn&, sim::Rng&) override {
    return {MakeOp(Op::ADD, "counter", "", 1)};
  }
  void Observe(const ClientTurn&, const std::vector<Op>&, const TxnResult& r) override {
    if (r.outcome == TxnOutcome::kOk) ++acked_;
    if (r.outcome == TxnOutcome::kUnknown) ++unknown_;
  }
  std::vector<Op> FinalRead() const override { return {MakeOp(Op::READ, "counter")}; }
  void JudgeFinal(const TxnReply& reply) override {
    const int64_t value = AsInt(Result(reply, 0));
    if (value < acked_ || value > acked_ + unknown_) {
      Fail(absl::StrCat("counter: final value ", value, " outside [", acked_, ", ",
                        acked_ + unknown_, "] (acknowledged increments, plus unknown)"),
           absl::StrCat("the final read's snapshot was ",
                        storage::FromProto(reply.commit_ts()).ToString()));
    }
  }

 private:
  int64_t acked_ = 0;
  int64_t unknown_ = 0;
};

// --- list-append ------------------------------------------------------------------------
// Elle's list-append: transactions of 1-4 micro-operations, each an append of a unique
// value to one of four lists or a read of one. Without a dependency graph it checks that
// every list observed (reads, the list an append returns, the final read) is a prefix of
// every longer one observed for that key, has no duplicates, holds only values some
// transaction appended and none whose transaction aborted, and that the final list holds
// every acknowledged append.
class ListAppend : public ClusterWorkload {
 public:
  std::vector<Op> NextTxn(const ClientTurn&, sim::Rng& rng) override {
    std::vector<Op> ops;
    const int n = static_cast<int>(rng.UniformRange(1, 4));
    for (int i = 0; i < n; ++i) {
      const int64_t key = static_cast<int64_t>(rng.Uniform(kKeys));
      if (rng.Chance(1, 2)) {
        ops.push_back(MakeOp(Op::READ, Key("list", key)));
      } else {
        const int64_t value = static_cast<int64_t>(appends_.size());
        appends_.push_back({.key = key});
        ops.push_back(MakeOp(Op::APPEND, Key("list", key), absl::StrCat(value)));
      }
    }
    return ops;
  }

  void Observe(const ClientTurn& turn, const std::vector<Op>& ops, const TxnResult& r) override {
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = ops[i];
      if (op.kind() == Op::APPEND) {
        appends_[Value(op)].known = FromOutcome(r.outcome);
        appends_[Value(op)].writer = WriterName(turn, r);
      }
      if (r.outcome != TxnOutcome::kOk) continue;
      std::vector<int64_t> list = AsList(Result(*r.reply, i));
      if (op.kind() == Op::APPEND && (list.empty() || list.back() != Value(op))) {
        Fail(absl::StrCat("list-append: an append of ", Value(op), " to ", op.key(), " returned ",
                          ListString(list), ", which does not end with it"),
             TurnName(turn));
      }
      Observed(KeyIndex(op.key()), std::move(list), TurnName(turn));
    }
  }

  std::vector<Op> FinalRead() const override {
    std::vector<Op> ops;
    for (int64_t k = 0; k < kKeys; ++k) ops.push_back(MakeOp(Op::READ, Key("list", k)));
    return ops;
  }

  void JudgeFinal(const TxnReply& reply) override {
    for (int64_t k = 0; k < kKeys; ++k) {
      Observed(k, AsList(Result(reply, static_cast<size_t>(k))), "the final read");
    }
    for (int64_t k = 0; k < kKeys; ++k) {
      const std::vector<int64_t>& longest = longest_[k];
      std::vector<bool> seen(appends_.size(), false);
      for (int64_t v : longest) {
        if (v < 0 || static_cast<size_t>(v) >= appends_.size() || appends_[v].key != k) {
          Fail(absl::StrCat("list-append: garbage read: ", Key("list", k), " holds ", v,
                            ", which no transaction appended to it"),
               absl::StrCat("longest list ", ListString(longest), " read by ", longest_by_[k]));
          return;
        }
        if (seen[v]) {
          Fail(absl::StrCat("list-append: duplicate element ", v, " in ", Key("list", k)),
               absl::StrCat("list ", ListString(longest), " read by ", longest_by_[k]));
          return;
        }
        seen[v] = true;
        if (appends_[v].known == Known::kFail) {
          Fail(absl::StrCat("list-append: aborted read (G1a): ", Key("list", k), " holds ", v,
                            ", appended by ", appends_[v].writer, ", which aborted"),
               absl::StrCat("list ", ListString(longest), " read by ", longest_by_[k]));
          return;
        }
      }
    }
    for (size_t v = 0; v < appends_.size(); ++v) {
      if (appends_[v].known != Known::kOk) continue;
      const std::vector<int64_t>& final_list = longest_[appends_[v].key];
      if (std::find(final_list.begin(), final_list.end(), static_cast<int64_t>(v)) ==
          final_list.end()) {
        Fail(absl::StrCat("durability: the acknowledged append of ", v, " to ",
                          Key("list", appends_[v].key), " by ", appends_[v].writer,
                          " is missing after all nodes restarted"),
             absl::StrCat("final list ", ListString(final_list)));
        return;
      }
    }
  }

  HistoryModel model() const override { return HistoryModel::kListAppend; }

  std::vector<Mop> ToMops(const std::vector<Op>& ops, const TxnReply* reply) const override {
    std::vector<Mop> mops;
    for (size_t i = 0; i < ops.size(); ++i) {
      const int64_t key = KeyIndex(ops[i].key());
      if (ops[i].kind() == Op::APPEND) {
        mops.push_back(Mop::Append(key, Value(ops[i])));
        continue;
      }
      Mop read = Mop::Read(key);
      if (reply != nullptr) read.list = AsList(Result(*reply, i));
      mops.push_back(std::move(read));
    }
    return mops;
  }

 private:
  static constexpr int64_t kKeys = 4;
  struct Append {
    int64_t key = 0;
    Known known = Known::kPending;
    std::string writer;
  };

  // Keeps the longest list seen per key; every list must be a prefix of it or extend it.
  void Observed(int64_t key, std::vector<int64_t> list, std::string by) {
    std::vector<int64_t>& longest = longest_[key];
    const bool extends = list.size() >= longest.size();
    const std::vector<int64_t>& shorter = extends ? longest : list;
    const std::vector<int64_t>& longer = extends ? list : longest;
    if (!std::equal(shorter.begin(), shorter.end(), longer.begin())) {
      Fail(absl::StrCat("list-append: incompatible order: ", Key("list", key), " was read as ",
                        ListString(list), " and as ", ListString(longest),
                        "; neither is a prefix of the other"),
           absl::StrCat("read by ", by, " and by ", longest_by_[key]));
      return;
    }
    if (extends) {
      longest = std::move(list);
      longest_by_[key] = std::move(by);
    }
  }

  std::vector<Append> appends_;  // Indexed by the value appended.
  absl::btree_map<int64_t, std::vector<int64_t>> longest_;
  absl::btree_map<int64_t, std::string> longest_by_;
};

// --- register ---------------------------------------------------------------------------
// Read-write registers: transactions of 1-3 micro-operations, each a blind write of a unique
// value to one of four keys or a read of one. It checks that every committed read returns a
// value some transaction wrote to that key and that did not abort, and that the final value
// of each key is not older than an acknowledged write: the final value's write may not
// have completed before an acknowledged write to the same key began (the TN's commit
// timestamps follow real time, so that write is later in the version order).
class Register : public ClusterWorkload {
 public:
  std::vector<Op> NextTxn(const ClientTurn&, sim::Rng& rng) override {
    std::vector<Op> ops;
    const int n = static_cast<int>(rng.UniformRange(1, 3));
    for (int i = 0; i < n; ++i) {
      const int64_t key = static_cast<int64_t>(rng.Uniform(kKeys));
      if (rng.Chance(1, 2)) {
        ops.push_back(MakeOp(Op::READ, Key("reg", key)));
      } else {
        const int64_t value = static_cast<int64_t>(writes_.size());
        writes_.push_back({.key = key});
        ops.push_back(MakeOp(Op::PUT, Key("reg", key), absl::StrCat(value)));
      }
    }
    return ops;
  }

  void Observe(const ClientTurn& turn, const std::vector<Op>& ops, const TxnResult& r) override {
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = ops[i];
      if (op.kind() == Op::PUT) {
        Write& w = writes_[Value(op)];
        w.known = FromOutcome(r.outcome);
        w.writer = WriterName(turn, r);
        w.invoked = r.invoked;
        w.completed = r.outcome == TxnOutcome::kOk ? r.completed : sim::Instant::Max();
        continue;
      }
      if (r.outcome != TxnOutcome::kOk) continue;
      const std::optional<int64_t> v = MaybeInt(Result(*r.reply, i));
      reads_.push_back({.key = KeyIndex(op.key()), .value = v, .reader = TurnName(turn)});
    }
  }

  std::vector<Op> FinalRead() const override {
    std::vector<Op> ops;
    for (int64_t k = 0; k < kKeys; ++k) ops.push_back(MakeOp(Op::READ, Key("reg", k)));
    return ops;
  }

  void JudgeFinal(const TxnReply& reply) override {
    for (const Read& read : reads_) {
      if (!CheckRead(read)) return;
    }
    for (int64_t k = 0; k < kKeys; ++k) {
      const Read final_read{.key = k,
                            .value = MaybeInt(Result(reply, static_cast<size_t>(k))),
                            .reader = "the final read"};
      if (!CheckRead(final_read)) return;
      // The newest acknowledged write that began after the final value's write completed.
      const sim::Instant after = final_read.value.has_value() ? writes_[*final_read.value].completed
                                                              : sim::Instant::FromNanos(-1);
      for (size_t v = 0; v < writes_.size(); ++v) {
        const Write& w = writes_[v];
        if (w.key != k || w.known != Known::kOk || w.invoked <= after) continue;
        Fail(absl::StrCat("durability: the acknowledged write of ", v, " to ", Key("reg", k),
                          " by ", w.writer, " is lost: after all nodes restarted the key holds ",
                          final_read.value.has_value() ? absl::StrCat(*final_read.value)
                                                       : std::string("nothing")),
             final_read.value.has_value()
                 ? absl::StrCat("the write of ", *final_read.value, " completed at ",
                                after.ToString(), ", before the lost write began at ",
                                w.invoked.ToString())
                 : "");
        return;
      }
    }
  }

  HistoryModel model() const override { return HistoryModel::kRwRegister; }

  std::vector<Mop> ToMops(const std::vector<Op>& ops, const TxnReply* reply) const override {
    std::vector<Mop> mops;
    for (size_t i = 0; i < ops.size(); ++i) {
      const int64_t key = KeyIndex(ops[i].key());
      if (ops[i].kind() == Op::PUT) {
        mops.push_back(Mop::Write(key, Value(ops[i])));
        continue;
      }
      Mop read = Mop::Read(key);
      if (reply != nullptr) read.value = MaybeInt(Result(*reply, i));
      mops.push_back(read);
    }
    return mops;
  }

 private:
  static constexpr int64_t kKeys = 4;
  struct Write {
    int64_t key = 0;
    Known known = Known::kPending;
    std::string writer;
    sim::Instant invoked;
    sim::Instant completed = sim::Instant::Max();  // Max while not acknowledged.
  };
  struct Read {
    int64_t key = 0;
    std::optional<int64_t> value;
    std::string reader;
  };

  bool CheckRead(const Read& read) {
    if (!read.value.has_value()) return true;
    const int64_t v = *read.value;
    if (v < 0 || static_cast<size_t>(v) >= writes_.size() || writes_[v].key != read.key) {
      Fail(absl::StrCat("register: garbage read: ", read.reader, " read ", v, " from ",
                        Key("reg", read.key), ", which no transaction wrote there"));
      return false;
    }
    if (writes_[v].known == Known::kFail) {
      Fail(absl::StrCat("register: aborted read (G1a): ", read.reader, " read ", v, " from ",
                        Key("reg", read.key), ", written by ", writes_[v].writer,
                        ", which aborted"));
      return false;
    }
    return true;
  }

  std::vector<Write> writes_;  // Indexed by the value written.
  std::vector<Read> reads_;
};

// --- inventory --------------------------------------------------------------------------
// Three items start with 4 units each. Clients reserve 1-3 units (RESERVE, which rolls the
// transaction back when the stock is short, plus an order record), restock 3 units (ADD plus
// a restock record) or read every stock level. No read may ever show negative stock
// (oversold), and after the restarts each item's stock must equal 4 plus its restocks minus
// its orders, counting the records present (each transaction changes both atomically), and
// every acknowledged record must be there.
//
// The planted application bug `inventory_check_then_update` reserves in two transactions:
// read the stock, and if it suffices, subtract the units in a second transaction. Two
// clients can both see enough stock and both take it.
class Inventory : public ClusterWorkload {
 public:
  explicit Inventory(const ClusterScenario& s)
      : check_then_update_(s.bug_inventory_check_then_update),
        pending_check_(s.clients),
        follow_up_(s.clients) {}

  std::vector<Op> Setup() const override {
    std::vector<Op> ops;
    for (int64_t i = 0; i < kItems; ++i) {
      ops.push_back(MakeOp(Op::PUT, Key("stock", i), absl::StrCat(kInitialStock)));
    }
    return ops;
  }

  std::vector<Op> NextTxn(const ClientTurn& turn, sim::Rng& rng) override {
    if (std::optional<std::vector<Op>> next = std::move(follow_up_[turn.index])) {
      follow_up_[turn.index].reset();
      return *std::move(next);
    }
    const int64_t item = static_cast<int64_t>(rng.Uniform(kItems));
    if (rng.Chance(1, 6)) return ReadStock();
    const std::string record = absl::StrCat(turn.node, "/", turn.txn);
    if (rng.Chance(1, 5)) {
      return {MakeOp(Op::ADD, Key("stock", item), "", kRestock),
              Track(MakeOp(Op::PUT, "restock/" + record, absl::StrCat(item, ":", kRestock)))};
    }
    const int64_t units = rng.UniformRange(1, 3);
    Op order = MakeOp(Op::PUT, "order/" + record, absl::StrCat(item, ":", -units));
    if (check_then_update_) {
      pending_check_[turn.index] = {{item, units, std::move(order)}};
      return {MakeOp(Op::READ, Key("stock", item))};
    }
    return {Reserve(Key("stock", item), units), Track(std::move(order))};
  }

  void Observe(const ClientTurn& turn, const std::vector<Op>& ops, const TxnResult& r) override {
    for (const Op& op : ops) {
      if (auto it = records_.find(op.key()); it != records_.end()) {
        it->second = FromOutcome(r.outcome);
      }
    }
    const bool is_check = ops.size() == 1 && ops[0].kind() == Op::READ && check_then_update_;
    std::optional<Check> check = std::move(pending_check_[turn.index]);
    pending_check_[turn.index].reset();
    if (r.outcome != TxnOutcome::kOk) return;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind() != Op::READ) continue;
      const int64_t stock = AsInt(Result(*r.reply, i));
      if (stock < 0) {
        Fail(absl::StrCat("inventory: oversold: ", ops[i].key(), " read as ", stock),
             absl::StrCat(TurnName(turn), " at ", r.completed.ToString()));
      }
    }
    if (is_check && check.has_value() && AsInt(Result(*r.reply, 0)) >= check->units) {
      follow_up_[turn.index] = {{MakeOp(Op::ADD, Key("stock", check->item), "", -check->units),
                                 Track(std::move(check->order))}};
    }
  }

  std::vector<Op> FinalRead() const override {
    std::vector<Op> ops = ReadStock();
    for (const auto& [key, known] : records_) {
      if (known != Known::kFail) ops.push_back(MakeOp(Op::READ, key));
    }
    return ops;
  }

  void JudgeFinal(const TxnReply& reply) override {
    std::vector<int64_t> expected(kItems, kInitialStock);
    size_t i = kItems;
    for (const auto& [key, known] : records_) {
      if (known == Known::kFail) continue;
      const OpResult& r = Result(reply, i++);
      if (!r.has_value()) {
        if (known == Known::kOk) {
          Fail(absl::StrCat("durability: the acknowledged record ", key,
                            " is gone after all nodes restarted"));
          return;
        }
        continue;
      }
      int64_t item = 0, delta = 0;
      const std::pair<absl::string_view, absl::string_view> parts =
          absl::StrSplit(Sv(r.value()), ':');
      if (!absl::SimpleAtoi(parts.first, &item) || !absl::SimpleAtoi(parts.second, &delta) ||
          item < 0 || item >= kItems) {
        Fail(absl::StrCat("inventory: garbage read: record ", key, " holds \"", r.value(), "\""));
        return;
      }
      expected[item] += delta;
    }
    for (int64_t item = 0; item < kItems; ++item) {
      const int64_t stock = AsInt(Result(reply, static_cast<size_t>(item)));
      if (stock < 0) {
        Fail(absl::StrCat("inventory: oversold: after all nodes restarted ", Key("stock", item),
                          " is ", stock));
        return;
      }
      if (stock != expected[item]) {
        Fail(absl::StrCat("inventory: ", Key("stock", item), " is ", stock,
                          " after all nodes restarted, but its initial stock, restocks and "
                          "orders present add up to ",
                          expected[item], " (a lost update or a partial commit)"));
        return;
      }
    }
  }

 private:
  static constexpr int64_t kItems = 3;
  static constexpr int64_t kInitialStock = 4;
  static constexpr int64_t kRestock = 3;
  struct Check {
    int64_t item;
    int64_t units;
    Op order;
  };

  static std::vector<Op> ReadStock() {
    std::vector<Op> ops;
    for (int64_t i = 0; i < kItems; ++i) ops.push_back(MakeOp(Op::READ, Key("stock", i)));
    return ops;
  }
  Op Track(Op record) {
    records_.emplace(record.key(), Known::kPending);
    return record;
  }

  const bool check_then_update_;
  // Per client: the reservation its check transaction is for, and the update to run next.
  std::vector<std::optional<Check>> pending_check_;
  std::vector<std::optional<std::vector<Op>>> follow_up_;
  absl::btree_map<std::string, Known> records_;
};

// --- profile ----------------------------------------------------------------------------
// Each client owns one user profile and updates its email (a PUT of "<seq>@u<client>" with a
// growing seq) or reads its own email and another user's. A session sticks to one CN, so
// the CN's clock carries every reply's timestamp into the session's next snapshot: a client
// must read its own last acknowledged email or a newer one (read your writes), and within a
// session the emails it reads of any user never go back (monotonic reads). Every read
// email must have been written and not aborted, and after the restarts each user's email
// must be at least its last acknowledged one. A timeout ends the session, since the client
// cannot tell whether its CN restarted; the next session starts without expectations.
class Profile : public ClusterWorkload {
 public:
  explicit Profile(const ClusterScenario& s)
      : users_(s.clients), sessions_(s.clients, std::vector<int64_t>(s.clients, 0)) {}

  std::vector<Op> NextTxn(const ClientTurn& turn, sim::Rng& rng) override {
    User& me = users_[turn.index];
    if (rng.Chance(1, 2)) {
      const int64_t seq = ++me.attempted;
      return {MakeOp(Op::PUT, Key("email", turn.index), Email(seq, turn.index))};
    }
    const int64_t other = static_cast<int64_t>(rng.Uniform(users_.size()));
    return {MakeOp(Op::READ, Key("email", turn.index)), MakeOp(Op::READ, Key("email", other))};
  }

  void Observe(const ClientTurn& turn, const std::vector<Op>& ops, const TxnResult& r) override {
    User& me = users_[turn.index];
    std::vector<int64_t>& session = sessions_[turn.index];
    if (r.outcome == TxnOutcome::kUnknown) {
      std::fill(session.begin(), session.end(), 0);
      me.session_acked = 0;
    }
    if (ops[0].kind() == Op::PUT) {
      const int64_t seq = Seq(ops[0].value());
      if (r.outcome == TxnOutcome::kOk) {
        me.acked = std::max(me.acked, seq);
        me.session_acked = std::max(me.session_acked, seq);
      }
      if (r.outcome == TxnOutcome::kFail) me.failed.push_back(seq);
      return;
    }
    if (r.outcome != TxnOutcome::kOk) return;
    for (size_t i = 0; i < ops.size(); ++i) {
      const int64_t user = KeyIndex(ops[i].key());
      const OpResult& result = Result(*r.reply, i);
      const int64_t seq = result.has_value() ? Seq(result.value()) : 0;
      if (!CheckWritten(user, seq, result, TurnName(turn))) return;
      if (user == turn.index && seq < me.session_acked) {
        Fail(absl::StrCat(
                 "profile: read your writes broken: ", TurnName(turn), " read email ", seq,
                 " of its own user after its update to email ", me.session_acked,
                 " was acknowledged (a stale read that reverses causal order: a causal reverse)"),
             absl::StrCat("read completed at ", r.completed.ToString()));
        return;
      }
      if (seq < session[user]) {
        Fail(absl::StrCat("profile: monotonic reads broken: ", TurnName(turn), " read email ", seq,
                          " of user ", user, " after reading email ", session[user],
                          " in the same session"),
             absl::StrCat("read completed at ", r.completed.ToString()));
        return;
      }
      session[user] = seq;
    }
  }

  std::vector<Op> FinalRead() const override {
    std::vector<Op> ops;
    for (size_t u = 0; u < users_.size(); ++u) {
      ops.push_back(MakeOp(Op::READ, Key("email", static_cast<int64_t>(u))));
    }
    return ops;
  }

  void JudgeFinal(const TxnReply& reply) override {
    for (size_t u = 0; u < users_.size(); ++u) {
      const OpResult& result = Result(reply, u);
      const int64_t seq = result.has_value() ? Seq(result.value()) : 0;
      const int64_t user = static_cast<int64_t>(u);
      if (!CheckWritten(user, seq, result, "the final read")) return;
      if (seq < users_[u].acked) {
        Fail(absl::StrCat("durability: user ", u, "'s acknowledged email ", users_[u].acked,
                          " is gone after all nodes restarted; the email is ", seq));
        return;
      }
    }
  }

 private:
  struct User {
    int64_t attempted = 0;      // The newest seq sent.
    int64_t acked = 0;          // The newest seq acknowledged.
    int64_t session_acked = 0;  // The same, in the client's current session.
    std::vector<int64_t> failed;
  };

  static std::string Email(int64_t seq, int64_t user) {
    return absl::StrCat(seq, "@u", user, ".example");
  }
  // The seq of an email, or -1 when it is not one.
  static int64_t Seq(std::string_view email) {
    int64_t seq = -1;
    const size_t at = email.find('@');
    if (at == std::string_view::npos || !absl::SimpleAtoi(Sv(email.substr(0, at)), &seq)) {
      return -1;
    }
    return seq;
  }

  bool CheckWritten(int64_t user, int64_t seq, const OpResult& result, const std::string& by) {
    const User& owner = users_[user];
    if (result.has_value() &&
        (seq <= 0 || seq > owner.attempted || result.value() != Email(seq, user))) {
      Fail(absl::StrCat("profile: garbage read: ", by, " read \"", result.value(), "\" as user ",
                        user, "'s email, which nobody wrote"));
      return false;
    }
    if (std::find(owner.failed.begin(), owner.failed.end(), seq) != owner.failed.end()) {
      Fail(absl::StrCat("profile: aborted read (G1a): ", by, " read email ", seq, " of user ", user,
                        ", whose update aborted"));
      return false;
    }
    return true;
  }

  std::vector<User> users_;
  // Per client session: the newest email seq it has read of each user.
  std::vector<std::vector<int64_t>> sessions_;
};

// --- flight -----------------------------------------------------------------------------
// Two flights of four seats. Clients book a seat (RESERVE on the flight's free-seat count,
// rolled back when it is full, plus a booking record), cancel one of their acknowledged
// bookings (ADD one seat back and DELETE the record), or read both counts. A read may never
// show fewer than 0 or more than 4 free seats, and after the restarts each flight's free
// seats plus its booking records present must be exactly 4 (a booking or cancellation is
// atomic), every acknowledged live booking must be present and every acknowledged
// cancellation's record gone. A cancellation whose outcome is unknown is never retried.
class Flight : public ClusterWorkload {
 public:
  explicit Flight(const ClusterScenario& s) : live_(s.clients) {}

  std::vector<Op> Setup() const override {
    std::vector<Op> ops;
    for (int64_t f = 0; f < kFlights; ++f) {
      ops.push_back(MakeOp(Op::PUT, Key("seats", f), absl::StrCat(kSeats)));
    }
    return ops;
  }

  std::vector<Op> NextTxn(const ClientTurn& turn, sim::Rng& rng) override {
    std::vector<std::string>& mine = live_[turn.index];
    if (!mine.empty() && rng.Chance(1, 3)) {
      const size_t pick = rng.Uniform(mine.size());
      const std::string key = mine[pick];
      mine.erase(mine.begin() + static_cast<std::ptrdiff_t>(pick));
      bookings_[key].state = State::kCancelling;
      return {MakeOp(Op::ADD, Key("seats", bookings_[key].flight), "", 1), MakeOp(Op::DELETE, key)};
    }
    if (rng.Chance(1, 5)) return ReadSeats();
    const int64_t flight = static_cast<int64_t>(rng.Uniform(kFlights));
    const std::string key = absl::StrCat("booking/", turn.node, "/", turn.txn);
    bookings_[key] = {.flight = flight, .state = State::kBooking};
    return {Reserve(Key("seats", flight), 1), MakeOp(Op::PUT, key, absl::StrCat(flight))};
  }

  void Observe(const ClientTurn& turn, const std::vector<Op>& ops, const TxnResult& r) override {
    if (ops.back().kind() == Op::PUT || ops.back().kind() == Op::DELETE) {
      const bool cancel = ops.back().kind() == Op::DELETE;
      Booking& b = bookings_[ops.back().key()];
      switch (r.outcome) {
        case TxnOutcome::kOk:
          b.state = cancel ? State::kCancelled : State::kBooked;
          if (!cancel) live_[turn.index].push_back(ops.back().key());
          break;
        case TxnOutcome::kFail:
          b.state = cancel ? State::kBooked : State::kFailed;
          if (cancel) live_[turn.index].push_back(ops.back().key());
          break;
        case TxnOutcome::kUnknown:
          b.state = State::kUnknown;
          break;
      }
      return;
    }
    if (r.outcome != TxnOutcome::kOk) return;
    for (size_t i = 0; i < ops.size(); ++i) {
      const int64_t free_seats = AsInt(Result(*r.reply, i));
      if (free_seats < 0 || free_seats > kSeats) {
        Fail(absl::StrCat("flight: ", ops[i].key(), " read as ", free_seats,
                          " free seats; a flight has 0 to ", kSeats,
                          free_seats < 0 ? " (overbooked)" : ""),
             absl::StrCat(TurnName(turn), " at ", r.completed.ToString()));
        return;
      }
    }
  }

  std::vector<Op> FinalRead() const override {
    std::vector<Op> ops = ReadSeats();
    for (const auto& [key, b] : bookings_) {
      if (b.state != State::kFailed) ops.push_back(MakeOp(Op::READ, key));
    }
    return ops;
  }

  void JudgeFinal(const TxnReply& reply) override {
    std::vector<int64_t> booked(kFlights, 0);
    size_t i = kFlights;
    for (const auto& [key, b] : bookings_) {
      if (b.state == State::kFailed) continue;
      const bool present = Result(reply, i++).has_value();
      if (present) ++booked[b.flight];
      if (b.state == State::kBooked && !present) {
        Fail(absl::StrCat("durability: the acknowledged booking ", key,
                          " is gone after all nodes restarted"));
        return;
      }
      if (b.state == State::kCancelled && present) {
        Fail(absl::StrCat("flight: the acknowledged cancellation of ", key,
                          " is undone after all nodes restarted"));
        return;
      }
    }
    for (int64_t f = 0; f < kFlights; ++f) {
      const int64_t free_seats = AsInt(Result(reply, static_cast<size_t>(f)));
      if (free_seats + booked[f] != kSeats) {
        Fail(absl::StrCat("flight: ", Key("seats", f), " has ", free_seats, " free seats and ",
                          booked[f], " bookings after all nodes restarted; they must add up to ",
                          kSeats, free_seats < 0 ? " (overbooked)" : ""));
        return;
      }
    }
  }

 private:
  static constexpr int64_t kFlights = 2;
  static constexpr int64_t kSeats = 4;
  enum class State { kBooking, kBooked, kFailed, kCancelling, kCancelled, kUnknown };
  struct Booking {
    int64_t flight = 0;
    State state = State::kBooking;
  };

  static std::vector<Op> ReadSeats() {
    std::vector<Op> ops;
    for (int64_t f = 0; f < kFlights; ++f) ops.push_back(MakeOp(Op::READ, Key("seats", f)));
    return ops;
  }

  std::vector<std::vector<std::string>> live_;  // Per client: its acknowledged bookings.
  absl::btree_map<std::string, Booking> bookings_;
};

}  // namespace

void ClusterWorkload::Fail(std::string failure, std::string explanation) {
  if (!failure_.empty()) return;
  failure_ = std::move(failure);
  explanation_ = std::move(explanation);
}

const std::vector<std::string_view>& ClusterWorkloadNames() {
  static const std::vector<std::string_view> kNames = {
      "bank", "counter", "list-append", "register", "inventory", "profile", "flight"};
  return kNames;
}

bool IsClusterWorkload(std::string_view name) {
  const std::vector<std::string_view>& names = ClusterWorkloadNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::unique_ptr<ClusterWorkload> MakeClusterWorkload(const ClusterScenario& s) {
  if (s.workload == "bank") return std::make_unique<Bank>(s);
  if (s.workload == "counter") return std::make_unique<Counter>();
  if (s.workload == "list-append") return std::make_unique<ListAppend>();
  if (s.workload == "register") return std::make_unique<Register>();
  if (s.workload == "inventory") return std::make_unique<Inventory>(s);
  if (s.workload == "profile") return std::make_unique<Profile>(s);
  if (s.workload == "flight") return std::make_unique<Flight>(s);
  HC_ASSERT_MSG(false, "unknown workload");
  return nullptr;
}

}  // namespace hindcast::properties
