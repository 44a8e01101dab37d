#include "properties/cluster_run.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nodes/txn/cn.h"
#include "nodes/txn/tn.h"
#include "nodes/txn/txn.pb.h"
#include "nodes/wire.h"
#include "nodes/world.h"
#include "properties/isolation.h"
#include "properties/run_phases.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"
#include "storage/pb_util.h"

namespace hindcast::properties {
namespace {

using nodes::txn::Op;
using nodes::txn::TxnReply;

// The fault plan's horizon is about as long as the workload runs under its profile, so the
// plan's faults land while transactions are in flight. A transaction takes some 16 ms with
// no faults; light faults stretch a few, heavy ones most (a default heavy run's workload
// lasts 1-3.5 s). A fixed 2 s horizon left a default light run idle from about 0.35 s on:
// its later faults hit a cluster with nothing to do, and about a fifth of its events were
// idle heartbeats. Long workloads are capped at the old 2 s, so their episodes (a number
// drawn per plan, not per second) do not thin out.
constexpr sim::Duration kFaultHorizonMax = sim::Duration::Seconds(2);
constexpr sim::Duration kFaultHorizonMin = sim::Duration::Millis(200);
constexpr sim::Duration kLightFaultPacePerTxn = sim::Duration::Millis(20);
constexpr sim::Duration kHeavyFaultPacePerTxn = sim::Duration::Millis(100);

sim::Duration FaultHorizonFor(const ClusterScenario& s) {
  const sim::Duration pace =
      s.faults == sim::FaultProfile::kHeavy ? kHeavyFaultPacePerTxn : kLightFaultPacePerTxn;
  return std::clamp(pace * static_cast<int64_t>(s.txns_per_client), kFaultHorizonMin,
                    kFaultHorizonMax);
}

constexpr sim::Duration kClientTimeout = sim::Duration::Seconds(2);
// A transaction of many statements gets this much per statement when that is longer than
// kClientTimeout: under read committed each statement takes a fresh snapshot and waits for
// the LogTail watermark to reach it (up to a 20 ms heartbeat), so a final read of thousands
// of accounts outlasted the fixed timeout and the run reported it unanswered.
constexpr sim::Duration kClientTimeoutPerStatement = sim::Duration::Millis(50);
// A request unanswered this long is probed (RequestStatus): a transaction takes some 16 ms
// with no faults, so this leaves room for elections and recoveries that the CN waits out
// with the request in hand (it answers "running").
constexpr sim::Duration kProbeAfter = sim::Duration::Millis(200);
constexpr sim::Duration kThinkMax = sim::Duration::Millis(10);
constexpr sim::Duration kSetupTimeLimit = sim::Duration::Seconds(30);
constexpr sim::Duration kFinalReadTimeLimit = sim::Duration::Seconds(30);
// After the restart of every server: how long the cluster may take to serve again before
// the final read is tried anyway (it retries), and how often to look.
constexpr sim::Duration kSettleMax = sim::Duration::Seconds(3);
constexpr sim::Duration kSettleStep = sim::Duration::Millis(20);
constexpr sim::Duration kRetryPause = sim::Duration::Millis(200);
constexpr int kFinalReadAttemptsMax = 40;
constexpr int kSetupAttemptsMax = 100;

sim::Duration TimeoutFor(size_t statements) {
  return std::max(kClientTimeout, kClientTimeoutPerStatement * static_cast<int64_t>(statements));
}

// What a client learned: `reply` is null when it timed out.
TxnOutcome OutcomeOf(const TxnReply* reply) {
  if (reply == nullptr || reply->outcome() == TxnReply::UNKNOWN) return TxnOutcome::kUnknown;
  return reply->outcome() == TxnReply::COMMITTED ? TxnOutcome::kOk : TxnOutcome::kFail;
}

// Feeds the clients from the workload, counts outcomes and keeps the history.
class Driver {
 public:
  Driver(const ClusterScenario& s, sim::Simulator& sim)
      : workload_(MakeClusterWorkload(s)), sim_(sim), setup_(workload_->Setup()) {}

  ClusterWorkload& workload() { return *workload_; }
  sim::Instant Now() const { return sim_.Now(); }
  // Clients start on their own unless the workload has setup statements to commit first.
  bool starts_at_once() const { return setup_.empty(); }
  const std::vector<Op>& setup() const { return setup_; }

