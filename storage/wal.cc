#include "storage/wal.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"
#include "storage/pb_util.h"
#include "storage/record.h"
#include "storage/wal.pb.h"

namespace hindcast::storage {
namespace {

pb::CommitRecord ToProto(const CommitRecord& rec) {
  pb::CommitRecord out;
  *out.mutable_txn() = storage::ToProto(rec.txn);
  *out.mutable_snapshot_ts() = storage::ToProto(rec.snapshot_ts);
  *out.mutable_commit_ts() = storage::ToProto(rec.commit_ts);
  for (const WriteOp& w : rec.writes) {
    pb::Write* write = out.add_writes();
    write->set_key(w.key);
    if (w.value.has_value()) {
      write->set_value(*w.value);
    } else {
      write->set_deleted(true);
    }
  }
  for (const LockTableBind& b : rec.lock_binds) {
    pb::LockTableBind* bind = out.add_lock_binds();
    bind->set_table_id(b.table_id);
    bind->set_service_id(b.service_id);
    bind->set_version(b.version);
  }
  return out;
}

// Presence and shape checks that only a decoded message needs (the C++ struct cannot miss a
// field); ordering is left to ValidateCommitRecord.
absl::StatusOr<CommitRecord> FromProto(const pb::CommitRecord& msg) {
  if (!msg.has_txn()) return absl::DataLossError("commit record has no txn id");
  if (!msg.has_snapshot_ts()) return absl::DataLossError("commit record has no snapshot ts");
  if (!msg.has_commit_ts()) return absl::DataLossError("commit record has no commit ts");
  CommitRecord rec;
  rec.txn = storage::FromProto(msg.txn());
  rec.snapshot_ts = storage::FromProto(msg.snapshot_ts());
  rec.commit_ts = storage::FromProto(msg.commit_ts());
  rec.writes.reserve(msg.writes_size());
  for (int i = 0; i < msg.writes_size(); ++i) {
    const pb::Write& w = msg.writes(i);
    switch (w.op_case()) {
      case pb::Write::kValue:
        rec.writes.push_back(WriteOp{w.key(), w.value()});
        break;
      case pb::Write::kDeleted:
        if (!w.deleted()) {
          return absl::DataLossError(absl::StrCat("write ", i, " has delete set to false"));
        }
        rec.writes.push_back(WriteOp{w.key(), std::nullopt});
        break;
      case pb::Write::OP_NOT_SET:
        return absl::DataLossError(absl::StrCat("write ", i, " has neither value nor delete"));
    }
  }
  rec.lock_binds.reserve(msg.lock_binds_size());
  for (const pb::LockTableBind& b : msg.lock_binds()) {
    rec.lock_binds.push_back(LockTableBind{b.table_id(), b.service_id(), b.version()});
  }
  return rec;
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const CommitRecord& rec) {
  os << "{txn=" << rec.txn << " snapshot=" << rec.snapshot_ts << " commit=" << rec.commit_ts
     << " writes=[";
  for (const WriteOp& w : rec.writes) {
    os << " " << w.key << (w.value.has_value() ? "=" + *w.value : std::string(" deleted"));
  }
  os << " ] binds=[";
  for (const LockTableBind& b : rec.lock_binds) {
    os << " " << b.table_id << "@" << b.service_id << "/" << b.version;
  }
  return os << " ]}";
}

absl::Status ValidateCommitRecord(const CommitRecord& rec) {
  if (!rec.commit_ts.IsCommittable()) {
    return absl::InvalidArgumentError(
        absl::StrCat("commit ts ", rec.commit_ts.ToString(), " is not committable"));
  }
  for (size_t i = 1; i < rec.writes.size(); ++i) {
    if (!(rec.writes[i - 1].key < rec.writes[i].key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("write ", i, " is not in strictly ascending key order"));
    }
  }
  for (size_t i = 1; i < rec.lock_binds.size(); ++i) {
    if (!(rec.lock_binds[i - 1].table_id < rec.lock_binds[i].table_id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("lock bind ", i, " is not in strictly ascending table id order"));
    }
  }
  return absl::OkStatus();
}

std::string SerializeCommitRecord(const CommitRecord& rec) {
  const absl::Status valid = ValidateCommitRecord(rec);
  HC_ASSERT_MSG(valid.ok(), std::string(valid.message()));
  std::string payload = SerializeDeterministic(ToProto(rec));
  HC_ASSERT(!payload.empty());  // At least the commit ts is always there.
  return payload;
}

absl::StatusOr<CommitRecord> ParseCommitRecord(std::string_view payload) {
  pb::CommitRecord msg;
  if (!msg.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::DataLossError(
        absl::StrCat("commit record payload (", payload.size(), " bytes) does not parse"));
  }
  absl::StatusOr<CommitRecord> rec = FromProto(msg);
  if (!rec.ok()) return rec.status();
  if (const absl::Status valid = ValidateCommitRecord(*rec); !valid.ok()) {
    return absl::DataLossError(absl::StrCat("commit record is not canonical: ", valid.message()));
  }
  return rec;
}

void AppendCommitRecord(std::string* stream, const CommitRecord& rec) {
  HC_ASSERT(stream != nullptr);
  const size_t before = stream->size();
  AppendRecord(stream, SerializeCommitRecord(rec));
  HC_ASSERT(stream->size() > before + kRecordHeaderBytes);
}

std::string EncodeCommitRecord(const CommitRecord& rec) {
  std::string out;
  AppendCommitRecord(&out, rec);
  return out;
}

absl::StatusOr<std::vector<CommitRecord>> DecodeCommitRecords(std::string_view stream) {
  const DecodedRecords frames = DecodeRecords(stream);
  std::vector<CommitRecord> out;
  out.reserve(frames.records.size());
  size_t offset = 0;
  for (const std::string& payload : frames.records) {
    absl::StatusOr<CommitRecord> rec = ParseCommitRecord(payload);
    if (!rec.ok()) {
      return absl::DataLossError(absl::StrCat("commit log: record ", out.size(), " at offset ",
                                              offset, ": ", rec.status().message()));
    }
    out.push_back(*std::move(rec));
    offset += kRecordHeaderBytes + payload.size();
  }
  HC_ASSERT(offset == frames.valid_bytes);
  if (frames.tail != DecodedRecords::Tail::kClean) {
    return absl::DataLossError(absl::StrCat("commit log: ", Sv(TailName(frames.tail)), " after ",
                                            out.size(), " records: ", frames.error));
  }
  return out;
}

}  // namespace hindcast::storage
