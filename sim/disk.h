// The simulated disk of one node: named files, asynchronous I/O with seeded latency, crash
// semantics for unsynced writes, and injectable corruption.
//
//   Disk disk(sim, /*node=*/1, DiskOptions{});
//   disk.Append("wal", EncodeRecord(entry), [this](absl::Status s) { ... });
//   disk.Sync("wal", [this](absl::Status s) { if (s.ok()) AckCommit(); });
//   disk.WriteAndSync("meta", 0, EncodeMeta(m), [this](absl::Status s) { ... });  // Both.
//   disk.Read("wal", 0, *disk.Size("wal"), [this](absl::StatusOr<std::string> bytes) { ... });
//
// Contracts:
// - Write, Append, Read and Sync complete after a latency drawn from the disk's own stream
//   (`sim.root_rng().Child("disk", node)`), in a task owned by the node: if the node crashes
//   first, the operation never happens and its callback is never called. Operations in
//   flight together may complete in any order; issue the next from the callback when order
//   matters. A write takes effect when it completes; Append writes at the end of the file
//   as it is when the append completes (like O_APPEND). A read returns the bytes at its
//   completion, so it sees every write completed before it, synced or not.
// - A Sync's completion makes durable every write to that file that completed before the
//   Sync was issued. Writes completed after the issue stay volatile, even those that complete
//   before the Sync does.
// - WriteAndSync is a log's write-through (O_DSYNC, a FUA write) as one operation and one
//   task, whose latency is a write's plus a sync's, drawn in that order. At completion its
//   write lands and the file is synced: durable are it and every write to the file completed
//   before. Its write point is when a Write alone would have completed. Nothing sees the write
//   before the completion (a read in between does not); a crash after the write point
//   resolves it like a completed unsynced write (below), after the file's completed unsynced
//   writes; a crash before loses it whole. So for a caller that issues nothing else on the
//   file meanwhile, it behaves as a Write whose callback issues the Sync. Its events are the
//   Write's and the Sync's, both at its completion.
// - Size, Exists, Truncate, Delete and List are immediate. File creation (by a write),
//   Truncate and Delete are metadata operations that are durable at once; this is a
//   simplification (no directory fsync is modelled).
//
// Crash model (applied by the simulator's crash observer, draws from the "crash" stream):
// writes in flight are lost whole. Each file's completed-but-unsynced writes are replayed in
// completion order over its durable image, and each one independently, with the weights of
// DiskOptions, is
//   - lost: it leaves no trace;
//   - kept: all its bytes survive;
//   - torn: for each 512-byte sector it touches, a fair coin decides whether the write's
//     bytes in that sector survive, as a unit (a partially covered sector keeps either the
//     old bytes or the new ones for the part the write covered, never a mix).
// A later surviving write overrides an earlier one where they overlap. The file's size
// afterwards is its durable size grown to the end of the last surviving piece; a gap reads as
// zeros. The result becomes both the durable and the volatile image. `last_crash()` reports
// every fate drawn, so tests can rebuild the expected image.
//
// Faults (each off by default, each from its own stream, rates in parts per million, on
// while SetFaults is in force): read corruption flips one bit in the returned bytes (stored
// bytes stay intact); write corruption flips one bit of the bytes stored; a misdirected write
// lands a nonzero whole number of sectors away from its intended offset in the same file
// (keeping its offset within the sector), between the start of the file and one sector past
// its end, and the intended location keeps its old bytes. Every fault is counted and
// recorded in the event log.
//
// Events (node = this disk's node, payload = the file name): each completion is recorded as
// the trigger of its callback's events — kDiskWrite (a = intended offset, b = length),
// kDiskRead (a = offset, b = bytes returned), kDiskSync (a = writes made durable, b = their
// bytes). Faults: kDiskCorrupt (a = file offset of the damaged byte, b = 0 if stored, 1 if
// only the returned copy, 2 if it went bad at rest: RotSector), kDiskMisdirect (a = intended
// offset, b = offset landed), and at a crash kDiskLost per unsynced write that lost bytes (a =
// offset, b = bytes lost).
#ifndef HINDCAST_SIM_DISK_H_
#define HINDCAST_SIM_DISK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sim/random.h"
#include "sim/simulator.h"
#include "sim/string_order.h"
#include "sim/time.h"

