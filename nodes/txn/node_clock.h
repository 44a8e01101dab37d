// NodeClock: a node's hybrid logical clock over its physical clock, in storage::Timestamp
// terms, with the receive rule applied to every stamped message.
//
//   NodeClock clock(env, {.update_on_receive = !bug});
//   storage::Timestamp ts = clock.Now();    // Local event or send.
//   *msg.mutable_hlc() = clock.Stamp();     // Now(), as a protobuf for the wire.
//   clock.Observe(incoming.hlc());          // Receive rule: our clock passes theirs.
#ifndef HINDCAST_NODES_TXN_NODE_CLOCK_H_
#define HINDCAST_NODES_TXN_NODE_CLOCK_H_

#include "clock/hlc.h"
#include "nodes/node_env.h"
#include "storage/pb_util.h"
#include "storage/timestamp.h"

namespace hindcast::nodes::txn {

inline storage::Timestamp ToTs(clock::HlcTimestamp h) { return {h.l, h.c}; }
inline clock::HlcTimestamp ToHlc(storage::Timestamp t) { return {t.physical_ns, t.logical}; }

class NodeClock {
 public:
  NodeClock(NodeEnv& env, const clock::HlcOptions& options) : env_(env), hlc_(options) {}

  storage::Timestamp Now() { return ToTs(hlc_.Now(env_.PhysicalNowNs())); }
  storage::pb::Timestamp Stamp() { return storage::ToProto(Now()); }
  void Observe(const storage::pb::Timestamp& remote) { Observe(storage::FromProto(remote)); }
  void Observe(storage::Timestamp remote) { hlc_.Receive(ToHlc(remote), env_.PhysicalNowNs()); }
  storage::Timestamp last() const { return ToTs(hlc_.last()); }

 private:
  NodeEnv& env_;
  clock::Hlc hlc_;
};

}  // namespace hindcast::nodes::txn

#endif  // HINDCAST_NODES_TXN_NODE_CLOCK_H_
