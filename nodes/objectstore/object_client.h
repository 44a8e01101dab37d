// ObjectClient: the object store as seen from a node that embeds it (the TN flushing, a CN
// spilling its workspace). It retries SLOW_DOWN and timeouts with backoff, and it reports
// an outcome it cannot know as such.
//
//   ObjectClient store(env, kStoreNode, {});
//   void MyNode::Receive(NodeId from, Payload& payload) {
//     if (store.Receive(from, payload)) return;  // A reply from the object store.
//     ...
//   }
//   store.Put("flush/0001", bytes, [](absl::Status s) {
//     // OK: durable. DeadlineExceeded: the outcome is unknown (a reply may have been lost
//     // after the put succeeded): a retried Put of the same bytes is safe, objects being
//     // immutable. Other errors: it did not happen.
//   });
//
// Callbacks run on the owning node and die with it (timers are the node's).
#ifndef HINDCAST_NODES_OBJECTSTORE_OBJECT_CLIENT_H_
#define HINDCAST_NODES_OBJECTSTORE_OBJECT_CLIENT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nodes/node_env.h"
#include "nodes/objectstore/objectstore.pb.h"

namespace hindcast::nodes::objectstore {

struct ObjectClientOptions {
  sim::Duration timeout = sim::Duration::Millis(50);
  sim::Duration backoff = sim::Duration::Millis(5);  // Doubles per attempt.
  int attempts_max = 6;
};

class ObjectClient {
 public:
  ObjectClient(NodeEnv& env, sim::NodeId server, const ObjectClientOptions& options);
  ObjectClient(const ObjectClient&) = delete;
  ObjectClient& operator=(const ObjectClient&) = delete;

  void Put(std::string key, std::string data, absl::AnyInvocable<void(absl::Status)> done);
  void Get(std::string key, absl::AnyInvocable<void(absl::StatusOr<std::string>)> done);
  void List(std::string prefix,
            absl::AnyInvocable<void(absl::StatusOr<std::vector<std::string>>)> done);
  void Delete(std::string key, absl::AnyInvocable<void(absl::Status)> done);

  // Consumes `bytes` if they are a reply from the object store; returns whether it did.
  bool Receive(sim::NodeId from, sim::Payload& payload);
  size_t in_flight() const { return calls_.size(); }

 private:
  struct Call {
    Message request;  // Its req field is rewritten per attempt.
    int attempt = 0;
    bool timed_out = false;  // Some attempt's outcome is unknown.
    sim::TimerId timer;
    // Called once: with the reply, or nullptr when it gave up after a timeout.
    absl::AnyInvocable<void(const Response*)> done;
  };
  void Start(Message request, absl::AnyInvocable<void(const Response*)> done);
  void Attempt(uint64_t call_id);
  void Retry(uint64_t call_id);

  NodeEnv& env_;
  sim::NodeId server_;
  ObjectClientOptions options_;
  uint64_t next_id_;                            // Random high half per incarnation | a counter.
  absl::btree_map<uint64_t, Call> calls_;       // By call id.
  absl::btree_map<uint64_t, uint64_t> by_req_;  // Attempt req -> call id.
};

}  // namespace hindcast::nodes::objectstore

#endif  // HINDCAST_NODES_OBJECTSTORE_OBJECT_CLIENT_H_
