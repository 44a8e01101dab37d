// Immutable objects: the sorted runs of versions the TN flushes to the object store, and the
// spills of a CN transaction's workspace.
//
//   ObjectWriter writer = ObjectWriter::ForFlush();
//   writer.Add("a", Timestamp{20, 0}, "new");
//   writer.Add("a", Timestamp{10, 0}, "old");         // One key: newest first.
//   writer.Add("b", Timestamp{15, 0}, std::nullopt);  // A tombstone.
//   const std::string bytes = std::move(writer).Finish();
//   absl::StatusOr<ObjectReader> reader = ObjectReader::Open(bytes);  // Checks everything.
//   reader->Get("a", Timestamp{20, 0});  // {"a", 10.0, "old"}: commit 20 is not below 20.
//
// Entry order: key ascending, then commit ts descending (newest first, as LevelDB's internal
// keys), no two entries with one (key, commit ts). A point read at a snapshot stops at the
// first entry of its key below the snapshot, and VersionedTable::ForEachVersion produces
// exactly this order, so a flush is a straight copy.
//
// Kinds. A flush object (ObjectKind::kFlush) holds committed versions, each with its
// committable commit ts. A spill object (ObjectKind::kSpill) holds the uncommitted writes
// of one transaction, named by the TxnId in its footer: at most one entry per key (the
// transaction's latest write), and every entry's commit ts is Timestamp::Max(), the reserved
// "no commit ts yet". Such entries are below no snapshot, so Get never returns them; their
// transaction reads its own writes with GetNewest. One entry layout serves both kinds, and
// Open checks each kind's rule, so a spill entry can never pass for a committed one.
//
// Layout (integers little-endian):
//   [block 0 frame] ... [block n-1 frame] [footer] [u32 footer length] [u32 masked crc]
//   [u64 kObjectMagic]
// Each block frame is record.h framing (length, CRC32C, payload) around a pb::ObjectBlock
// (storage/object.proto). The footer is a pb::ObjectFooter: format version, kind, txn id,
// the object's total size (so a cut is caught even where it leaves a valid-looking tail),
// entry count, min/max key, min/max commit ts and the block index (offset, size, entry
// count, first and last key of each block). The trailer's crc is the masked CRC32C of the
// four footer length bytes followed by the footer, as a record.h frame header would hold.
// Protobuf payloads are serialized deterministically, so equal contents give equal bytes.
//
// What Open catches: a short file, a bad magic, a footer length or checksum that does not
// check out, an unparsable footer or block, blocks that do not tile the bytes before the
// footer, a block failing its checksum, a block disagreeing with its index entry (so a valid
// block from elsewhere is caught unless its size, count and first and last keys all match),
// entries out of order or breaking their kind's commit ts rule, and footer totals that
// disagree with the entries. Any single flipped bit or any truncation fails Open.
#ifndef HINDCAST_STORAGE_OBJECT_H_
#define HINDCAST_STORAGE_OBJECT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "storage/timestamp.h"
#include "storage/txn_id.h"

namespace hindcast::storage {

inline constexpr uint64_t kObjectMagic = 0x3130'564a'424f'4348ull;  // "HCOBJV01" on disk.
inline constexpr uint32_t kObjectFormatVersion = 1;
inline constexpr size_t kObjectTrailerBytes = 16;
inline constexpr size_t kBlockTargetBytesDefault = 4096;
inline constexpr size_t kBlockTargetBytesMax = size_t{1} << 20;
// Entry limits keep every block frame below record.h's kMaxRecordBytes: a block closes once
// it reaches its target, so it holds at most the target plus one entry.
inline constexpr size_t kObjectKeyBytesMax = size_t{64} << 10;
inline constexpr size_t kObjectValueBytesMax = size_t{16} << 20;

enum class ObjectKind : uint8_t {
  kFlush = 1,  // Committed versions, flushed by the TN.
  kSpill = 2,  // One transaction's uncommitted writes, spilled by its CN's workspace.
};
std::string_view ObjectKindName(ObjectKind kind);

struct ObjectEntry {
  std::string key;
  Timestamp commit_ts;               // Timestamp::Max() in spill objects.
  std::optional<std::string> value;  // nullopt: a tombstone.

  bool operator==(const ObjectEntry&) const = default;
};
std::ostream& operator<<(std::ostream& os, const ObjectEntry& entry);  // For test messages.

// One block's entry in an object's index.
struct ObjectBlockHandle {
  size_t offset = 0;      // Of the block's frame, from the object's start.
  size_t size_bytes = 0;  // Of the whole frame, header included.
  size_t entry_count = 0;
  std::string first_key;
  std::string last_key;

