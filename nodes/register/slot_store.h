// SlotStore: a replica's durable register state in two checksummed, self-locating slots.
//
//   store.Persist(state, [this](const RegState& s) { durable_ = s.version; });
//   store.Load([this](const SlotStore::Loaded& l) { ... l.state, l.valid ... });
//
// Writes alternate between two 512-byte slots (one sector each, so a crash tears a slot
// only as a whole), like the redundant superblock copies of TigerBeetle. Each record names
// its own slot, so a misdirected write that lands on the other slot is detected; a write
// that never reached its slot is caught by reading it back after the sync and retrying. A
// Persist therefore calls back only once the state is durable and verified. Load takes the
// newest valid slot; `valid` is false when a slot was corrupt beyond a few re-reads, in
// which case this replica's vote must not count in a recovery quorum.
#ifndef HINDCAST_NODES_REGISTER_SLOT_STORE_H_
#define HINDCAST_NODES_REGISTER_SLOT_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "nodes/node_env.h"

namespace hindcast::nodes::reg {

struct RegState {
  uint64_t epoch = 0;
  uint64_t version = 0;
  std::optional<int64_t> value;
};

class SlotStore {
 public:
  struct Loaded {
    RegState state;
    bool valid = true;
  };

  explicit SlotStore(NodeEnv& env) : env_(env) {}

  // One Persist at a time; `done` runs once `state` is durable and read back intact.
  void Persist(const RegState& state, absl::AnyInvocable<void(const RegState&)> done);
  void Load(absl::AnyInvocable<void(const Loaded&)> done);
  bool persisting() const { return persisting_; }

 private:
  struct SlotRead {
    bool empty = false;
    bool ok = false;
    RegState state;
  };
  void WriteSlot();
  void LoadSlot(int slot, int attempt, absl::AnyInvocable<void(SlotRead)> done);
  static SlotRead DecodeSlot(int slot, std::string_view bytes);

  NodeEnv& env_;
  bool persisting_ = false;
  uint64_t writes_ = 0;  // Chooses the slot; survives only in memory, any choice is safe.
  RegState target_;
  std::string target_bytes_;
  absl::AnyInvocable<void(const RegState&)> done_;
};

}  // namespace hindcast::nodes::reg

#endif  // HINDCAST_NODES_REGISTER_SLOT_STORE_H_