namespace hindcast::sim {

// The unit of tearing and of misdirection.
inline constexpr uint64_t kSectorSizeBytes = 512;

struct LatencyRange {
  Duration min;
  Duration max;  // Inclusive; min <= max.
};

struct DiskOptions {
  LatencyRange read_latency = {Duration::Micros(50), Duration::Micros(200)};
  LatencyRange write_latency = {Duration::Micros(50), Duration::Micros(300)};
  LatencyRange sync_latency = {Duration::Micros(500), Duration::Millis(2)};
  // Relative weights of the fates of an unsynced write at a crash; their sum must be > 0.
  uint32_t crash_lost_weight = 1;
  uint32_t crash_kept_weight = 1;
  uint32_t crash_torn_weight = 1;
};

// Each rate is in parts per million of operations of its kind (0 = never, 1'000'000 = always).
struct DiskFaultRates {
  uint32_t read_corrupt_ppm = 0;
  uint32_t write_corrupt_ppm = 0;
  uint32_t misdirect_ppm = 0;
};

struct DiskFaultCounts {
  uint64_t read_corruptions = 0;
  uint64_t write_corruptions = 0;
  uint64_t misdirected_writes = 0;
  // Unsynced writes that a crash lost whole, or tore with at least one sector lost.
  uint64_t crash_lost_writes = 0;
  uint64_t crash_torn_writes = 0;
  uint64_t rotted_sectors = 0;  // RotSector.

  uint64_t total() const {
    return read_corruptions + write_corruptions + misdirected_writes + crash_lost_writes +
           crash_torn_writes + rotted_sectors;
  }
};

enum class CrashFate : uint8_t { kLost, kKept, kTorn };

// What a crash did to one unsynced write (a test hook; see Disk::last_crash).
struct CrashedWrite {
  std::string file;
  uint64_t offset = 0;  // Where the write landed (after any misdirection).
  uint64_t length = 0;
  CrashFate fate = CrashFate::kLost;
  // For kTorn: one entry per sector the write touches, first sector first; true = survived.
  std::vector<bool> sector_kept;
};

class Disk {
 public:
  using StatusCallback = absl::AnyInvocable<void(absl::Status)>;
  using ReadCallback = absl::AnyInvocable<void(absl::StatusOr<std::string>)>;

  // A write past this size fails with kResourceExhausted (the disk's "file too large").
  static constexpr uint64_t kMaxFileSizeBytes = uint64_t{1} << 32;
  static constexpr size_t kMaxFileNameBytes = 255;
  // Creating a file past this count fails with kResourceExhausted.
  static constexpr size_t kMaxFiles = 1 << 16;
  // Programmer-error bounds: a node that never syncs or floods the queue is a bug.
  static constexpr size_t kMaxOpsInFlight = 1 << 20;
  static constexpr size_t kMaxUnsyncedWritesPerFile = 1 << 20;

  // Registers a crash observer with `sim` that applies the crash model when `node` crashes.
  // The observer outlives the disk harmlessly (it is disarmed by the destructor).
  Disk(Simulator& sim, NodeId node, const DiskOptions& options);
  ~Disk();
  Disk(const Disk&) = delete;
  Disk& operator=(const Disk&) = delete;

  // Asynchronous I/O. The node must be up. Callbacks get kInvalidArgument for a bad name,
  // kNotFound when reading or syncing a missing file, kResourceExhausted past the limits.
  // Write creates the file if needed and fills any gap before `offset` with zeros.
  void Write(std::string_view file, uint64_t offset, std::string bytes, StatusCallback done);
  void Append(std::string_view file, std::string bytes, StatusCallback done);
  // Returns the bytes of [offset, offset + length) that exist: short at the end of file.
  void Read(std::string_view file, uint64_t offset, uint64_t length, ReadCallback done);
  void Sync(std::string_view file, StatusCallback done);
  // Write, then Sync of `file`, as one operation (see the contracts above). `done` gets the
  // write's error if it failed (the file is then not synced), else the sync's status.
  void WriteAndSync(std::string_view file, uint64_t offset, std::string bytes, StatusCallback done);

  // Immediate metadata operations (see the contracts above).
  absl::StatusOr<uint64_t> Size(std::string_view file) const;
  bool Exists(std::string_view file) const;
  // Sets the file's size in both images (growing with zeros) and clips unsynced writes.
  [[nodiscard]] absl::Status Truncate(std::string_view file, uint64_t size_bytes);
  [[nodiscard]] absl::Status Delete(std::string_view file);
  // File names in byte order.
  std::vector<std::string> List() const;

  // A latent sector error: one byte of one durable sector goes bad at rest, with no write
  // or read to blame (the sector's checksum catches it on the next read). File, sector and
  // byte come from the disk's "rot" stream, over the files with durable bytes in name
  // order. An unsynced write over that byte still shows its own value until a crash.
  // Returns false (nothing happens) when no file has durable bytes.
  bool RotSector();

  // Faults are active from SetFaults until ClearFaults (or the next SetFaults).
  void SetFaults(const DiskFaultRates& rates);
  void ClearFaults() { SetFaults(DiskFaultRates{}); }
  const DiskFaultRates& fault_rates() const { return rates_; }
  const DiskFaultCounts& fault_counts() const { return counts_; }

