#include "sim/disk.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"

namespace hindcast::sim {
namespace {

void CheckLatency(const LatencyRange& range) {
  HC_ASSERT_MSG(range.min >= Duration::Zero() && range.min <= range.max,
                "disk latency range must satisfy 0 <= min <= max");
}

absl::Status CheckName(std::string_view name) {
  if (name.empty() || name.size() > Disk::kMaxFileNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("disk file name must be 1..", Disk::kMaxFileNameBytes, " bytes"));
  }
  return absl::OkStatus();
}

// Copies `bytes` into `image` at `offset`, first growing the image with zeros if it ends
// before the write does.
void Overlay(std::string& image, uint64_t offset, std::string_view bytes) {
  const uint64_t end = offset + bytes.size();
  if (image.size() < end) image.resize(end, '\0');
  if (!bytes.empty()) std::memcpy(image.data() + offset, bytes.data(), bytes.size());
}

void FlipBit(std::string& bytes, uint64_t bit) {
  HC_ASSERT(bit / 8 < bytes.size());
  bytes[bit / 8] =
      static_cast<char>(static_cast<unsigned char>(bytes[bit / 8]) ^ (1u << (bit % 8)));
}

}  // namespace

Disk::Disk(Simulator& sim, NodeId node, const DiskOptions& options)
    : sim_(sim),
      node_(node),
      options_(options),
      latency_rng_(sim.root_rng().Child("disk", node).Child("latency")),
      crash_rng_(sim.root_rng().Child("disk", node).Child("crash")),
      read_fault_rng_(sim.root_rng().Child("disk", node).Child("read-corrupt")),
      write_fault_rng_(sim.root_rng().Child("disk", node).Child("write-corrupt")),
      misdirect_rng_(sim.root_rng().Child("disk", node).Child("misdirect")),
      rot_rng_(sim.root_rng().Child("disk", node).Child("rot")),
      self_(std::make_shared<Disk*>(this)) {
  CheckLatency(options.read_latency);
  CheckLatency(options.write_latency);
  CheckLatency(options.sync_latency);
  const uint64_t fate_weight =
      uint64_t{options.crash_lost_weight} + options.crash_kept_weight + options.crash_torn_weight;
  HC_ASSERT_MSG(fate_weight > 0, "crash fate weights must not all be zero");
  sim.AddCrashObserver([self = self_](NodeId crashed) {
    if (*self != nullptr && (*self)->node_ == crashed) (*self)->OnCrash();
  });
}

Disk::~Disk() { *self_ = nullptr; }

// --- Issuing operations ---------------------------------------------------------------

uint32_t Disk::StartOp(OpKind kind, std::string_view file) {
  HC_ASSERT_MSG(sim_.IsUp(node_), "disk I/O issued while its node is down");
  HC_ASSERT_MSG(ops_in_flight_ < kMaxOpsInFlight, "too many disk operations in flight");
  uint32_t slot;
  if (!free_ops_.empty()) {
    slot = free_ops_.back();
    free_ops_.pop_back();
  } else {
    ops_.emplace_back();
    slot = static_cast<uint32_t>(ops_.size() - 1);
  }
  Op& op = ops_[slot];
  HC_ASSERT(!op.in_use);
  op.in_use = true;
  op.kind = kind;
  op.file.assign(file.data(), file.size());
  ++ops_in_flight_;
  return slot;
}

void Disk::ScheduleOp(uint32_t slot, const LatencyRange& latency) {
  const Duration delay = latency_rng_.UniformDuration(latency.min, latency.max);
  Task complete = [this, slot] { Complete(slot); };
  sim_.Schedule(delay, std::move(complete), node_);
}

void Disk::FreeOp(uint32_t slot) {
  Op& op = ops_[slot];
  HC_ASSERT(op.in_use);
  op.in_use = false;
  op.bytes.clear();
  op.status_done = nullptr;
  op.read_done = nullptr;
  free_ops_.push_back(slot);
  --ops_in_flight_;
}

void Disk::Write(std::string_view file, uint64_t offset, std::string bytes, StatusCallback done) {
  HC_ASSERT(done != nullptr);
  const uint32_t slot = StartOp(OpKind::kWrite, file);
  Op& op = ops_[slot];
  op.offset = offset;
  op.length = bytes.size();
  op.bytes = std::move(bytes);
  op.status_done = std::move(done);
  ScheduleOp(slot, options_.write_latency);
}

