// The workloads of the transaction cluster: what each client transaction does, and the
// invariants its outcomes must keep.
//
//   std::unique_ptr<ClusterWorkload> w = MakeClusterWorkload(scenario);
//   const ClientTurn turn{.index = 0, .node = 9, .txn = 0};
//   std::vector<Op> ops = w->NextTxn(turn, rng);            // Send as one TxnRequest.
//   w->Observe(turn, ops, {.outcome = TxnOutcome::kOk, .reply = &reply, ...});
//   ...                                                      // After every node restarted:
//   w->JudgeFinal(final_reply);                             // A read of w->FinalRead().
//   if (!w->failure().empty()) ...                          // The first broken invariant.
//
// A transaction is a batch of statements (nodes/txn/txn.proto's Op) that the CN runs in
// order. An application-level decision between two transactions (check stock, then take it)
// is a follow-up transaction: NextTxn returns it on the client's next turn.
//
// Every workload checks what it can without a dependency graph, and each check is sound for
// both isolation levels: it fails only on a history no correct RC/SI cluster can produce.
// list-append and register also map their transactions to micro-operations for the
// isolation checker (`model()` and `ToMops`).
#ifndef HINDCAST_PROPERTIES_CLUSTER_WORKLOADS_H_
#define HINDCAST_PROPERTIES_CLUSTER_WORKLOADS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nodes/txn/txn.pb.h"
#include "properties/history.h"
#include "sim/node.h"
#include "sim/random.h"
#include "sim/time.h"

namespace hindcast::properties {

struct ClusterScenario;

// Whose transaction it is: the client's index (0-based), its node, and how many
// transactions it ran before this one.
struct ClientTurn {
  int index = 0;
  sim::NodeId node = 0;
  int txn = 0;
};

enum class TxnOutcome { kOk, kFail, kUnknown };

struct TxnResult {
  TxnOutcome outcome = TxnOutcome::kUnknown;
  const nodes::txn::TxnReply* reply = nullptr;  // Null when the outcome is unknown.
  sim::Instant invoked;
  sim::Instant completed;
};

// Which micro-operation model a workload's history follows, if any.
enum class HistoryModel { kNone, kListAppend, kRwRegister };

class ClusterWorkload {
 public:
  virtual ~ClusterWorkload() = default;

  // Statements committed before the clients and the faults start (initial stock, say).
  virtual std::vector<nodes::txn::Op> Setup() const { return {}; }
  // The client's next transaction.
  virtual std::vector<nodes::txn::Op> NextTxn(const ClientTurn& turn, sim::Rng& rng) = 0;
  // Every transaction's outcome, in completion order.
  virtual void Observe(const ClientTurn& turn, const std::vector<nodes::txn::Op>& ops,
                       const TxnResult& result) = 0;
  // The read-only transaction run once every node has restarted, and its judgement.
  virtual std::vector<nodes::txn::Op> FinalRead() const = 0;
  virtual void JudgeFinal(const nodes::txn::TxnReply& reply) = 0;

  virtual HistoryModel model() const { return HistoryModel::kNone; }
  // The transaction as micro-operations; `reply` (null for an invocation or an unknown
  // outcome) fills in the values read.
  virtual std::vector<Mop> ToMops(const std::vector<nodes::txn::Op>& ops,
                                  const nodes::txn::TxnReply* reply) const {
    return {};
  }

  // The first invariant broken, in one line, and what shows it; empty while none is.
  const std::string& failure() const { return failure_; }
  const std::string& explanation() const { return explanation_; }

 protected:
  // Keeps the first failure only: later ones are usually its consequences.
  void Fail(std::string failure, std::string explanation = "");

 private:
  std::string failure_;
  std::string explanation_;
};

// The workloads this build has: bank counter list-append register inventory profile flight.
const std::vector<std::string_view>& ClusterWorkloadNames();
bool IsClusterWorkload(std::string_view name);
// Asserts `scenario.workload` is one of ClusterWorkloadNames().
std::unique_ptr<ClusterWorkload> MakeClusterWorkload(const ClusterScenario& scenario);

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_CLUSTER_WORKLOADS_H_