  std::vector<Op> NextTxn(const ClientTurn& turn, sim::Rng& rng, size_t* history_index) {
    std::vector<Op> ops = workload_->NextTxn(turn, rng);
    *history_index = Invoke(turn.node, ops);
    return ops;
  }

  // A transaction's outcome (`reply` is null when the client timed out).
  void Record(const ClientTurn& turn, const std::vector<Op>& ops, size_t history_index,
              sim::Instant invoked, const TxnReply* reply) {
    const TxnOutcome outcome = OutcomeOf(reply);
    sim_.Record({.node = turn.node,
                 .kind = outcome == TxnOutcome::kOk        ? sim::EventKind::kClientOk
                         : outcome == TxnOutcome::kUnknown ? sim::EventKind::kClientInfo
                                                           : sim::EventKind::kClientFail,
                 .a = static_cast<uint64_t>(turn.txn)});
    switch (outcome) {
      case TxnOutcome::kOk:
        ++committed_;
        break;
      case TxnOutcome::kFail:
        ++aborted_;
        break;
      case TxnOutcome::kUnknown:
        ++unknown_;
        break;
    }
    Complete(history_index, outcome, ops, outcome == TxnOutcome::kOk ? reply : nullptr);
    workload_->Observe(turn, ops,
                       {.outcome = outcome,
                        .reply = outcome == TxnOutcome::kUnknown ? nullptr : reply,
                        .invoked = invoked,
                        .completed = sim_.Now()});
  }

  // The history's part of the final read, which only a committed reply completes.
  size_t Invoke(sim::NodeId process, const std::vector<Op>& ops) {
    if (workload_->model() == HistoryModel::kNone) return 0;
    return history_.Invoke(process, sim_.Now().ns(), workload_->ToMops(ops, nullptr));
  }
  void Complete(size_t index, TxnOutcome outcome, const std::vector<Op>& ops,
                const TxnReply* reply) {
    if (workload_->model() == HistoryModel::kNone) return;
    history_.Complete(index,
                      outcome == TxnOutcome::kOk     ? OpType::kOk
                      : outcome == TxnOutcome::kFail ? OpType::kFail
                                                     : OpType::kInfo,
                      sim_.Now().ns(), workload_->ToMops(ops, reply));
  }

  void Judge(const std::optional<TxnReply>& final_read) {
    if (!workload_->failure().empty()) return;
    if (!final_read.has_value()) {
      failure_ = "the cluster did not answer the final read after all nodes restarted";
      return;
    }
    workload_->JudgeFinal(*final_read);
  }

  // A protocol promise broken (`violation`, if not empty) fails the run even where no
  // client read happened to show it.
  void JudgeProtocol(const std::string& violation) {
    if (failure().empty()) failure_ = violation;
  }

  void Finished() {
    if (--running_ == 0) sim_.Stop();
  }
  void set_running(int n) { running_ = n; }
  size_t committed() const { return committed_; }
  size_t aborted() const { return aborted_; }
  size_t unknown() const { return unknown_; }
  const std::string& failure() const { return failure_.empty() ? workload_->failure() : failure_; }
  const std::string& explanation() const { return workload_->explanation(); }
  History& history() { return history_; }

 private:
  std::unique_ptr<ClusterWorkload> workload_;
  sim::Simulator& sim_;
  const std::vector<Op> setup_;
  int running_ = 0;
  size_t committed_ = 0, aborted_ = 0, unknown_ = 0;
  std::string failure_;
  History history_;
};

// A client session: one transaction at a time against its CN. Besides the workload it runs
// two kinds of retried transactions that must commit: the setup and the final read.
class WorkloadClient : public sim::Node {
 public:
  WorkloadClient(nodes::NodeEnv& env, Driver& driver, int index, sim::NodeId cn, int txns)
      : env_(env), driver_(driver), index_(index), cn_(cn), txns_(txns) {}

  void Start() override {
    if (driver_.starts_at_once()) RunWorkload();
  }

