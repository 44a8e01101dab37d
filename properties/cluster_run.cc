#include "properties/cluster_run.h"

#include <memory>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nodes/txn/txn.pb.h"
#include "nodes/wire.h"
#include "nodes/world.h"
#include "properties/run_phases.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"
#include "storage/pb_util.h"

namespace hindcast::properties {
namespace {

using nodes::txn::Op;
using nodes::txn::TxnReply;

constexpr sim::Duration kFaultHorizon = sim::Duration::Seconds(2);
constexpr sim::Duration kClientTimeout = sim::Duration::Seconds(2);
constexpr sim::Duration kThinkMax = sim::Duration::Millis(10);
constexpr sim::Duration kWorkloadTimeLimit = sim::Duration::Seconds(120);
constexpr sim::Duration kSettle = sim::Duration::Seconds(3);
constexpr int kFinalReadAttemptsMax = 40;
constexpr int kAccounts = 5;

Op MakeOp(Op::Kind kind, std::string key, std::string value = "", int64_t delta = 0) {
  Op op;
  op.set_kind(kind);
  op.set_key(std::move(key));
  op.set_value(std::move(value));
  op.set_delta(delta);
  return op;
}

std::string Account(int i) { return absl::StrCat("acct/", i); }

int64_t AsInt(const nodes::txn::OpResult& r) {
  int64_t n = 0;
  if (r.has_value() && !absl::SimpleAtoi(Sv(r.value()), &n)) n = 0;
  return n;
}

// Builds each client's transactions and judges the outcomes.
class Driver {
 public:
  Driver(const ClusterScenario& s, sim::Simulator& sim) : s_(s), sim_(sim) {}

  std::vector<Op> MakeTxn(sim::NodeId client, int n, sim::Rng& rng) {
    std::vector<Op> ops;
    if (s_.workload == "counter") {
      ops.push_back(MakeOp(Op::ADD, "counter", "", 1));
      return ops;
    }
    if (rng.Chance(1, 4)) return ReadAll({});
    const int a = static_cast<int>(rng.Uniform(kAccounts));
    const int b = (a + 1 + static_cast<int>(rng.Uniform(kAccounts - 1))) % kAccounts;
    const int64_t amount = rng.UniformRange(1, 10);
    ops.push_back(MakeOp(Op::ADD, Account(a), "", -amount));
    ops.push_back(MakeOp(Op::ADD, Account(b), "", amount));
    ops.push_back(MakeOp(Op::PUT, Marker(client, n), "1"));
    return ops;
  }

  std::vector<Op> FinalRead() const {
    if (s_.workload == "counter") return {MakeOp(Op::READ, "counter")};
    return ReadAll(committed_markers_);
  }

  void Record(sim::NodeId client, int n, const std::vector<Op>& ops,
              std::optional<TxnReply> reply) {
    const bool ok = reply.has_value() && reply->outcome() == TxnReply::COMMITTED;
    const bool unknown = !reply.has_value() || reply->outcome() == TxnReply::UNKNOWN;
    sim_.Record({.node = client,
                 .kind = ok        ? sim::EventKind::kClientOk
                         : unknown ? sim::EventKind::kClientInfo
                                   : sim::EventKind::kClientFail,
                 .a = static_cast<uint64_t>(n)});
    if (unknown) {
      ++unknown_;
      return;
    }
    if (!ok) {
      ++aborted_;
      return;
    }
    ++committed_;
    if (s_.workload == "counter") return;
    if (ops.size() == 3) {
      committed_markers_.push_back(ops[2].key());
      return;
    }
    // A committed read of every account: under SI it is one snapshot and must sum to 0.
    if (s_.isolation == nodes::txn::Isolation::kSnapshot && failure_.empty()) {
      const int64_t sum = SumAccounts(*reply);
      if (sum != 0) {
        failure_ = absl::StrCat("bank: a snapshot read of all accounts sums to ", sum,
                                ", not 0 (money created or destroyed)");
        explanation_ = absl::StrCat("client ", client, " transaction ", n, " read ",
                                    Balances(*reply), " at ", sim_.Now().ToString());
      }
    }
  }

