#include "nodes/txn/cluster.h"

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nodes/logservice/replica.h"
#include "nodes/objectstore/object_server.h"
#include "nodes/txn/lock_service.h"
#include "nodes/txn/tn.h"
#include "sim/assert.h"

namespace hindcast::nodes::txn {
namespace {

// Leaves `knob` at its default with probability 1/2, else sets it to one of `others`.
template <typename T>
void Perturb(sim::Rng& rng, T& knob, std::span<const T> others) {
  if (rng.Chance(1, 2)) knob = others[rng.Uniform(others.size())];
}

void Perturb(sim::Rng& rng, sim::Duration& knob, std::initializer_list<int64_t> millis) {
  std::vector<sim::Duration> others;
  for (int64_t ms : millis) others.push_back(sim::Duration::Millis(ms));
  Perturb<sim::Duration>(rng, knob, others);
}

template <typename T>
void Perturb(sim::Rng& rng, T& knob, std::initializer_list<T> others) {
  Perturb<T>(rng, knob, std::span<const T>(others.begin(), others.size()));
}

template <typename T>
void DescribeKnob(std::string& out, const char* name, const T& value, const T& default_value) {
  if (value == default_value) return;
  if constexpr (std::is_same_v<T, sim::Duration>) {
    absl::StrAppend(&out, out.empty() ? "" : " ", name, "=", value.ToString());
  } else {
    absl::StrAppend(&out, out.empty() ? "" : " ", name, "=", value);
  }
}

}  // namespace

ClusterKnobs ClusterKnobs::Random(sim::Rng& rng) {
  ClusterKnobs k;
  // The draw order is fixed: a knob added later goes last, so older ones keep their draws.
  Perturb(rng, k.tn_heartbeat, {5, 50});
  Perturb(rng, k.flush_interval, {20, 60, 1000});
  Perturb<size_t>(rng, k.batch_requests_max, {1, 2, 8});
  Perturb(rng, k.lock_wait_max, {30, 100, 1500});
  Perturb(rng, k.lock_retry, {5, 20});
  Perturb(rng, k.watermark_wait_max, {100, 300});
  Perturb(rng, k.commit_retry, {10, 30, 400});
  // Above two TN heartbeats, however the heartbeat was drawn.
  k.resubscribe_after = std::max(k.resubscribe_after, k.tn_heartbeat * 3);
  Perturb(rng, k.raft_tick, {2, 5, 25});
  Perturb(rng, k.heartbeat_ticks, {1, 2, 5});
  // Election timeouts are drawn from [min, max]; Raft needs that window wide (its paper
  // draws from [T, 2T]): with max = min, replicas that time out together split the vote
  // forever. So max is min times 3/2, 2 (the default) or 4, and at most 1.2 s (etcd's
  // default is 1 s), so a run's phases, which wait seconds for the cluster to serve again,
  // never wait on one election alone.
  Perturb(rng, k.election_ticks_min, {6, 10, 40});
  k.election_ticks_min = std::max(k.election_ticks_min, 2 * (k.heartbeat_ticks + 1));
  int window_halves = 4;  // max = min * window_halves / 2.
  Perturb(rng, window_halves, {3, 8});
  const int ticks_cap = static_cast<int>(sim::Duration::Millis(1200).ns() / k.raft_tick.ns());
  k.election_ticks_max = std::min(k.election_ticks_min * window_halves / 2, ticks_cap);
  k.election_ticks_min = std::min(k.election_ticks_min, k.election_ticks_max * 2 / window_halves);
  Perturb<size_t>(rng, k.max_entries_per_message, {1, 2, 8});
  Perturb<uint32_t>(rng, k.max_entries_per_read, {1, 3, 16});
  Perturb(rng, k.bind_retry, {5, 200});
  Perturb(rng, k.orphan_after, {20, 500});
  Perturb<size_t>(rng, k.last_commit_generation, {1, 2, 16});
  return k;
}

std::string ClusterKnobs::Describe() const {
  const ClusterKnobs d;
  std::string out;
  DescribeKnob(out, "tn_heartbeat", tn_heartbeat, d.tn_heartbeat);
  DescribeKnob(out, "flush_interval", flush_interval, d.flush_interval);
  DescribeKnob(out, "batch_requests_max", batch_requests_max, d.batch_requests_max);
  DescribeKnob(out, "lock_wait_max", lock_wait_max, d.lock_wait_max);
  DescribeKnob(out, "lock_retry", lock_retry, d.lock_retry);
  DescribeKnob(out, "watermark_wait_max", watermark_wait_max, d.watermark_wait_max);
  DescribeKnob(out, "commit_retry", commit_retry, d.commit_retry);
  DescribeKnob(out, "resubscribe_after", resubscribe_after, d.resubscribe_after);
  DescribeKnob(out, "raft_tick", raft_tick, d.raft_tick);
  DescribeKnob(out, "election_ticks_min", election_ticks_min, d.election_ticks_min);
  DescribeKnob(out, "election_ticks_max", election_ticks_max, d.election_ticks_max);
  DescribeKnob(out, "heartbeat_ticks", heartbeat_ticks, d.heartbeat_ticks);
  DescribeKnob(out, "max_entries_per_message", max_entries_per_message, d.max_entries_per_message);
  DescribeKnob(out, "max_entries_per_read", max_entries_per_read, d.max_entries_per_read);
  DescribeKnob(out, "bind_retry", bind_retry, d.bind_retry);
  DescribeKnob(out, "orphan_after", orphan_after, d.orphan_after);
  DescribeKnob(out, "last_commit_generation", last_commit_generation, d.last_commit_generation);
  return out;
}

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
      const ClusterKnobs& k = options.knobs;
      return std::make_unique<logservice::Replica>(
          env, logservice::ReplicaOptions{.members = log_replicas_,
                                          .tick = k.raft_tick,
                                          .election_ticks_min = k.election_ticks_min,
                                          .election_ticks_max = k.election_ticks_max,
                                          .heartbeat_ticks = k.heartbeat_ticks,
                                          .max_entries_per_message = k.max_entries_per_message,
                                          .max_entries_per_read = k.max_entries_per_read,
                                          .ack_before_quorum = options.bugs.ack_before_quorum});
    });
  }
  world.AddServer(object_store, "object-store", [](NodeEnv& env) {
    return std::make_unique<objectstore::ObjectServer>(env, objectstore::ObjectServerOptions{});
  });
  world.AddServer(tn, "tn", [this, options, object_store, hlc](NodeEnv& env) {
    return std::make_unique<Tn>(env,
                                TnOptions{.log_replicas = log_replicas_,
                                          .object_store = object_store,
                                          .heartbeat_interval = options.knobs.tn_heartbeat,
                                          .flush_interval = options.knobs.flush_interval,
                                          .batch_requests_max = options.knobs.batch_requests_max,
                                          .hlc = hlc,
                                          .audit = &tn_audit_});
  });
  world.AddServer(lock_service, "lock-service", [options, tn, hlc](NodeEnv& env) {
    return std::make_unique<LockService>(
        env, LockServiceOptions{.tn = tn,
                                .bug_lock_forget_on_restart = options.bugs.lock_forget_on_restart,
                                .bind_retry = options.knobs.bind_retry,
                                .orphan_after = options.knobs.orphan_after,
                                .last_commit_generation = options.knobs.last_commit_generation,
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
                                         .lock_wait_max = options.knobs.lock_wait_max,
                                         .lock_retry = options.knobs.lock_retry,
                                         .watermark_wait_max = options.knobs.watermark_wait_max,
                                         .commit_retry = options.knobs.commit_retry,
                                         .resubscribe_after = options.knobs.resubscribe_after,
                                         .bugs = options.bugs.cn,
                                         .hlc = hlc});
                    });
  }
}

}  // namespace hindcast::nodes::txn
