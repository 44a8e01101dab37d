#include "nodes/txn/cluster.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "nodes/logservice/replica.h"
#include "nodes/objectstore/object_server.h"
#include "nodes/txn/lock_service.h"
#include "nodes/txn/tn.h"
#include "sim/assert.h"

namespace hindcast::nodes::txn {

Cluster::Cluster(World& world, const ClusterOptions& options) {
  HC_ASSERT(options.cns >= 1);
  const clock::HlcOptions hlc{.update_on_receive = !options.bugs.hlc_no_update_on_receive};
  for (sim::NodeId id : log_replicas_) {
    world.AddServer(id, absl::StrCat("log-", id), [this, options](NodeEnv& env) {
      return std::make_unique<logservice::Replica>(
          env, logservice::ReplicaOptions{.members = log_replicas_,
                                          .ack_before_quorum = options.bugs.ack_before_quorum});
    });
  }
  world.AddServer(kObjectStore, "object-store", [](NodeEnv& env) {
    return std::make_unique<objectstore::ObjectServer>(env, objectstore::ObjectServerOptions{});
  });
  world.AddServer(kTn, "tn", [this, hlc](NodeEnv& env) {
    return std::make_unique<Tn>(
        env, TnOptions{.log_replicas = log_replicas_, .object_store = kObjectStore, .hlc = hlc});
  });
  world.AddServer(kLockService, "lock-service", [options, hlc](NodeEnv& env) {
    return std::make_unique<LockService>(
        env, LockServiceOptions{.tn = kTn,
                                .bug_lock_forget_on_restart = options.bugs.lock_forget_on_restart,
                                .hlc = hlc});
  });
  for (int i = 0; i < options.cns; ++i) {
    const sim::NodeId id = kFirstCn + i;
    cns_.push_back(id);
    world.AddServer(id, absl::StrCat("cn-", id), [options, hlc](NodeEnv& env) {
      return std::make_unique<Cn>(env,
                                  CnOptions{.tn = kTn,
                                            .object_store = kObjectStore,
                                            .lock_service = kLockService,
                                            .isolation = options.isolation,
                                            .mode = options.mode,
                                            .spill_threshold_bytes = options.spill_threshold_bytes,
                                            .bugs = options.bugs.cn,
                                            .hlc = hlc});
    });
  }
}

}  // namespace hindcast::nodes::txn