  void Judge(const std::optional<TxnReply>& final_read) {
    if (!failure_.empty()) return;
    if (!final_read.has_value()) {
      failure_ = "the cluster did not answer the final read after all nodes restarted";
      return;
    }
    if (s_.workload == "counter") {
      const int64_t value = AsInt(final_read->results(0));
      if (value < static_cast<int64_t>(committed_) ||
          value > static_cast<int64_t>(committed_ + unknown_)) {
        failure_ = absl::StrCat("counter: final value ", value, " outside [", committed_, ", ",
                                committed_ + unknown_, "] (acknowledged increments, plus unknown)");
        explanation_ = absl::StrCat("the final read's snapshot was ",
                                    storage::FromProto(final_read->commit_ts()).ToString());
      }
      return;
    }
    const int64_t sum = SumAccounts(*final_read);
    if (sum != 0) {
      failure_ = absl::StrCat("bank: after all nodes restarted the accounts sum to ", sum,
                              ", not 0 (a lost update or lost commit)");
      explanation_ = absl::StrCat("final read ", Balances(*final_read));
      return;
    }
    for (size_t i = 0; i < committed_markers_.size(); ++i) {
      if (!final_read->results(kAccounts + static_cast<int>(i)).has_value()) {
        failure_ = absl::StrCat("durability: the acknowledged transfer that wrote ",
                                committed_markers_[i], " is gone after all nodes restarted");
        return;
      }
    }
  }

  void Finished() {
    if (--running_ == 0) sim_.Stop();
  }
  void set_running(int n) { running_ = n; }
  size_t committed() const { return committed_; }
  size_t aborted() const { return aborted_; }
  size_t unknown() const { return unknown_; }
  const std::string& failure() const { return failure_; }
  const std::string& explanation() const { return explanation_; }

 private:
  static std::string Marker(sim::NodeId client, int n) {
    return absl::StrCat("mark/", client, "/", n);
  }
  static std::vector<Op> ReadAll(const std::vector<std::string>& markers) {
    std::vector<Op> ops;
    for (int i = 0; i < kAccounts; ++i) ops.push_back(MakeOp(Op::READ, Account(i)));
    for (const std::string& m : markers) ops.push_back(MakeOp(Op::READ, m));
    return ops;
  }
  static int64_t SumAccounts(const TxnReply& r) {
    int64_t sum = 0;
    for (int i = 0; i < kAccounts && i < r.results_size(); ++i) sum += AsInt(r.results(i));
    return sum;
  }
  static std::string Balances(const TxnReply& r) {
    std::vector<std::string> parts;
    for (int i = 0; i < kAccounts && i < r.results_size(); ++i) {
      parts.push_back(absl::StrCat(Account(i), "=", AsInt(r.results(i))));
    }
    return absl::StrJoin(parts, " ");
  }

  const ClusterScenario& s_;
  sim::Simulator& sim_;
  int running_ = 0;
  size_t committed_ = 0, aborted_ = 0, unknown_ = 0;
  std::vector<std::string> committed_markers_;
  std::string failure_;
  std::string explanation_;
};

// A client session: one transaction at a time against its CN.
class WorkloadClient : public sim::Node {
 public:
  WorkloadClient(nodes::NodeEnv& env, Driver& driver, sim::NodeId cn, int txns)
      : env_(env), driver_(driver), cn_(cn), txns_(txns) {}

  void Start() override { Next(); }

  void Receive(sim::NodeId, std::string_view bytes) override {
    nodes::txn::Message m;
    if (!nodes::ParseMessage(bytes, &m) || !m.has_txn_reply() || m.txn_reply().req() != req_ ||
        !in_flight_) {
      return;
    }
    env_.CancelTimer(timer_);
    in_flight_ = false;
    Done(m.txn_reply());
  }

  void FinalRead(int attempts) {
    final_attempts_ = attempts;
    Send(driver_.FinalRead());
  }
  const std::optional<TxnReply>& final_result() const { return final_result_; }

