#include "nodes/txn/cluster.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "nodes/logservice/replica.h"
#include "nodes/objectstore/object_server.h"
#include "nodes/txn/lock_service.h"
#include "nodes/txn/tn.h"
#include "sim/assert.h"

namespace hindcast::nodes::txn {

Cluster::Cluster(World& world, const ClusterOptions& options)
    : layout_{.log_replicas = options.log_replicas} {
  HC_ASSERT(options.cns >= 1);
  HC_ASSERT_MSG(options.log_replicas >= 1 && options.log_replicas % 2 == 1,
                "the log service needs an odd number of replicas");
  const clock::HlcOptions hlc{.update_on_receive = !options.bugs.hlc_no_update_on_receive};
  for (int i = 0; i < options.log_replicas; ++i) log_replicas_.push_back(i);
  // Raft survives one replica that lost synced entries (it may not vote until caught up).
  if (options.log_replicas >= 3) world.set_rot_tolerant(log_replicas_);
  const sim::NodeId object_store = layout_.object_store();
  const sim::NodeId tn = layout_.tn();
  const sim::NodeId lock_service = layout_.lock_service();
  for (sim::NodeId id : log_replicas_) {
    world.AddServer(id, absl::StrCat("log-", id), [this, options](NodeEnv& env) {
      return std::make_unique<logservice::Replica>(
          env, logservice::ReplicaOptions{.members = log_replicas_,
                                          .ack_before_quorum = options.bugs.ack_before_quorum});
    });
  }
  world.AddServer(object_store, "object-store", [](NodeEnv& env) {
    return std::make_unique<objectstore::ObjectServer>(env, objectstore::ObjectServerOptions{});
  });
  world.AddServer(tn, "tn", [this, object_store, hlc](NodeEnv& env) {
    return std::make_unique<Tn>(env, TnOptions{.log_replicas = log_replicas_,
                                               .object_store = object_store,
                                               .hlc = hlc,
                                               .audit = &tn_audit_});
  });
  world.AddServer(lock_service, "lock-service", [options, tn, hlc](NodeEnv& env) {
    return std::make_unique<LockService>(
        env, LockServiceOptions{.tn = tn,
                                .bug_lock_forget_on_restart = options.bugs.lock_forget_on_restart,
                                .hlc = hlc});
  });
  for (int i = 0; i < options.cns; ++i) {
    const sim::NodeId id = layout_.first_cn() + i;
    cns_.push_back(id);
    world.AddServer(id, absl::StrCat("cn-", id),
                    [options, object_store, tn, lock_service, hlc](NodeEnv& env) {
                      return std::make_unique<Cn>(
                          env, CnOptions{.tn = tn,
                                         .object_store = object_store,
                                         .lock_service = lock_service,
                                         .isolation = options.isolation,
                                         .mode = options.mode,
                                         .spill_threshold_bytes = options.spill_threshold_bytes,
                                         .bugs = options.bugs.cn,
                                         .hlc = hlc});
                    });
  }
}

}  // namespace hindcast::nodes::txn