void Disk::Append(std::string_view file, std::string bytes, StatusCallback done) {
  HC_ASSERT(done != nullptr);
  const uint32_t slot = StartOp(OpKind::kAppend, file);
  Op& op = ops_[slot];
  op.offset = 0;  // Resolved at completion.
  op.length = bytes.size();
  op.bytes = std::move(bytes);
  op.status_done = std::move(done);
  ScheduleOp(slot, options_.write_latency);
}

void Disk::Read(std::string_view file, uint64_t offset, uint64_t length, ReadCallback done) {
  HC_ASSERT(done != nullptr);
  const uint32_t slot = StartOp(OpKind::kRead, file);
  Op& op = ops_[slot];
  op.offset = offset;
  op.length = length;
  op.read_done = std::move(done);
  ScheduleOp(slot, options_.read_latency);
}

void Disk::Sync(std::string_view file, StatusCallback done) {
  HC_ASSERT(done != nullptr);
  const uint32_t slot = StartOp(OpKind::kSync, file);
  Op& op = ops_[slot];
  op.sync_watermark = completed_writes_;
  op.status_done = std::move(done);
  ScheduleOp(slot, options_.sync_latency);
}

void Disk::WriteAndSync(std::string_view file, uint64_t offset, std::string bytes,
                        StatusCallback done) {
  HC_ASSERT(done != nullptr);
  const uint32_t slot = StartOp(OpKind::kWriteAndSync, file);
  Op& op = ops_[slot];
  op.offset = offset;
  op.length = bytes.size();
  op.bytes = std::move(bytes);
  op.status_done = std::move(done);
  op.issue_seq = ++issued_write_syncs_;
  const Duration write =
      latency_rng_.UniformDuration(options_.write_latency.min, options_.write_latency.max);
  const Duration sync =
      latency_rng_.UniformDuration(options_.sync_latency.min, options_.sync_latency.max);
  op.write_point = sim_.Now() + write;
  Task complete = [this, slot] { Complete(slot); };
  sim_.Schedule(write + sync, std::move(complete), node_);
}

// --- Completing operations ------------------------------------------------------------

// The callback is moved out and the slot freed before the callback runs, because the
// callback may issue operations that reuse the slot or grow `ops_`.
void Disk::Complete(uint32_t slot) {
  HC_ASSERT(slot < ops_.size() && ops_[slot].in_use);
  Op& op = ops_[slot];
  switch (op.kind) {
    case OpKind::kWrite:
    case OpKind::kAppend:
    case OpKind::kSync:
    case OpKind::kWriteAndSync: {
      absl::Status status = op.kind == OpKind::kSync ? CompleteSync(op) : CompleteWrite(op);
      if (op.kind == OpKind::kWriteAndSync && status.ok()) {
        op.sync_watermark = completed_writes_;
        status = CompleteSync(op);
      }
      StatusCallback done = std::move(op.status_done);
      FreeOp(slot);
      done(std::move(status));
      return;
    }
    case OpKind::kRead: {
      absl::StatusOr<std::string> result = CompleteRead(op);
      ReadCallback done = std::move(op.read_done);
      FreeOp(slot);
      done(std::move(result));
      return;
    }
  }
}

absl::Status Disk::CompleteWrite(Op& op) {
  const bool append = op.kind == OpKind::kAppend;
  File* file = FindFile(op.file);
  const uint64_t offset = append ? (file == nullptr ? 0 : file->current.size()) : op.offset;
  const uint64_t length = op.bytes.size();
  sim_.RecordTrigger(
      {.node = node_, .kind = EventKind::kDiskWrite, .a = offset, .b = length, .payload = op.file});
  return LandWrite(op, file, offset);
}

absl::Status Disk::LandWrite(Op& op, File* file, uint64_t offset) {
  const uint64_t length = op.bytes.size();
  if (absl::Status s = CheckName(op.file); !s.ok()) return s;
  if (offset > kMaxFileSizeBytes || length > kMaxFileSizeBytes - offset) {
    return absl::ResourceExhaustedError(
        absl::StrCat("write to ", Sv(op.file), " at ", offset, " would pass the file size limit"));
  }
  if (file == nullptr) {
    if (files_.size() >= kMaxFiles) return absl::ResourceExhaustedError("too many disk files");
    file = &files_.try_emplace(op.file).first->second;
  }
  if (length == 0) return absl::OkStatus();
  uint64_t landed = offset;
  InjectWriteFaults(*file, op.file, &landed, op.bytes);
  Overlay(file->current, landed, op.bytes);
  HC_ASSERT_MSG(file->unsynced.size() < kMaxUnsyncedWritesPerFile,
                "too many unsynced writes to one file; sync it");
  file->unsynced.push_back({++completed_writes_, landed, std::move(op.bytes)});
  return absl::OkStatus();
}

