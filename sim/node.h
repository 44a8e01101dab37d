// The node seam: what every simulated process implements.
//
// A node's volatile state lives in its object; a crash destroys the object and a restart
// builds a fresh one from the node's factory, which must then recover from its disk (and
// from its peers). Everything outside the node — time, randomness, network, disk, clock —
// reaches it through interfaces handed to its factory, never through globals, so the same
// node code can run in any number of simulations in one process.
#ifndef HINDCAST_SIM_NODE_H_
#define HINDCAST_SIM_NODE_H_

#include <memory>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "sim/payload.h"
#include "sim/time.h"

namespace hindcast::sim {

class Node {
 public:
  virtual ~Node() = default;
  // Called once after construction, at boot and after every restart: recover here.
  virtual void Start() {}
  // A message from `from`. The payload is the receiver's for the call only; it may take an
  // object body out of it (sim/payload.h).
  virtual void Receive(NodeId from, Payload& payload) = 0;
};

using NodeFactory = absl::AnyInvocable<std::unique_ptr<Node>(NodeId)>;

}  // namespace hindcast::sim

#endif  // HINDCAST_SIM_NODE_H_
