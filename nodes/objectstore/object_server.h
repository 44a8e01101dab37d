// ObjectServer: an S3-like object store node over its own simulated disk.
//
//   world.AddServer(kStore, "object-store", [&](NodeEnv& env) {
//     return std::make_unique<objectstore::ObjectServer>(env, ObjectServerOptions{});
//   });
//   // Elsewhere, a node embeds an ObjectClient (object_client.h) to talk to it.
//
// Semantics. Objects are immutable: a put of a key that exists succeeds only if the bytes
// are identical (so a retried put is idempotent) and otherwise fails with ALREADY_EXISTS.
// A put is acknowledged once the object is synced to disk. Get, list (by prefix, in byte
// order) and delete behave as in S3. Each object is one disk file holding a checksummed
// record, so disk corruption shows as DATA_LOSS, never as wrong bytes. After a restart the
// server rebuilds its index from the disk's file list.
//
// Faults, each from the node's seeded stream: SLOW_DOWN refusals (nothing happened), and
// lost replies — the operation took effect but the reply is never sent, so the caller
// times out with an ambiguous outcome it must handle (the classic S3 put whose 200 OK was
// lost). Both are off unless ObjectServerOptions or SetFaults turn them on.
#ifndef HINDCAST_NODES_OBJECTSTORE_OBJECT_SERVER_H_
#define HINDCAST_NODES_OBJECTSTORE_OBJECT_SERVER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/btree_set.h"
#include "nodes/node_env.h"
#include "nodes/objectstore/objectstore.pb.h"
#include "sim/node.h"

namespace hindcast::nodes::objectstore {

struct ObjectServerFaults {
  uint32_t slow_down_ppm = 0;   // Requests refused with SLOW_DOWN.
  uint32_t lost_reply_ppm = 0;  // Completed requests whose reply is never sent.
};

struct ObjectServerOptions {
  ObjectServerFaults faults;
};

class ObjectServer : public sim::Node {
 public:
  // Objects larger than this are refused (a caller bug, not a fault): keeps runs bounded.
  static constexpr size_t kObjectSizeBytesMax = 64 << 20;
  static constexpr size_t kKeySizeBytesMax = 1024;

  ObjectServer(NodeEnv& env, const ObjectServerOptions& options);
  void Start() override;
  void Receive(sim::NodeId from, sim::Payload& payload) override;

  // Test and fault-plan hook: change the fault rates of this incarnation.
  void SetFaults(const ObjectServerFaults& faults) { options_.faults = faults; }
  size_t object_count() const { return keys_.size(); }

 private:
  void OnPut(sim::NodeId from, const PutRequest& r);
  void OnGet(sim::NodeId from, const GetRequest& r);
  void OnList(sim::NodeId from, const ListRequest& r);
  void OnDelete(sim::NodeId from, const DeleteRequest& r);
  void Reply(sim::NodeId to, uint64_t req, Response::Code code, std::string data = {});
  void Store(const std::string& key, std::string bytes, absl::AnyInvocable<void()> done);
  void Send(sim::NodeId to, const Response& response);
  // Start-up: settles whether object file `key` holds an object (see the definition).
  void RecoverFile(std::string key, std::optional<std::string> last_bad, int attempt,
                   std::shared_ptr<size_t> pending);
  // Reads object `key` and calls back with its payload or a failure code.
  void Load(const std::string& key, absl::AnyInvocable<void(Response::Code, std::string)> done);

  NodeEnv& env_;
  ObjectServerOptions options_;
  bool ready_ = false;  // The index is rebuilt; requests before that get SLOW_DOWN.
  absl::btree_set<std::string> keys_;
  // Keys with a put in flight: a concurrent put of the same key waits for the first.
  absl::btree_set<std::string> putting_;
};

// The disk file name of object `key` (keys may hold any bytes; file names are hex).
std::string ObjectFileName(std::string_view key);

}  // namespace hindcast::nodes::objectstore

#endif  // HINDCAST_NODES_OBJECTSTORE_OBJECT_SERVER_H_