  void Receive(sim::NodeId, sim::Payload& payload) override {
    const auto* m = nodes::ReadMessage<nodes::txn::Message>(payload);
    if (m == nullptr) return;
    if (m->has_request_status_reply() && m->request_status_reply().session() != 0) {
      // The CN incarnation answering: requests from now on name its session.
      const bool opened = session_ == 0;
      session_changed_ = !opened && session_ != m->request_status_reply().session();
      session_ = m->request_status_reply().session();
      if (opened && connecting_) {
        connecting_ = false;
        env_.CancelTimer(probe_timer_);
        SendRequest();
        return;
      }
    }
    if (!in_flight_ || connecting_) return;
    if (m->has_request_status_reply()) {
      // The CN does not have the request: it restarted, or the request or its reply was
      // lost (or is still in the network), or it came over a session with an earlier
      // incarnation. As with a broken connection, the outcome is unknown; waiting out the
      // timeout would only idle the run.
      const nodes::txn::RequestStatusReply& r = m->request_status_reply();
      if (r.req() != req_ || r.running()) return;
      Settle(nullptr);
      return;
    }
    if (!m->has_txn_reply() || m->txn_reply().req() != req_) return;
    Settle(&m->txn_reply());
  }

  // The workload: txns_ transactions, then Driver::Finished.
  void RunWorkload() { Next(); }
  // Ends the workload where it stands, before the final phase: no further transaction, and
  // the one in flight (if any) is recorded as unknown. A workload that outlived its time
  // limit went on during the final read, and a transfer acknowledged then was required of a
  // final read built before it ("the acknowledged transfer ... is gone", with no fault).
  void StopWorkload() {
    stopped_ = true;
    if (in_flight_ && !retry_.has_value()) Settle(nullptr);  // Starts nothing: stopped_.
  }
  // Sends `ops` until a reply says they committed, at most `attempts` times; then (or when
  // they never did) Driver::Finished. For the final read, the history records the attempt
  // that committed.
  void RunUntilCommitted(std::vector<Op> ops, int attempts, bool in_history) {
    // Only these ops' commit counts: a final read that never commits must not be judged by
    // the setup's reply (it was, and read as every booking lost).
    committed_result_.reset();
    retry_ = {.ops = std::move(ops), .attempts_left = attempts, .in_history = in_history};
    Attempt();
  }
  const std::optional<TxnReply>& committed_result() const { return committed_result_; }

 private:
  struct Retried {
    std::vector<Op> ops;
    int attempts_left = 0;
    bool in_history = false;
  };

  void Next() {
    if (stopped_) return;
    if (done_ >= txns_) {
      driver_.Finished();
      return;
    }
    env_.SetTimer(env_.rng().UniformDuration(sim::Duration::Zero(), kThinkMax), [this] {
      if (stopped_) return;
      turn_ = {.index = index_, .node = env_.id(), .txn = done_};
      std::vector<Op> ops = driver_.NextTxn(turn_, env_.rng(), &history_index_);
      Send(std::move(ops));
    });
  }

  void Attempt() {
    if (retry_->in_history) history_index_ = driver_.Invoke(env_.id(), retry_->ops);
    Send(retry_->ops);
  }

  void Send(std::vector<Op> ops) {
    ops_ = std::move(ops);
    invoked_ = driver_.Now();
    in_flight_ = true;
    timer_ = env_.SetTimer(TimeoutFor(ops_.size()), [this] { Settle(nullptr); });
    if (session_ == 0) {
      // Opens the session first: a RequestStatus for req 0 is answered with the CN's
      // incarnation (Receive then sends the request).
      connecting_ = true;
      Probe(0);
      return;
    }
    SendRequest();
  }

  void SendRequest() {
    nodes::txn::Message m;
    m.mutable_txn_request()->set_req(++req_);
    m.mutable_txn_request()->set_session(session_);
    for (const Op& op : ops_) *m.mutable_txn_request()->add_ops() = op;
    nodes::SendMessage(env_, cn_, std::move(m));
    probe_timer_ = env_.SetTimer(kProbeAfter, [this] { Probe(req_); });
  }

  // Asks the CN whether request `req` is still running there; again every kProbeAfter
  // until it is answered one way or the other.
  void Probe(uint64_t req) {
    nodes::txn::Message m;
    m.mutable_request_status()->set_req(req);
    nodes::SendMessage(env_, cn_, std::move(m));
    probe_timer_ = env_.SetTimer(kProbeAfter, [this, req] { Probe(req); });
  }