void Disk::InjectWriteFaults(const File& file, std::string_view name, uint64_t* offset,
                             std::string& bytes) {
  HC_ASSERT(!bytes.empty());
  if (write_fault_rng_.Chance(rates_.write_corrupt_ppm, kPartsPerMillion)) {
    const uint64_t bit = write_fault_rng_.Uniform(bytes.size() * 8);
    FlipBit(bytes, bit);
    ++counts_.write_corruptions;
    sim_.Record({.node = node_,
                 .kind = EventKind::kDiskCorrupt,
                 .a = *offset + bit / 8,
                 .b = 0,  // 0: the stored bytes were damaged.
                 .payload = name});
  }
  if (misdirect_rng_.Chance(rates_.misdirect_ppm, kPartsPerMillion)) {
    // Candidates are the sectors [0, last + 1] except the intended one, capped so the write
    // still fits the file size limit; there is always one unless that cap leaves none.
    const uint64_t in_sector = *offset % kSectorSizeBytes;
    const uint64_t intended = *offset / kSectorSizeBytes;
    const uint64_t end = std::max<uint64_t>(file.current.size(), *offset + bytes.size());
    const uint64_t past_end = (end - 1) / kSectorSizeBytes + 1;
    const uint64_t fit = (kMaxFileSizeBytes - bytes.size() - in_sector) / kSectorSizeBytes;
    const uint64_t top = std::min(past_end, fit);
    if (top >= 1) {
      const uint64_t pick = misdirect_rng_.Uniform(top);  // [0, top) over top + 1 sectors.
      const uint64_t target = pick < intended ? pick : pick + 1;
      const uint64_t landed = target * kSectorSizeBytes + in_sector;
      ++counts_.misdirected_writes;
      sim_.Record({.node = node_,
                   .kind = EventKind::kDiskMisdirect,
                   .a = *offset,
                   .b = landed,
                   .payload = name});
      *offset = landed;
    }
  }
}

absl::StatusOr<std::string> Disk::CompleteRead(Op& op) {
  const File* file = FindFile(op.file);
  std::string result;
  if (file != nullptr && op.offset < file->current.size()) {
    const uint64_t n = std::min<uint64_t>(op.length, file->current.size() - op.offset);
    result.assign(file->current, op.offset, n);
  }
  sim_.RecordTrigger({.node = node_,
                      .kind = EventKind::kDiskRead,
                      .a = op.offset,
                      .b = result.size(),
                      .payload = op.file});
  if (absl::Status s = CheckName(op.file); !s.ok()) return s;
  if (file == nullptr) return absl::NotFoundError(absl::StrCat("no disk file ", Sv(op.file)));
  if (!result.empty() && read_fault_rng_.Chance(rates_.read_corrupt_ppm, kPartsPerMillion)) {
    const uint64_t bit = read_fault_rng_.Uniform(result.size() * 8);
    FlipBit(result, bit);
    ++counts_.read_corruptions;
    sim_.Record({.node = node_,
                 .kind = EventKind::kDiskCorrupt,
                 .a = op.offset + bit / 8,
                 .b = 1,  // 1: only the returned copy was damaged.
                 .payload = op.file});
  }
  return result;
}

absl::Status Disk::CompleteSync(Op& op) {
  File* file = FindFile(op.file);
  uint64_t writes = 0;
  uint64_t bytes = 0;
  if (file != nullptr) {
    // Writes are in ascending seq, so those the sync covers are a prefix.
    for (const UnsyncedWrite& w : file->unsynced) {
      if (w.seq > op.sync_watermark) break;
      Overlay(file->durable, w.offset, w.bytes);
      ++writes;
      bytes += w.bytes.size();
    }
    file->unsynced.erase(file->unsynced.begin(), file->unsynced.begin() + writes);
    HC_ASSERT(!file->unsynced.empty() || file->durable.size() == file->current.size());
  }
  sim_.RecordTrigger(
      {.node = node_, .kind = EventKind::kDiskSync, .a = writes, .b = bytes, .payload = op.file});
  if (absl::Status s = CheckName(op.file); !s.ok()) return s;
  if (file == nullptr) return absl::NotFoundError(absl::StrCat("no disk file ", Sv(op.file)));
  return absl::OkStatus();
}

// --- Metadata -------------------------------------------------------------------------

