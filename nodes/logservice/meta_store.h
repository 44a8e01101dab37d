// MetaStore: a replica's Raft hard state (term, vote) and log bookkeeping (log file
// generation, synced watermark, vote barrier) in checksummed 512-byte sectors of one file.
//
//   MetaStore meta(env);
//   meta.Load([&](const MetaStore::Loaded& l) { if (l.outcome == MetaStore::kLost) ...; });
//   meta.Write(state, [&] { /* `state` is synced and read back intact */ });
//
// Layout: two slots, sectors 0 and 1, each holding one framed `Meta` record with a version
// that grows with every write. A write goes to the slot that does not hold the newest
// verified record, is synced and read back, and is rewritten (to the same slot) until it
// reads back intact, so the newest verified record always survives in the other slot: a
// crash tears at most the slot being written (one sector is torn as a unit), and a write
// corruption damages only that slot. A misdirected write moves a whole sector, so it lands
// a valid (newer) record somewhere else in the file; Load therefore takes the highest
// version among the valid records of every sector, whatever slot they sit in. Read
// corruption is transient: Load reads the file again when a sector fails to decode.
//
// Load reports kFresh when the file is missing or all zeros (nothing was ever verified, so
// nothing was ever acted upon), kLost when bytes exist but no sector holds a valid record
// (only a write both misdirected and corrupted over the last verified copy does that: the
// fault model's double fault, see replica.h), and kLoaded otherwise.
#ifndef HINDCAST_NODES_LOGSERVICE_META_STORE_H_
#define HINDCAST_NODES_LOGSERVICE_META_STORE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "nodes/logservice/logservice.pb.h"
#include "nodes/node_env.h"

namespace hindcast::nodes::logservice {

inline constexpr char kMetaFile[] = "raft.meta";

class MetaStore {
 public:
  enum Outcome { kFresh, kLoaded, kLost };
  struct Loaded {
    Outcome outcome = kFresh;
    Meta meta;  // Default values unless kLoaded.
  };

  explicit MetaStore(NodeEnv& env) : env_(env) {}

  void Load(absl::AnyInvocable<void(const Loaded&)> done);
  // One write at a time, after Load. `meta.version` is assigned here.
  void Write(Meta meta, absl::AnyInvocable<void()> done);
  bool writing() const { return writing_; }

  // The newest valid record in `file_bytes`, scanning every sector; nullopt if none.
  // Exposed for tests.
  static std::optional<Meta> Scan(std::string_view file_bytes);

 private:
  void LoadAttempt(int attempt, Loaded best, absl::AnyInvocable<void(const Loaded&)> done);
  void WriteSlot();

  NodeEnv& env_;
  bool writing_ = false;
  uint64_t version_ = 0;   // Of the newest record known to be on disk.
  int verified_slot_ = 1;  // Holds the newest verified record; writes go to the other.
  Meta target_;
  std::string target_bytes_;
  absl::AnyInvocable<void()> done_;
};

}  // namespace hindcast::nodes::logservice

#endif  // HINDCAST_NODES_LOGSERVICE_META_STORE_H_
