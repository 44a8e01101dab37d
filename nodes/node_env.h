// NodeEnv: the one seam through which a node touches anything outside itself.
//
// A node is constructed with a NodeEnv& and keeps it for its lifetime. Everything it may
// observe or affect — its physical clock, the network, its timers, its disk, its random
// stream, the event log — goes through here, so the same node code could run over another
// environment (a replay driver for retroaction, say) without change. Nodes never see true
// time; only clients, which are the test harness, do.
//
//   void Replica::Start() {
//     env_.SetTimer(Duration::Millis(30), [this] { Retransmit(); });
//     SendMessage(env_, primary, msg);  // see nodes/wire.h
//   }
#ifndef HINDCAST_NODES_NODE_ENV_H_
#define HINDCAST_NODES_NODE_ENV_H_

#include <cstdint>
#include <string>

#include "sim/disk.h"
#include "sim/event_log.h"
#include "sim/payload.h"
#include "sim/random.h"
#include "sim/simulator.h"
#include "sim/time.h"

namespace hindcast::nodes {

class NodeEnv {
 public:
  virtual ~NodeEnv() = default;
  virtual sim::NodeId id() const = 0;
  // This node's physical clock reading in nanoseconds (offset and drift from true time).
  virtual int64_t PhysicalNowNs() = 0;
  virtual void Send(sim::NodeId to, sim::Payload payload) = 0;
  void Send(sim::NodeId to, std::string bytes) { Send(to, sim::Payload(std::move(bytes))); }
  // Timers die with the incarnation that set them.
  virtual sim::TimerId SetTimer(sim::Duration delay, sim::Task task) = 0;
  virtual void CancelTimer(sim::TimerId id) = 0;
  // The node's disk; nullptr for diskless nodes (clients).
  virtual sim::Disk* disk() = 0;
  // The node's random stream; each incarnation gets a fresh child so a restart does not
  // replay the previous incarnation's draws.
  virtual sim::Rng& rng() = 0;
  // Appends an application event at the current time on this node.
  virtual uint64_t Record(sim::Event event) = 0;
  // Fail-stop: the node's process exits and its supervisor starts it again at once, as a
  // new incarnation (fresh volatile state and random stream, the same disk). For a node
  // that learns it was replaced and cannot go on safely, as a real one would exit. It takes
  // effect after the running task; the caller should return and do nothing more.
  virtual void FailStop() = 0;
};

}  // namespace hindcast::nodes

#endif  // HINDCAST_NODES_NODE_ENV_H_