Disk::File* Disk::FindFile(std::string_view name) {
  auto it = files_.find(name);
  return it == files_.end() ? nullptr : &it->second;
}

const Disk::File* Disk::FindFile(std::string_view name) const {
  auto it = files_.find(name);
  return it == files_.end() ? nullptr : &it->second;
}

absl::StatusOr<uint64_t> Disk::Size(std::string_view file) const {
  const File* f = FindFile(file);
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("no disk file ", Sv(file)));
  return f->current.size();
}

bool Disk::Exists(std::string_view file) const { return FindFile(file) != nullptr; }

absl::Status Disk::Truncate(std::string_view file, uint64_t size_bytes) {
  File* f = FindFile(file);
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("no disk file ", Sv(file)));
  if (size_bytes > kMaxFileSizeBytes) {
    return absl::ResourceExhaustedError("truncate past the file size limit");
  }
  f->current.resize(size_bytes, '\0');
  f->durable.resize(size_bytes, '\0');
  // Clipping keeps the invariant current == durable + unsynced: bytes below the new size are
  // unchanged on both sides, and both now end exactly at size_bytes.
  std::erase_if(f->unsynced,
                [size_bytes](const UnsyncedWrite& w) { return w.offset >= size_bytes; });
  for (UnsyncedWrite& w : f->unsynced) {
    if (w.offset + w.bytes.size() > size_bytes) w.bytes.resize(size_bytes - w.offset);
  }
  sim_.Record({.node = node_, .kind = EventKind::kDiskTruncate, .a = size_bytes, .payload = file});
  return absl::OkStatus();
}

absl::Status Disk::Delete(std::string_view file) {
  auto it = files_.find(file);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat("no disk file ", Sv(file)));
  files_.erase(it);
  sim_.Record({.node = node_, .kind = EventKind::kDiskDelete, .payload = file});
  return absl::OkStatus();
}

std::vector<std::string> Disk::List() const {
  std::vector<std::string> names;
  names.reserve(files_.size());
  for (const auto& [name, file] : files_) names.push_back(name);
  return names;
}

bool Disk::RotSector() {
  std::vector<std::pair<const std::string*, File*>> candidates;
  for (auto& [name, file] : files_) {
    if (!file.durable.empty()) candidates.emplace_back(&name, &file);
  }
  if (candidates.empty()) return false;
  const auto [name, chosen] = candidates[rot_rng_.Uniform(candidates.size())];
  File& file = *chosen;
  const uint64_t sectors = (file.durable.size() + kSectorSizeBytes - 1) / kSectorSizeBytes;
  const uint64_t sector = rot_rng_.Uniform(sectors);
  const uint64_t first = sector * kSectorSizeBytes;
  const uint64_t offset =
      first + rot_rng_.Uniform(std::min<uint64_t>(kSectorSizeBytes, file.durable.size() - first));
  const char flip = static_cast<char>(1 + rot_rng_.Uniform(255));  // Never a no-op.
  file.durable[offset] ^= flip;
  const bool shadowed =
      std::any_of(file.unsynced.begin(), file.unsynced.end(), [&](const UnsyncedWrite& w) {
        return offset >= w.offset && offset < w.offset + w.bytes.size();
      });
  if (!shadowed && offset < file.current.size()) file.current[offset] ^= flip;
  ++counts_.rotted_sectors;
  sim_.Record({.node = node_,
               .kind = EventKind::kDiskCorrupt,
               .a = offset,
               .b = 2,  // 2: the durable byte went bad at rest.
               .payload = *name});
  return true;
}

void Disk::SetFaults(const DiskFaultRates& rates) {
  HC_ASSERT(rates.read_corrupt_ppm <= kPartsPerMillion);
  HC_ASSERT(rates.write_corrupt_ppm <= kPartsPerMillion);
  HC_ASSERT(rates.misdirect_ppm <= kPartsPerMillion);
  rates_ = rates;
}

// --- Crash ----------------------------------------------------------------------------

CrashFate Disk::DrawCrashFate() {
  const uint64_t total = uint64_t{options_.crash_lost_weight} + options_.crash_kept_weight +
                         options_.crash_torn_weight;
  const uint64_t draw = crash_rng_.Uniform(total);
  if (draw < options_.crash_lost_weight) return CrashFate::kLost;
  if (draw < uint64_t{options_.crash_lost_weight} + options_.crash_kept_weight) {
    return CrashFate::kKept;
  }
  return CrashFate::kTorn;
}