  NodeId node() const { return node_; }
  size_t ops_in_flight() const { return ops_in_flight_; }

  // --- Test hooks ------------------------------------------------------------------------
  // The bytes that would survive a crash where every unsynced write is lost, and the bytes a
  // read sees now; nullopt for a missing file. Views are valid until the next operation.
  std::optional<std::string_view> DurableForTest(std::string_view file) const;
  std::optional<std::string_view> VolatileForTest(std::string_view file) const;
  size_t UnsyncedWritesForTest(std::string_view file) const;
  // Every unsynced write the most recent crash resolved, file by file in name order, each
  // file's writes in completion order.
  const std::vector<CrashedWrite>& last_crash() const { return last_crash_; }

 private:
  struct UnsyncedWrite {
    uint64_t seq;  // Disk-wide completion order, from 1.
    uint64_t offset;
    std::string bytes;
  };
  // Invariant: `current` equals `durable` with every write of `unsynced` applied in order.
  struct File {
    std::string durable;
    std::string current;
    std::vector<UnsyncedWrite> unsynced;  // Ascending seq.
  };
  enum class OpKind : uint8_t { kWrite, kAppend, kRead, kSync, kWriteAndSync };
  // An operation in flight. Slots are pooled so the scheduled task captures only an index
  // (and fits the task's inline storage); a slot's name buffer is reused.
  struct Op {
    OpKind kind = OpKind::kWrite;
    bool in_use = false;
    std::string file;
    uint64_t offset = 0;
    uint64_t length = 0;
    uint64_t sync_watermark = 0;  // For kSync: last write seq completed at issue.
    Instant write_point;          // For kWriteAndSync (see the contracts).
    uint64_t issue_seq = 0;       // For kWriteAndSync: disk-wide issue order.
    std::string bytes;
    StatusCallback status_done;
    ReadCallback read_done;
  };

  uint32_t StartOp(OpKind kind, std::string_view file);
  void ScheduleOp(uint32_t slot, const LatencyRange& latency);
  void FreeOp(uint32_t slot);
  void Complete(uint32_t slot);
  absl::Status CompleteWrite(Op& op);
  // The part of CompleteWrite after its event: checks, fault draws, and the write landing
  // as the file's newest unsynced write. `file` is op.file's, or null if it does not exist.
  absl::Status LandWrite(Op& op, File* file, uint64_t offset);
  absl::StatusOr<std::string> CompleteRead(Op& op);
  absl::Status CompleteSync(Op& op);
  // Applies fault draws to a write about to land at `*offset`; may move it or flip a bit.
  void InjectWriteFaults(const File& file, std::string_view name, uint64_t* offset,
                         std::string& bytes);
  CrashFate DrawCrashFate();
  // Replays `file`'s unsynced writes over its durable image under the crash model.
  void CrashFile(const std::string& name, File& file);
  // Lands the WriteAndSync operations in flight past their write point, in that order.
  void LandWritesPastTheirPoint();
  void OnCrash();

  File* FindFile(std::string_view name);
  const File* FindFile(std::string_view name) const;

  Simulator& sim_;
  const NodeId node_;
  const DiskOptions options_;
  Rng latency_rng_;
  Rng crash_rng_;
  Rng read_fault_rng_;
  Rng write_fault_rng_;
  Rng misdirect_rng_;
  Rng rot_rng_;
  DiskFaultRates rates_;
  DiskFaultCounts counts_;
  uint64_t completed_writes_ = 0;  // The seq of the last completed write.
  uint64_t issued_write_syncs_ = 0;
  absl::btree_map<std::string, File, StringOrder> files_;
  std::vector<Op> ops_;
  std::vector<uint32_t> free_ops_;
  size_t ops_in_flight_ = 0;
  std::vector<CrashedWrite> last_crash_;
  // Shared with the crash observer; nulled by the destructor so the observer disarms.
  std::shared_ptr<Disk*> self_;
};

// One disk per node, owned together, e.g. by a cluster harness that outlives node restarts.
class DiskSet {
 public:
  DiskSet(Simulator& sim, const DiskOptions& options) : sim_(sim), options_(options) {}

  Disk& Add(NodeId node);  // Once per node.
  Disk& disk(NodeId node);
  bool Has(NodeId node) const { return disks_.contains(node); }
  void SetFaults(const DiskFaultRates& rates);
  void ClearFaults() { SetFaults(DiskFaultRates{}); }
  // Sum over all disks: the faults this run actually applied.
  DiskFaultCounts TotalFaultCounts() const;

 private:
  Simulator& sim_;
  DiskOptions options_;
  absl::btree_map<NodeId, std::unique_ptr<Disk>> disks_;
};

}  // namespace hindcast::sim

#endif  // HINDCAST_SIM_DISK_H_