  bool operator==(const ObjectBlockHandle&) const = default;
};

struct ObjectWriterOptions {
  // A block is closed once its entries' encoded size reaches this. In (0, kBlockTargetBytesMax].
  size_t block_target_bytes = kBlockTargetBytesDefault;
};

// Builds one object in memory. Entries must arrive in the entry order above; out-of-order
// entries, limit overruns and wrong-kind calls are caller bugs and assert.
class ObjectWriter {
 public:
  static ObjectWriter ForFlush(const ObjectWriterOptions& options = {});
  static ObjectWriter ForSpill(TxnId txn, const ObjectWriterOptions& options = {});

  // Flush objects only. Asserts commit_ts committable and (key, commit_ts) after the
  // previous entry.
  void Add(std::string_view key, Timestamp commit_ts, std::optional<std::string_view> value);
  // Spill objects only. Asserts key strictly after the previous entry's.
  void AddUncommitted(std::string_view key, std::optional<std::string_view> value);

  size_t entry_count() const { return entry_count_; }
  // Bytes written so far plus the open block, before the footer: for callers that cut
  // objects at a size.
  size_t estimated_bytes() const { return out_.size() + block_bytes_; }

  // The object's bytes. Asserts at least one entry was added; the writer is spent.
  [[nodiscard]] std::string Finish() &&;

 private:
  ObjectWriter(ObjectKind kind, std::optional<TxnId> txn, const ObjectWriterOptions& options);
  void AddEntry(std::string_view key, Timestamp commit_ts, std::optional<std::string_view> value);
  void CloseBlock();

  ObjectKind kind_;
  std::optional<TxnId> txn_;
  ObjectWriterOptions options_;
  std::string out_;                 // Closed block frames.
  std::vector<ObjectEntry> block_;  // The open block's entries.
  size_t block_bytes_ = 0;          // Their estimated encoded size.
  std::vector<ObjectBlockHandle> index_;
  size_t entry_count_ = 0;
  Timestamp min_commit_ts_ = Timestamp::Max();
  Timestamp max_commit_ts_ = Timestamp::Min();
  std::string first_key_;  // Of the first entry (the object's min key).
  std::string last_key_;   // Of the previous entry, valid when entry_count_ > 0.
  Timestamp last_ts_;
  bool finished_ = false;
};

// A validated object. Holds the entries Open decoded (and checked) from the bytes, not the
// bytes, so every method after Open works on checked data and none of them can fail.
class ObjectReader {
 public:
  // Validates the whole object (see "What Open catches"); DataLoss naming the problem and
  // where it is, otherwise a reader.
  [[nodiscard]] static absl::StatusOr<ObjectReader> Open(std::string_view bytes);

  ObjectKind kind() const { return kind_; }
  std::optional<TxnId> txn() const { return txn_; }  // Set exactly for spill objects.
  size_t entry_count() const { return entry_count_; }
  const std::vector<ObjectBlockHandle>& blocks() const { return blocks_; }
  size_t size_bytes() const { return size_bytes_; }
  const std::string& min_key() const { return min_key_; }
  const std::string& max_key() const { return max_key_; }
  Timestamp min_commit_ts() const { return min_commit_ts_; }  // Max() for spill objects.
  Timestamp max_commit_ts() const { return max_commit_ts_; }

  // The newest entry of `key` with commit ts < snapshot (the read rule of storage/mvcc.h),
  // tombstones included; nullopt if none. Looks only in the blocks that can hold `key`.
  // Always nullopt on a spill object (its writes have no commit ts yet).
  [[nodiscard]] std::optional<ObjectEntry> Get(std::string_view key, Timestamp snapshot) const;
  // The newest entry of `key` whatever its commit ts: in a spill object, the transaction's
  // own write.
  [[nodiscard]] std::optional<ObjectEntry> GetNewest(std::string_view key) const;

  // Every entry, in entry order, and in reverse (key descending, oldest version first).
  void ForEachEntry(absl::FunctionRef<void(const ObjectEntry&)> fn) const;
  void ForEachEntryReversed(absl::FunctionRef<void(const ObjectEntry&)> fn) const;
  [[nodiscard]] std::vector<ObjectEntry> Entries() const;

 private:
  ObjectReader() = default;
  const std::vector<ObjectEntry>& Block(size_t index) const;
  std::optional<ObjectEntry> Find(std::string_view key,
                                  absl::FunctionRef<bool(const ObjectEntry&)> wanted) const;

  size_t size_bytes_ = 0;
  ObjectKind kind_ = ObjectKind::kFlush;
  std::optional<TxnId> txn_;
  size_t entry_count_ = 0;
  std::string min_key_;
  std::string max_key_;
  Timestamp min_commit_ts_;
  Timestamp max_commit_ts_;
  std::vector<ObjectBlockHandle> blocks_;
  // Each block's entries. Open decodes every block to check it, so it keeps what it
  // decoded; reads then decode nothing.
  std::vector<std::vector<ObjectEntry>> parsed_;
};

}  // namespace hindcast::storage

#endif  // HINDCAST_STORAGE_OBJECT_H_