void Disk::CrashFile(const std::string& name, File& file) {
  std::string image = std::move(file.durable);
  for (const UnsyncedWrite& w : file.unsynced) {
    CrashedWrite report{.file = name, .offset = w.offset, .length = w.bytes.size()};
    report.fate = DrawCrashFate();
    uint64_t lost_bytes = 0;
    if (report.fate == CrashFate::kKept) {
      Overlay(image, w.offset, w.bytes);
    } else if (report.fate == CrashFate::kLost) {
      lost_bytes = w.bytes.size();
    } else {
      const uint64_t end = w.offset + w.bytes.size();
      for (uint64_t sector = w.offset / kSectorSizeBytes; sector * kSectorSizeBytes < end;
           ++sector) {
        const uint64_t begin = std::max(sector * kSectorSizeBytes, w.offset);
        const uint64_t stop = std::min((sector + 1) * kSectorSizeBytes, end);
        const bool kept = crash_rng_.Chance(1, 2);
        report.sector_kept.push_back(kept);
        if (kept) {
          Overlay(image, begin, std::string_view(w.bytes).substr(begin - w.offset, stop - begin));
        } else {
          lost_bytes += stop - begin;
        }
      }
    }
    if (lost_bytes > 0) {
      ++(report.fate == CrashFate::kLost ? counts_.crash_lost_writes : counts_.crash_torn_writes);
      sim_.Record({.node = node_,
                   .kind = EventKind::kDiskLost,
                   .a = w.offset,
                   .b = lost_bytes,
                   .payload = name});
    }
    last_crash_.push_back(std::move(report));
  }
  file.unsynced.clear();
  file.current = image;
  file.durable = std::move(image);
}

void Disk::LandWritesPastTheirPoint() {
  std::vector<Op*> landed;
  for (Op& op : ops_) {
    if (op.in_use && op.kind == OpKind::kWriteAndSync && op.write_point <= sim_.Now()) {
      landed.push_back(&op);
    }
  }
  std::sort(landed.begin(), landed.end(), [](const Op* x, const Op* y) {
    if (x->write_point != y->write_point) return x->write_point < y->write_point;
    return x->issue_seq < y->issue_seq;
  });
  // A write that would have failed (a bad name, past the limits) leaves nothing to resolve.
  for (Op* op : landed) LandWrite(*op, FindFile(op->file), op->offset).IgnoreError();
}

void Disk::OnCrash() {
  last_crash_.clear();
  LandWritesPastTheirPoint();
  for (auto& [name, file] : files_) {
    if (!file.unsynced.empty()) CrashFile(name, file);
  }
  // The simulator discards every task the node owned, so no completion will run; dropping
  // the slots (and their callbacks) is safe.
  ops_.clear();
  free_ops_.clear();
  ops_in_flight_ = 0;
}

// --- Test hooks -----------------------------------------------------------------------

std::optional<std::string_view> Disk::DurableForTest(std::string_view file) const {
  const File* f = FindFile(file);
  if (f == nullptr) return std::nullopt;
  return std::string_view(f->durable);
}

std::optional<std::string_view> Disk::VolatileForTest(std::string_view file) const {
  const File* f = FindFile(file);
  if (f == nullptr) return std::nullopt;
  return std::string_view(f->current);
}

size_t Disk::UnsyncedWritesForTest(std::string_view file) const {
  const File* f = FindFile(file);
  return f == nullptr ? 0 : f->unsynced.size();
}

// --- DiskSet --------------------------------------------------------------------------

Disk& DiskSet::Add(NodeId node) {
  HC_ASSERT_MSG(!disks_.contains(node), "disk added twice for one node");
  auto [it, inserted] = disks_.emplace(node, std::make_unique<Disk>(sim_, node, options_));
  return *it->second;
}

Disk& DiskSet::disk(NodeId node) {
  auto it = disks_.find(node);
  HC_ASSERT_MSG(it != disks_.end(), "no disk for this node");
  return *it->second;
}

void DiskSet::SetFaults(const DiskFaultRates& rates) {
  for (auto& [node, disk] : disks_) disk->SetFaults(rates);
}

DiskFaultCounts DiskSet::TotalFaultCounts() const {
  DiskFaultCounts total;
  for (const auto& [node, disk] : disks_) {
    const DiskFaultCounts& c = disk->fault_counts();
    total.read_corruptions += c.read_corruptions;
    total.write_corruptions += c.write_corruptions;
    total.misdirected_writes += c.misdirected_writes;
    total.crash_lost_writes += c.crash_lost_writes;
    total.crash_torn_writes += c.crash_torn_writes;
  }
  return total;
}

}  // namespace hindcast::sim
