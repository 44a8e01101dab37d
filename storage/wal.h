// The commit record the TN appends to the log service, and its byte format.
//
//   CommitRecord rec{.txn = {.cn = 2, .seq = 17},
//                    .snapshot_ts = {100, 0},
//                    .commit_ts = {105, 3},
//                    .writes = {{"a", "1"}, {"b", std::nullopt}}};  // Put a=1, delete b.
//   std::string log;
//   AppendCommitRecord(&log, rec);
//   absl::StatusOr<std::vector<CommitRecord>> back = DecodeCommitRecords(log);
//   // back.ok() && *back == {rec}
//
// Format. A record's payload is the protobuf message pb::CommitRecord (storage/wal.proto),
// serialized deterministically, so one record always has one encoding (the bytes can be
// hashed and compared across runs). In a stream each payload sits in a record.h frame
// (length, CRC32C, payload); a log service with its own framing (Raft entries) carries the
// bare payload from SerializeCommitRecord instead.
//
// A record is canonical: writes in strictly ascending key order (at most one write per key,
// the transaction's last) and lock binds in strictly ascending table id, commit ts
// committable. Encoding asserts this (a caller bug); decoding reports a violation as
// corruption, like a failed checksum: bytes from disk never trip an assertion.
#ifndef HINDCAST_STORAGE_WAL_H_
#define HINDCAST_STORAGE_WAL_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/timestamp.h"
#include "storage/txn_id.h"

namespace hindcast::storage {

struct WriteOp {
  std::string key;
  std::optional<std::string> value;  // nullopt: delete the key.

  bool operator==(const WriteOp&) const = default;
};

// MatrixOne's lock.LockTable bind: the lock-service instance that held the transaction's
// locks on a table, and the bind's version. The TN rejects a commit whose binds changed
// since (the lock service restarted and may have forgotten the locks).
struct LockTableBind {
  uint64_t table_id = 0;
  std::string service_id;
  uint64_t version = 0;

  bool operator==(const LockTableBind&) const = default;
};

struct CommitRecord {
  TxnId txn;
  Timestamp snapshot_ts;                  // The (last) snapshot the transaction read at.
  Timestamp commit_ts;                    // Assigned by the TN; committable.
  std::vector<WriteOp> writes;            // Keys strictly ascending.
  std::vector<LockTableBind> lock_binds;  // table_id strictly ascending; empty if optimistic.

  bool operator==(const CommitRecord&) const = default;
};

std::ostream& operator<<(std::ostream& os, const CommitRecord& rec);  // For test messages.

// OK if `rec` is canonical (see above); otherwise an InvalidArgument naming the first fault.
[[nodiscard]] absl::Status ValidateCommitRecord(const CommitRecord& rec);

// The bare payload. Asserts ValidateCommitRecord(rec).ok().
[[nodiscard]] std::string SerializeCommitRecord(const CommitRecord& rec);
// Inverse of SerializeCommitRecord. DataLoss if the bytes do not parse, a timestamp or write
// op is missing, or the record is not canonical.
[[nodiscard]] absl::StatusOr<CommitRecord> ParseCommitRecord(std::string_view payload);

// One framed record, appended to a stream / returned. Assert as SerializeCommitRecord does,
// and that the payload fits a frame (kMaxRecordBytes).
void AppendCommitRecord(std::string* stream, const CommitRecord& rec);
[[nodiscard]] std::string EncodeCommitRecord(const CommitRecord& rec);

// Every record of a stream of frames, in order. Strict: the whole input must be valid
// frames of valid records; otherwise DataLoss saying which record, at which byte offset,
// and what was wrong (torn frame, checksum mismatch, bad payload). A stream cut exactly
// between frames cannot be told from a shorter stream and decodes as one.
[[nodiscard]] absl::StatusOr<std::vector<CommitRecord>> DecodeCommitRecords(
    std::string_view stream);

}  // namespace hindcast::storage

#endif  // HINDCAST_STORAGE_WAL_H_