 private:
  void Next() {
    if (done_ >= txns_) {
      driver_.Finished();
      return;
    }
    env_.SetTimer(env_.rng().UniformDuration(sim::Duration::Zero(), kThinkMax),
                  [this] { Send(driver_.MakeTxn(env_.id(), done_, env_.rng())); });
  }

  void Send(std::vector<Op> ops) {
    ops_ = std::move(ops);
    nodes::txn::Message m;
    m.mutable_txn_request()->set_req(++req_);
    for (const Op& op : ops_) *m.mutable_txn_request()->add_ops() = op;
    nodes::SendMessage(env_, cn_, m);
    in_flight_ = true;
    timer_ = env_.SetTimer(kClientTimeout, [this] {
      in_flight_ = false;
      Done(std::nullopt);
    });
  }

  void Done(std::optional<TxnReply> reply) {
    if (final_attempts_ > 0) {
      if (reply.has_value() && reply->outcome() == TxnReply::COMMITTED) {
        final_result_ = reply;
        final_attempts_ = 0;
        driver_.Finished();
      } else if (--final_attempts_ == 0) {
        driver_.Finished();
      } else {
        env_.SetTimer(sim::Duration::Millis(200), [this] { Send(driver_.FinalRead()); });
      }
      return;
    }
    driver_.Record(env_.id(), done_, ops_, reply);
    ++done_;
    Next();
  }

  nodes::NodeEnv& env_;
  Driver& driver_;
  sim::NodeId cn_;
  int txns_;
  int done_ = 0;
  uint64_t req_ = 0;
  bool in_flight_ = false;
  sim::TimerId timer_;
  std::vector<Op> ops_;
  int final_attempts_ = 0;
  std::optional<TxnReply> final_result_;
};

}  // namespace

ClusterReport RunCluster(const ClusterScenario& scenario, const RunOptions& options) {
  HC_ASSERT(scenario.workload == "bank" || scenario.workload == "counter");
  ClusterReport report;
  report.seed = scenario.seed;
  nodes::World world({.seed = scenario.seed, .retention = options.retention});
  sim::Simulator& sim = world.sim();
  Driver driver(scenario, sim);
  nodes::txn::Cluster cluster(world, {.cns = scenario.cns,
                                      .isolation = scenario.isolation,
                                      .mode = scenario.mode,
                                      .spill_threshold_bytes = scenario.spill_threshold_bytes,
                                      .bugs = scenario.bugs});
  std::vector<WorkloadClient*> clients;
  driver.set_running(scenario.clients);
  for (int c = 0; c < scenario.clients; ++c) {
    const sim::NodeId id = cluster.first_free_id() + c;
    const sim::NodeId cn = cluster.cns()[c % cluster.cns().size()];
    world.AddClient(id, absl::StrCat("client-", id), [&, cn](nodes::NodeEnv& env) {
      auto client = std::make_unique<WorkloadClient>(env, driver, cn, scenario.txns_per_client);
      clients.push_back(client.get());
      return client;
    });
  }
  report.plan =
      RunUnderFaults(world, scenario.plan, scenario.faults, kFaultHorizon, kWorkloadTimeLimit);
  RestartEverything(world);
  sim.Run({.time_limit = sim.Now() + kSettle});
  driver.set_running(1);
  clients.front()->FinalRead(kFinalReadAttemptsMax);
  sim.Run({.time_limit = sim.Now() + sim::Duration::Seconds(30)});
  driver.Judge(clients.front()->final_result());

  report.verdict = driver.failure().empty() ? Verdict::kOk : Verdict::kViolation;
  report.failure = driver.failure();
  report.explanation = driver.explanation();
  report.committed = driver.committed();
  report.aborted = driver.aborted();
  report.unknown = driver.unknown();
  report.faults = world.fault_stats();
  report.end_time = sim.Now();
  report.events = sim.log().count();
  report.steps = sim.total_steps();
  report.fingerprint = sim.log().fingerprint();
  if (options.inspect_log) options.inspect_log(sim.log());
  return report;
}

}  // namespace hindcast::properties
