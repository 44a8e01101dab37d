#include "storage/object.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"
#include "sim/status_macros.h"
#include "storage/object.pb.h"
#include "storage/pb_util.h"
#include "storage/record.h"

namespace hindcast::storage {
namespace {

// Fixed overhead charged per entry when sizing blocks: the key and value length prefixes,
// field tags and the commit ts submessage, rounded up.
constexpr size_t kEntryOverheadBytes = 24;

uint64_t LoadLe(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = bytes.size(); i > 0; --i) v = (v << 8) | static_cast<uint8_t>(bytes[i - 1]);
  return v;
}

void AppendLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint32_t FooterCrc(std::string_view length_bytes, std::string_view footer) {
  return Crc32cExtend(Crc32c(length_bytes), footer);
}

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(absl::StrCat("object: ", Sv(what)));
}

// The entries of a block payload, with per-entry shape checks (ordering and kind rules are
// the caller's, since they span blocks).
absl::StatusOr<std::vector<ObjectEntry>> ParseBlock(std::string_view payload) {
  pb::ObjectBlock block;
  if (!block.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::DataLossError("block payload does not parse");
  }
  std::vector<ObjectEntry> entries;
  entries.reserve(block.entries_size());
  for (int i = 0; i < block.entries_size(); ++i) {
    const pb::ObjectEntry& e = block.entries(i);
    if (!e.has_commit_ts()) return absl::DataLossError(absl::StrCat("entry ", i, " has no ts"));
    if (e.key().size() > kObjectKeyBytesMax) {
      return absl::DataLossError(absl::StrCat("entry ", i, " key exceeds kObjectKeyBytesMax"));
    }
    ObjectEntry entry{e.key(), FromProto(e.commit_ts()), std::nullopt};
    switch (e.op_case()) {
      case pb::ObjectEntry::kValue:
        if (e.value().size() > kObjectValueBytesMax) {
          return absl::DataLossError(
              absl::StrCat("entry ", i, " value exceeds kObjectValueBytesMax"));
        }
        entry.value = e.value();
        break;
      case pb::ObjectEntry::kTombstone:
        if (!e.tombstone()) {
          return absl::DataLossError(absl::StrCat("entry ", i, " has tombstone set to false"));
        }
        break;
      case pb::ObjectEntry::OP_NOT_SET:
        return absl::DataLossError(absl::StrCat("entry ", i, " has neither value nor tombstone"));
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

struct Footer {
  pb::ObjectFooter msg;
  size_t start = 0;  // Offset of the footer payload; the blocks lie in [0, start).
};

// Locates, checksums and parses the footer through the trailer.
absl::StatusOr<Footer> ReadFooter(std::string_view bytes) {
  if (bytes.size() < kObjectTrailerBytes) {
    return Corrupt(absl::StrCat("truncated: ", bytes.size(), " bytes, fewer than the ",
                                kObjectTrailerBytes, "-byte trailer"));
  }
  const size_t trailer = bytes.size() - kObjectTrailerBytes;
  const uint64_t magic = LoadLe(bytes.substr(trailer + 8, 8));
  if (magic != kObjectMagic) {
    return Corrupt(absl::StrCat("bad magic 0x", absl::Hex(magic, absl::kZeroPad16), " at offset ",
                                trailer + 8, " (want 0x", absl::Hex(kObjectMagic),
                                "): not an object, or cut short"));
  }
  const std::string_view length_bytes = bytes.substr(trailer, 4);
  const uint64_t length = LoadLe(length_bytes);
  if (length > trailer || length > kMaxRecordBytes) {
    return Corrupt(absl::StrCat("footer length ", length, " at offset ", trailer, " exceeds the ",
                                trailer, " bytes before the trailer"));
  }
  Footer footer;
  footer.start = trailer - length;
  const std::string_view payload = bytes.substr(footer.start, length);
  if (UnmaskCrc(static_cast<uint32_t>(LoadLe(bytes.substr(trailer + 4, 4)))) !=
      FooterCrc(length_bytes, payload)) {
    return Corrupt(absl::StrCat("footer checksum mismatch (footer at offset ", footer.start, ", ",
                                length, " bytes)"));
  }
  if (!footer.msg.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return Corrupt(absl::StrCat("footer at offset ", footer.start, " does not parse"));
  }
  return footer;
}

// Checks the footer's fields on their own, before any block is read.
absl::Status CheckFooterShape(const pb::ObjectFooter& f, size_t object_bytes) {
  if (f.format_version() != kObjectFormatVersion) {
    return Corrupt(
        absl::StrCat("format version ", f.format_version(), ", want ", kObjectFormatVersion));
  }
  if (f.kind() != pb::OBJECT_KIND_FLUSH && f.kind() != pb::OBJECT_KIND_SPILL) {
    return Corrupt(absl::StrCat("unknown object kind ", f.kind()));
  }
  if (f.has_txn() != (f.kind() == pb::OBJECT_KIND_SPILL)) {
    return Corrupt("a txn id belongs in spill objects and only there");
  }
  if (f.object_size_bytes() != object_bytes) {
    return Corrupt(absl::StrCat("object is ", object_bytes, " bytes but its footer says ",
                                f.object_size_bytes(), " (truncated or extended)"));
  }
  if (f.entry_count() == 0 || f.blocks_size() == 0) return Corrupt("no entries or no blocks");
  if (!f.has_min_commit_ts() || !f.has_max_commit_ts()) return Corrupt("footer lacks a ts");
  return absl::OkStatus();
}

// What Open learns while walking every entry, to compare with the footer afterwards.
struct EntryWalk {
  bool spill = false;
  size_t count = 0;
  std::string first_key;
  std::string last_key;
  Timestamp last_ts;
  Timestamp min_ts = Timestamp::Max();
  Timestamp max_ts = Timestamp::Min();
};

// Checks one entry against its kind's commit ts rule and the entry order.
absl::Status CheckEntry(const ObjectEntry& e, EntryWalk* walk) {
  if (walk->spill ? e.commit_ts != Timestamp::Max() : !e.commit_ts.IsCommittable()) {
    return absl::DataLossError(
        absl::StrCat("commit ts ", e.commit_ts.ToString(),
                     walk->spill ? " in a spill object (want max)" : " is not committable"));
  }
  if (walk->count > 0) {
    const bool ordered = walk->last_key < e.key ||
                         (!walk->spill && walk->last_key == e.key && e.commit_ts < walk->last_ts);
    if (!ordered) return absl::DataLossError("entries out of order");
  } else {
    walk->first_key = e.key;
  }
  walk->last_key = e.key;
  walk->last_ts = e.commit_ts;
  walk->min_ts = std::min(walk->min_ts, e.commit_ts);
  walk->max_ts = std::max(walk->max_ts, e.commit_ts);
  ++walk->count;
  return absl::OkStatus();
}

// Checks one block frame against its handle and walks its entries, leaving them in
// `*entries_out`.
absl::Status CheckBlock(std::string_view frame, const pb::BlockHandle& handle, EntryWalk* walk,
                        std::vector<ObjectEntry>* entries_out) {
  const DecodedRecords d = DecodeRecords(frame);
  if (d.tail != DecodedRecords::Tail::kClean || d.records.size() != 1) {
    return absl::DataLossError(d.error.empty() ? "the handle's size does not match one frame"
                                               : d.error);
  }
  ASSIGN_OR_RETURN(std::vector<ObjectEntry> entries, ParseBlock(d.records[0]));
  if (entries.empty() || entries.size() != handle.entry_count() ||
      entries.front().key != handle.first_key() || entries.back().key != handle.last_key()) {
    return absl::DataLossError("block disagrees with its index entry");
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const absl::Status s = CheckEntry(entries[i], walk);
    if (!s.ok()) return absl::DataLossError(absl::StrCat("entry ", i, ": ", s.message()));
  }
  *entries_out = std::move(entries);
  return absl::OkStatus();
}

}  // namespace

std::string_view ObjectKindName(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kFlush:
      return "flush";
    case ObjectKind::kSpill:
      return "spill";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, const ObjectEntry& entry) {
  os << "{" << entry.key << " @" << entry.commit_ts << " ";
  return os << (entry.value.has_value() ? "=" + *entry.value : std::string("tombstone")) << "}";
}

// --- ObjectWriter -------------------------------------------------------------------------

ObjectWriter::ObjectWriter(ObjectKind kind, std::optional<TxnId> txn,
                           const ObjectWriterOptions& options)
    : kind_(kind), txn_(txn), options_(options) {
  HC_ASSERT(txn_.has_value() == (kind_ == ObjectKind::kSpill));
  HC_ASSERT_MSG(
      options_.block_target_bytes > 0 && options_.block_target_bytes <= kBlockTargetBytesMax,
      "block_target_bytes out of (0, kBlockTargetBytesMax]");
}

ObjectWriter ObjectWriter::ForFlush(const ObjectWriterOptions& options) {
  return ObjectWriter(ObjectKind::kFlush, std::nullopt, options);
}

ObjectWriter ObjectWriter::ForSpill(TxnId txn, const ObjectWriterOptions& options) {
  return ObjectWriter(ObjectKind::kSpill, txn, options);
}

void ObjectWriter::Add(std::string_view key, Timestamp commit_ts,
                       std::optional<std::string_view> value) {
  HC_ASSERT_MSG(kind_ == ObjectKind::kFlush, "Add is for flush objects; spills AddUncommitted");
  HC_ASSERT_MSG(commit_ts.IsCommittable(), "flush entries need a committable commit ts");
  HC_ASSERT_MSG(entry_count_ == 0 || last_key_ < key || (last_key_ == key && commit_ts < last_ts_),
                "flush entries must come by key ascending, then commit ts descending");
  AddEntry(key, commit_ts, value);
}

void ObjectWriter::AddUncommitted(std::string_view key, std::optional<std::string_view> value) {
  HC_ASSERT_MSG(kind_ == ObjectKind::kSpill, "AddUncommitted is for spill objects");
  HC_ASSERT_MSG(entry_count_ == 0 || last_key_ < key,
                "spill entries must come by key strictly ascending");
  AddEntry(key, Timestamp::Max(), value);
}

void ObjectWriter::AddEntry(std::string_view key, Timestamp commit_ts,
                            std::optional<std::string_view> value) {
  HC_ASSERT_MSG(!finished_, "add after Finish");
  HC_ASSERT_MSG(key.size() <= kObjectKeyBytesMax, "key exceeds kObjectKeyBytesMax");
  HC_ASSERT_MSG(!value.has_value() || value->size() <= kObjectValueBytesMax,
                "value exceeds kObjectValueBytesMax");
  if (entry_count_ == 0) first_key_ = std::string(key);
  ObjectEntry entry{std::string(key), commit_ts, std::nullopt};
  if (value.has_value()) entry.value.emplace(*value);
  block_.push_back(std::move(entry));
  block_bytes_ += key.size() + (value.has_value() ? value->size() : 0) + kEntryOverheadBytes;
  ++entry_count_;
  last_key_ = std::string(key);
  last_ts_ = commit_ts;
  min_commit_ts_ = std::min(min_commit_ts_, commit_ts);
  max_commit_ts_ = std::max(max_commit_ts_, commit_ts);
  if (block_bytes_ >= options_.block_target_bytes) CloseBlock();
}

void ObjectWriter::CloseBlock() {
  if (block_.empty()) return;
  pb::ObjectBlock block;
  for (const ObjectEntry& e : block_) {
    pb::ObjectEntry* entry = block.add_entries();
    entry->set_key(e.key);
    *entry->mutable_commit_ts() = ToProto(e.commit_ts);
    if (e.value.has_value()) {
      entry->set_value(*e.value);
    } else {
      entry->set_tombstone(true);
    }
  }
  const std::string payload = SerializeDeterministic(block);
  HC_ASSERT(payload.size() <= kMaxRecordBytes);
  ObjectBlockHandle handle{.offset = out_.size(),
                           .entry_count = block_.size(),
                           .first_key = block_.front().key,
                           .last_key = block_.back().key};
  AppendRecord(&out_, payload);
  handle.size_bytes = out_.size() - handle.offset;
  HC_ASSERT(handle.size_bytes == kRecordHeaderBytes + payload.size());
  index_.push_back(std::move(handle));
  block_.clear();
  block_bytes_ = 0;
}

std::string ObjectWriter::Finish() && {
  HC_ASSERT_MSG(!finished_, "Finish called twice");
  HC_ASSERT_MSG(entry_count_ > 0, "an object holds at least one entry");
  CloseBlock();
  finished_ = true;
  pb::ObjectFooter footer;
  footer.set_format_version(kObjectFormatVersion);
  footer.set_kind(kind_ == ObjectKind::kFlush ? pb::OBJECT_KIND_FLUSH : pb::OBJECT_KIND_SPILL);
  if (txn_.has_value()) *footer.mutable_txn() = ToProto(*txn_);
  footer.set_entry_count(entry_count_);
  footer.set_min_key(first_key_);
  footer.set_max_key(last_key_);
  *footer.mutable_min_commit_ts() = ToProto(min_commit_ts_);
  *footer.mutable_max_commit_ts() = ToProto(max_commit_ts_);
  size_t indexed_entries = 0;
  for (const ObjectBlockHandle& h : index_) {
    pb::BlockHandle* handle = footer.add_blocks();
    handle->set_offset(h.offset);
    handle->set_size_bytes(h.size_bytes);
    handle->set_entry_count(h.entry_count);
    handle->set_first_key(h.first_key);
    handle->set_last_key(h.last_key);
    indexed_entries += h.entry_count;
  }
  HC_ASSERT(indexed_entries == entry_count_);
  // A nonzero placeholder first: a fixed64 that is set has one size whatever its value.
  footer.set_object_size_bytes(1);
  const size_t footer_bytes = footer.ByteSizeLong();
  footer.set_object_size_bytes(out_.size() + footer_bytes + kObjectTrailerBytes);
  const std::string payload = SerializeDeterministic(footer);
  HC_ASSERT(payload.size() == footer_bytes);
  HC_ASSERT_MSG(payload.size() <= kMaxRecordBytes, "footer too large: cut objects smaller");
  std::string out = std::move(out_);
  out += payload;
  const size_t length_at = out.size();
  AppendLe(&out, payload.size(), 4);
  AppendLe(&out, MaskCrc(FooterCrc(std::string_view(out).substr(length_at, 4), payload)), 4);
  AppendLe(&out, kObjectMagic, 8);
  HC_ASSERT(out.size() == footer.object_size_bytes());
  return out;
}

// --- ObjectReader -------------------------------------------------------------------------

absl::StatusOr<ObjectReader> ObjectReader::Open(std::string_view bytes) {
  ASSIGN_OR_RETURN(const Footer footer, ReadFooter(bytes));
  const pb::ObjectFooter& f = footer.msg;
  RETURN_IF_ERROR(CheckFooterShape(f, bytes.size()));

  ObjectReader reader;
  EntryWalk walk{.spill = f.kind() == pb::OBJECT_KIND_SPILL};
  size_t offset = 0;
  for (int b = 0; b < f.blocks_size(); ++b) {
    const pb::BlockHandle& h = f.blocks(b);
    if (h.offset() != offset || h.size_bytes() > footer.start - offset) {
      return Corrupt(absl::StrCat("block ", b, " handle (offset ", h.offset(), ", ", h.size_bytes(),
                                  " bytes) is not at offset ", offset,
                                  " or runs into the footer at ", footer.start));
    }
    std::vector<ObjectEntry> entries;
    const absl::Status s = CheckBlock(bytes.substr(offset, h.size_bytes()), h, &walk, &entries);
    if (!s.ok()) {
      return Corrupt(absl::StrCat("block ", b, " at offset ", offset, ": ", s.message()));
    }
    reader.blocks_.push_back(ObjectBlockHandle{offset, static_cast<size_t>(h.size_bytes()),
                                               static_cast<size_t>(h.entry_count()), h.first_key(),
                                               h.last_key()});
    reader.parsed_.push_back(std::move(entries));
    offset += h.size_bytes();
  }
  if (offset != footer.start) {
    return Corrupt(
        absl::StrCat("blocks end at offset ", offset, " but the footer starts at ", footer.start));
  }
  if (walk.count != f.entry_count() || walk.first_key != f.min_key() ||
      walk.last_key != f.max_key() || walk.min_ts != FromProto(f.min_commit_ts()) ||
      walk.max_ts != FromProto(f.max_commit_ts())) {
    return Corrupt(
        "footer totals (entry count, min/max key or commit ts) disagree with the "
        "entries");
  }
  reader.size_bytes_ = bytes.size();
  reader.kind_ = walk.spill ? ObjectKind::kSpill : ObjectKind::kFlush;
  if (f.has_txn()) reader.txn_ = FromProto(f.txn());
  reader.entry_count_ = walk.count;
  reader.min_key_ = std::move(walk.first_key);
  reader.max_key_ = std::move(walk.last_key);
  reader.min_commit_ts_ = walk.min_ts;
  reader.max_commit_ts_ = walk.max_ts;
  HC_ASSERT(!reader.blocks_.empty() && reader.min_key_ <= reader.max_key_);
  return reader;
}

const std::vector<ObjectEntry>& ObjectReader::Block(size_t index) const {
  HC_ASSERT(index < blocks_.size() && blocks_.size() == parsed_.size());
  const std::vector<ObjectEntry>& entries = parsed_[index];
  HC_ASSERT(entries.size() == blocks_[index].entry_count &&
            entries.front().key == blocks_[index].first_key);
  return entries;
}

std::optional<ObjectEntry> ObjectReader::Find(
    std::string_view key, absl::FunctionRef<bool(const ObjectEntry&)> wanted) const {
  if (key < std::string_view(min_key_) || std::string_view(max_key_) < key) return std::nullopt;
  // The first block that can hold `key`; its versions may run on into the next blocks.
  const auto first = std::partition_point(
      blocks_.begin(), blocks_.end(),
      [key](const ObjectBlockHandle& h) { return std::string_view(h.last_key) < key; });
  for (auto it = first; it != blocks_.end() && std::string_view(it->first_key) <= key; ++it) {
    for (const ObjectEntry& entry : Block(static_cast<size_t>(it - blocks_.begin()))) {
      if (entry.key < key) continue;
      if (key < entry.key) return std::nullopt;
      if (wanted(entry)) return entry;
    }
  }
  return std::nullopt;
}

std::optional<ObjectEntry> ObjectReader::Get(std::string_view key, Timestamp snapshot) const {
  std::optional<ObjectEntry> found =
      Find(key, [snapshot](const ObjectEntry& e) { return e.commit_ts < snapshot; });
  HC_ASSERT(!found.has_value() || (found->key == key && found->commit_ts < snapshot));
  HC_ASSERT(!found.has_value() || kind_ == ObjectKind::kFlush);
  return found;
}

std::optional<ObjectEntry> ObjectReader::GetNewest(std::string_view key) const {
  std::optional<ObjectEntry> found = Find(key, [](const ObjectEntry&) { return true; });
  HC_ASSERT(!found.has_value() || found->key == key);
  return found;
}

void ObjectReader::ForEachEntry(absl::FunctionRef<void(const ObjectEntry&)> fn) const {
  size_t seen = 0;
  for (size_t b = 0; b < blocks_.size(); ++b) {
    for (const ObjectEntry& entry : Block(b)) {
      fn(entry);
      ++seen;
    }
  }
  HC_ASSERT(seen == entry_count_);
}

void ObjectReader::ForEachEntryReversed(absl::FunctionRef<void(const ObjectEntry&)> fn) const {
  size_t seen = 0;
  for (size_t b = blocks_.size(); b-- > 0;) {
    const std::vector<ObjectEntry>& entries = Block(b);
    for (auto e = entries.rbegin(); e != entries.rend(); ++e) {
      fn(*e);
      ++seen;
    }
  }
  HC_ASSERT(seen == entry_count_);
}

std::vector<ObjectEntry> ObjectReader::Entries() const {
  std::vector<ObjectEntry> out;
  out.reserve(entry_count_);
  ForEachEntry([&out](const ObjectEntry& e) { out.push_back(e); });
  return out;
}

}  // namespace hindcast::storage
