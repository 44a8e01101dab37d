// A client session of the demo register: the test harness's hand on the system.
//
// Each client runs `ops_max` operations one at a time against the primary — a write of a
// value unique to the run, or a read — with a seeded think time between them. Every
// operation is reported to the HistoryRecorder at invocation and at completion: ok on an OK
// reply, fail on UNAVAILABLE (the primary refused it, so it did not happen), info on a
// timeout (it may or may not have happened). Clients are never crashed.
#ifndef HINDCAST_NODES_REGISTER_CLIENT_H_
#define HINDCAST_NODES_REGISTER_CLIENT_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "nodes/node_env.h"
#include "sim/node.h"

namespace hindcast::nodes::reg {

// Receives the client history; implemented by properties/ (which owns the History).
class HistoryRecorder {
 public:
  enum class Outcome { kOk, kFail, kInfo };
  virtual ~HistoryRecorder() = default;
  // Returns a handle for the completion.
  virtual uint64_t Invoke(sim::NodeId process, bool is_write, std::optional<int64_t> value) = 0;
  virtual void Complete(uint64_t handle, Outcome outcome, std::optional<int64_t> read_value) = 0;
  virtual void ClientFinished(sim::NodeId process) = 0;
};

struct ClientOptions {
  int ops_max = 30;
  sim::Duration think_max = sim::Duration::Millis(20);
  sim::Duration timeout = sim::Duration::Millis(200);
};

class Client : public sim::Node {
 public:
  Client(NodeEnv& env, HistoryRecorder& recorder, const ClientOptions& options);
  void Start() override;
  void Receive(sim::NodeId from, sim::Payload& payload) override;
  // After the workload: read until a read succeeds (each attempt is its own operation).
  void FinalRead(int attempts_max);

 private:
  void Issue(bool is_write);
  void Finish(HistoryRecorder::Outcome outcome, std::optional<int64_t> read_value);
  void ScheduleNext();

  NodeEnv& env_;
  HistoryRecorder& recorder_;
  ClientOptions options_;
  int ops_done_ = 0;
  uint64_t next_req_ = 1;
  // The operation in flight, if any.
  uint64_t req_ = 0;
  uint64_t handle_ = 0;
  sim::TimerId timeout_;
  int final_reads_left_ = 0;
};

}  // namespace hindcast::nodes::reg

#endif  // HINDCAST_NODES_REGISTER_CLIENT_H_