  // The request in flight is over: `reply` is its reply, or null when its outcome is unknown.
  void Settle(const TxnReply* reply) {
    env_.CancelTimer(timer_);
    env_.CancelTimer(probe_timer_);
    in_flight_ = false;
    connecting_ = false;
    Done(reply);
  }

  void Done(const TxnReply* reply) {
    if (retry_.has_value()) {
      const TxnOutcome outcome = OutcomeOf(reply);
      const bool committed = outcome == TxnOutcome::kOk;
      if (retry_->in_history)
        driver_.Complete(history_index_, outcome, ops_, committed ? reply : nullptr);
      if (committed) {
        committed_result_ = *reply;
        retry_.reset();
        driver_.Finished();
      } else if (--retry_->attempts_left == 0) {
        retry_.reset();
        driver_.Finished();
      } else if (std::exchange(session_changed_, false)) {
        Attempt();  // The CN restarted and said so: nothing to wait for.
      } else {
        env_.SetTimer(kRetryPause, [this] { Attempt(); });
      }
      return;
    }
    driver_.Record(turn_, ops_, history_index_, invoked_, reply);
    ++done_;
    Next();
  }

  nodes::NodeEnv& env_;
  Driver& driver_;
  int index_;
  sim::NodeId cn_;
  int txns_;
  int done_ = 0;
  bool stopped_ = false;
  ClientTurn turn_;
  uint64_t req_ = 0;
  // The CN incarnation requests name (TxnRequest::session); 0 until the first answer.
  uint64_t session_ = 0;
  bool connecting_ = false;  // A request waits for the session to open.
  // The last answer named another session than the one the request went over: the CN
  // restarted, so a retried transaction goes again at once, under the new session.
  bool session_changed_ = false;
  bool in_flight_ = false;
  sim::TimerId timer_;
  sim::TimerId probe_timer_;
  std::vector<Op> ops_;
  sim::Instant invoked_;
  size_t history_index_ = 0;
  std::optional<Retried> retry_;
  std::optional<TxnReply> committed_result_;
};

// Judges the history at the promised level; strict-serializability findings are info.
void CheckHistory(const ClusterScenario& s, ClusterReport* report) {
  const Consistency promised = s.isolation == nodes::txn::Isolation::kSnapshot
                                   ? Consistency::kSnapshotIsolation
                                   : Consistency::kReadCommitted;
  CheckOptions options;
  options.model = report->history_model == HistoryModel::kListAppend ? DataModel::kListAppend
                                                                     : DataModel::kRwRegister;
  options.consistency = {Consistency::kStrictSerializable};
  options.max_cycles_per_anomaly = 1;
  const absl::StatusOr<CheckResult> r = CheckIsolation(report->history, options);
  HC_ASSERT_MSG(r.ok(), "the run's own history is malformed");
  report->anomalies = r->anomaly_types;
  const Anomaly* first = nullptr;
  std::vector<std::string> proscribed, info;
  for (const std::string& name : r->anomaly_types) {
    if (Proscribes(promised, name)) {
      proscribed.push_back(name);
      if (first == nullptr) first = r->Find(name);
    } else {
      const Anomaly* a = r->Find(name);
      info.push_back(a != nullptr && !a->time_travel.empty()
                         ? absl::StrCat(name, " (", a->time_travel, ")")
                         : name);
    }
  }
  if (!info.empty()) {
    report->info = absl::StrCat("not strict-serializable: ", absl::StrJoin(info, ", "));
  }
  if (proscribed.empty() || report->verdict == Verdict::kViolation) return;
  report->verdict = Verdict::kViolation;
  report->failure = absl::StrCat("isolation: ", Sv(ConsistencyName(promised)),
                                 " violated: ", absl::StrJoin(proscribed, ", "));
  if (first != nullptr) {
    report->explanation =
        absl::StrCat(first->time_travel.empty() ? "" : absl::StrCat("(", first->time_travel, ") "),
                     first->explanation.empty() ? first->detail : first->explanation);
  }
}

// Runs until the TN has recovered and every CN has resubscribed (the simulator may look
// inside its nodes), or for kSettleMax. A fixed settle here was mostly idle heartbeats: about
// a third of a default run's events.
void SettleUntilServing(nodes::World& world, const nodes::txn::Cluster& cluster) {
  sim::Simulator& sim = world.sim();
  auto serving = [&] {
    const auto* tn = dynamic_cast<const nodes::txn::Tn*>(sim.node(cluster.layout().tn()));
    if (tn == nullptr || !tn->serving()) return false;
    for (sim::NodeId id : cluster.cns()) {
      const auto* cn = dynamic_cast<const nodes::txn::Cn*>(sim.node(id));
      if (cn == nullptr || !cn->serving()) return false;
    }
    return true;
  };
  const sim::Instant until = sim.Now() + kSettleMax;
  while (!serving() && sim.Now() < until) {
    sim.Run({.time_limit = std::min(until, sim.Now() + kSettleStep)});
  }
}

}  // namespace

ClusterReport RunCluster(const ClusterScenario& scenario, const RunOptions& options) {
  HC_ASSERT(IsClusterWorkload(scenario.workload));
  ClusterReport report;
  report.seed = scenario.seed;
  nodes::World world({.seed = scenario.seed,
                      .retention = options.retention,
                      .network = {.default_link = {.late_copy_ppm = scenario.late_copy_ppm}}});
  sim::Simulator& sim = world.sim();
  Driver driver(scenario, sim);
  nodes::txn::ClusterKnobs knobs;
  if (scenario.random_knobs) {
    sim::Rng rng = sim.root_rng().Child("knobs");
    knobs = nodes::txn::ClusterKnobs::Random(rng);
    report.knobs = knobs.Describe();
  }
  nodes::txn::Cluster cluster(world, {.cns = scenario.cns,
                                      .log_replicas = scenario.log_replicas,
                                      .isolation = scenario.isolation,
                                      .mode = scenario.mode,
                                      .spill_threshold_bytes = scenario.spill_threshold_bytes,
                                      .bugs = scenario.bugs,
                                      .knobs = knobs});
  std::vector<WorkloadClient*> clients;
  for (int c = 0; c < scenario.clients; ++c) {
    const sim::NodeId id = cluster.first_free_id() + c;
    const sim::NodeId cn = cluster.cns()[c % cluster.cns().size()];
    world.AddClient(id, absl::StrCat("client-", id), [&, c, cn](nodes::NodeEnv& env) {
      auto client = std::make_unique<WorkloadClient>(env, driver, c, cn, scenario.txns_per_client);
      clients.push_back(client.get());
      return client;
    });
  }
  driver.set_running(scenario.clients);
  if (!driver.starts_at_once()) {
    // Setup, before any fault: one transaction that must commit; then the clients start.
    driver.set_running(1);
    sim.Schedule(sim::Duration::Zero(), [&] {
      clients.front()->RunUntilCommitted(driver.setup(), kSetupAttemptsMax, false);
    });
    sim.Run({.time_limit = sim.Now() + kSetupTimeLimit});
    HC_ASSERT_MSG(clients.front()->committed_result().has_value(),
                  "the workload's setup did not commit without faults");
    driver.set_running(scenario.clients);
    for (WorkloadClient* client : clients) {
      sim.Schedule(sim::Duration::Zero(), [client] { client->RunWorkload(); });
    }
  }
  report.plan = RunUnderFaults(world, scenario.plan, scenario.faults, FaultHorizonFor(scenario),
                               scenario.workload_time_limit);
  for (WorkloadClient* client : clients) client->StopWorkload();
  RestartEverything(world);
  SettleUntilServing(world, cluster);
  driver.set_running(1);
  std::vector<nodes::txn::Op> final_read = driver.workload().FinalRead();
  // Room for a few timed-out attempts of a long final read (see kClientTimeoutPerStatement).
  const sim::Duration final_limit =
      std::max(kFinalReadTimeLimit, TimeoutFor(final_read.size()) * 4);
  clients.front()->RunUntilCommitted(std::move(final_read), kFinalReadAttemptsMax, true);
  sim.Run({.time_limit = sim.Now() + final_limit});
  driver.Judge(clients.front()->committed_result());
  driver.JudgeProtocol(cluster.tn_audit().violation());
  driver.history().CloseOpenAsInfo(sim.Now().ns());

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
  report.history_model = driver.workload().model();
  report.history = std::move(driver.history());
  if (report.history_model != HistoryModel::kNone) CheckHistory(scenario, &report);
  if (options.inspect_log) options.inspect_log(sim.log());
  return report;
}

}  // namespace hindcast::properties
