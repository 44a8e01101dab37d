#include "nodes/logservice/log_store.h"

#include <algorithm>
#include <utility>

#include "sim/assert.h"

namespace hindcast::nodes::logservice {
namespace {

// Read corruption is transient; damage that survives this many reads is on the disk.
constexpr int kReadAttemptsMax = 4;
// Repairs past this many in a row wait before the next try, so a disk-fault window can pass.
constexpr int kRepairAttemptsBeforeBackoff = 3;
constexpr sim::Duration kRepairBackoff = sim::Duration::Millis(5);

uint64_t FirstMismatch(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return i;
  }
  return n;
}

}  // namespace

LogStore::LogStore(NodeEnv& env) : env_(env), meta_(env), file_(LogFileName(0)) {
  HC_ASSERT_MSG(env.disk() != nullptr, "a log replica needs a disk");
}

// --- Recovery ------------------------------------------------------------------------------

void LogStore::Load(absl::AnyInvocable<void(Loaded)> done) {
  HC_ASSERT(!loaded_);
  meta_.Load([this, done = std::move(done)](const MetaStore::Loaded& meta) mutable {
    if (meta.outcome == MetaStore::kLost) {
      Loaded lost;
      lost.amnesia = true;
      done(std::move(lost));
      return;
    }
    durable_meta_ = meta.meta;
    generation_ = meta.meta.log_generation();
    file_ = LogFileName(generation_);
    hard_state_.term = meta.meta.term();
    if (meta.meta.voted_for() != 0) {
      hard_state_.vote = static_cast<sim::NodeId>(meta.meta.voted_for() - 1);
    }
    durable_hard_state_ = hard_state_;
    vote_barrier_ = meta.meta.vote_barrier();
    // Files of other generations are leftovers of a compaction that crashed before or
    // after switching; the metadata names the one that counts.
    sim::Disk* disk = env_.disk();
    for (const std::string& name : disk->List()) {
      if (IsLogFileName(name) && name != file_) HC_ASSERT(disk->Delete(name).ok());
    }
    LoadLog(meta, 0, DecodedLog{}, std::move(done));
  });
}

void LogStore::LoadLog(const MetaStore::Loaded& meta, int attempt, DecodedLog best,
                       absl::AnyInvocable<void(Loaded)> done) {
  sim::Disk* disk = env_.disk();
  const absl::StatusOr<uint64_t> size = disk->Size(file_);
  if (!size.ok() || *size == 0) {
    image_.clear();
    FinishLoad(meta, DecodedLog{}, std::move(done));
    return;
  }
  disk->Read(file_, 0, *size,
             [this, meta, attempt, best = std::move(best),
              done = std::move(done)](absl::StatusOr<std::string> bytes) mutable {
               DecodedLog decoded;
               if (bytes.ok()) decoded = DecodeLogFile(*bytes);
               const bool clean = bytes.ok() && decoded.clean;
               if (attempt == 0 || decoded.valid_bytes > best.valid_bytes) {
                 best = std::move(decoded);
                 image_ = bytes.ok() ? bytes->substr(0, best.valid_bytes) : std::string();
               }
               if (!clean && attempt + 1 < kReadAttemptsMax) {
                 LoadLog(meta, attempt + 1, std::move(best), std::move(done));
                 return;
               }
               FinishLoad(meta, std::move(best), std::move(done));
             });
}

void LogStore::FinishLoad(const MetaStore::Loaded& meta, DecodedLog log,
                          absl::AnyInvocable<void(Loaded)> done) {
  HC_ASSERT(image_.size() == log.valid_bytes);
  sim::Disk* disk = env_.disk();
  // Everything past the well-formed prefix goes: a torn tail, or garbage a fault left.
  const absl::StatusOr<uint64_t> size = disk->Size(file_);
  if (size.ok() && *size > log.valid_bytes) HC_ASSERT(disk->Truncate(file_, log.valid_bytes).ok());
  start_index_ = log.has_header ? log.start_index : 0;
  start_term_ = log.has_header ? log.start_term : 0;
  offsets_ = std::move(log.offsets);
  const uint64_t last = start_index_ + offsets_.size();
  const uint64_t watermark = meta.meta.watermark();

  Loaded loaded;
  loaded.hard_state = hard_state_;
  loaded.start_index = start_index_;
  loaded.start_term = start_term_;
  loaded.entries = std::move(log.entries);
  if (last < watermark) {
    // Synced, verified entries are missing: a disk fault, not a crash (see the header).
    loaded.lost_synced_entries = true;
    vote_barrier_ = std::max(vote_barrier_, watermark);
  }
  loaded.vote_barrier = vote_barrier_;
  durable_index_ = std::min(last, watermark);
  loaded_ = true;
  // Entries past the watermark survived the crash, so they are durable now; a metadata
  // write covers them before they count (and records a raised barrier).
  if (last != watermark || vote_barrier_ != meta.meta.vote_barrier()) Enqueue({});
  done(std::move(loaded));
}

// --- Operations ----------------------------------------------------------------------------

void LogStore::SetHardState(const HardState& hard_state) {
  HC_ASSERT_MSG(hard_state.term >= hard_state_.term, "terms never go back");
  hard_state_ = hard_state;
  Enqueue({});
}

void LogStore::SetVoteBarrier(uint64_t barrier) {
  vote_barrier_ = barrier;
  Enqueue({});
}

void LogStore::Append(std::vector<Entry> entries) {
  if (entries.empty()) return;
  Enqueue({.kind = OpKind::kAppend, .entries = std::move(entries)});
}

void LogStore::TruncateSuffix(uint64_t from_index) {
  HC_ASSERT(from_index > 0);
  // Entries not yet written need not be written; those in the file are cut by the op.
  for (Op& op : queue_) {
    if (op.kind != OpKind::kAppend && op.kind != OpKind::kCompact) continue;
    while (!op.entries.empty() && op.entries.back().index() >= from_index) op.entries.pop_back();
  }
  durable_index_ = std::min(durable_index_, from_index - 1);
  Enqueue({.kind = OpKind::kTruncate, .index = from_index});
}

void LogStore::Compact(uint64_t index, uint64_t term, std::vector<Entry> suffix) {
  HC_ASSERT(suffix.empty() || suffix.front().index() == index + 1);
  Enqueue({.kind = OpKind::kCompact, .entries = std::move(suffix), .index = index, .term = term});
}

void LogStore::Enqueue(Op op) {
  if (op.kind == OpKind::kMeta && !queue_.empty()) {
    // Every operation ends with a metadata write carrying the newest hard state.
  } else if (op.kind == OpKind::kAppend && !queue_.empty() &&
             queue_.back().kind == OpKind::kAppend) {
    std::vector<Entry>& batch = queue_.back().entries;
    HC_ASSERT(batch.empty() || batch.back().index() + 1 == op.entries.front().index());
    for (Entry& e : op.entries) batch.push_back(std::move(e));
  } else {
    queue_.push_back(std::move(op));
  }
  RunNext();
}

uint64_t LogStore::QueuedTruncationFloor() const {
  uint64_t floor = UINT64_MAX;
  for (const Op& op : queue_) {
    if (op.kind == OpKind::kTruncate) floor = std::min(floor, op.index - 1);
  }
  return floor;
}

void LogStore::RunNext() {
  if (busy_ || !loaded_ || queue_.empty()) return;
  busy_ = true;
  Op op = std::move(queue_.front());
  queue_.pop_front();
  const uint64_t last = start_index_ + offsets_.size();
  switch (op.kind) {
    case OpKind::kAppend:
      if (op.entries.empty()) {  // Every entry was truncated away while queued.
        WriteMeta(last, [this, last] { Finish(last); });
      } else {
        RunAppend(std::move(op));
      }
      return;
    case OpKind::kTruncate:
      RunTruncate(op.index);
      return;
    case OpKind::kCompact:
      RunCompact(std::move(op));
      return;
    case OpKind::kMeta:
      WriteMeta(last, [this, last] { Finish(last); });
      return;
  }
}

void LogStore::RunAppend(Op op) {
  HC_ASSERT_MSG(op.entries.front().index() == start_index_ + offsets_.size() + 1,
                "appends must continue the log file");
  const uint64_t offset = image_.size();
  std::string bytes = image_.empty() ? EncodeLogHeader(start_index_, start_term_) : "";
  for (const Entry& e : op.entries) {
    offsets_.push_back(offset + bytes.size());
    bytes += EncodeLogEntry(e);
  }
  image_ += bytes;
  const uint64_t last = op.entries.back().index();
  HC_ASSERT(last == start_index_ + offsets_.size());
  ++stats_.appends;
  sim::Disk* disk = env_.disk();
  disk->WriteAndSync(file_, offset, std::move(bytes), [this, offset, last](absl::Status) {
    Verify(offset, [this, last] { WriteMeta(last, [this, last] { Finish(last); }); });
  });
}

void LogStore::RunTruncate(uint64_t from_index) {
  const uint64_t last = start_index_ + offsets_.size();
  if (from_index > last) {
    WriteMeta(last, [this, last] { Finish(last); });
    return;
  }
  HC_ASSERT_MSG(from_index > start_index_, "cannot truncate into the compacted prefix");
  // The watermark comes down first, so a crash in between never reads as lost entries.
  WriteMeta(from_index - 1, [this, from_index] {
    const uint64_t keep = from_index - start_index_ - 1;
    const uint64_t cut = offsets_[keep];
    HC_ASSERT(env_.disk()->Truncate(file_, cut).ok());
    image_.resize(cut);
    offsets_.resize(keep);
    Finish(from_index - 1);
  });
}

void LogStore::RunCompact(Op op) {
  HC_ASSERT(op.index >= start_index_);
  sim::Disk* disk = env_.disk();
  const std::string old_file = file_;
  ++generation_;
  file_ = LogFileName(generation_);
  if (disk->Exists(file_)) HC_ASSERT(disk->Delete(file_).ok());
  start_index_ = op.index;
  start_term_ = op.term;
  image_ = EncodeLogHeader(start_index_, start_term_);
  offsets_.clear();
  for (const Entry& e : op.entries) {
    HC_ASSERT(e.index() == start_index_ + offsets_.size() + 1);
    offsets_.push_back(image_.size());
    image_ += EncodeLogEntry(e);
  }
  const uint64_t last = start_index_ + offsets_.size();
  ++stats_.compactions;
  disk->WriteAndSync(file_, 0, image_, [this, disk, old_file, last](absl::Status) {
    Verify(0, [this, disk, old_file, last] {
      WriteMeta(last, [this, disk, old_file, last] {
        if (disk->Exists(old_file)) HC_ASSERT(disk->Delete(old_file).ok());
        Finish(last);
      });
    });
  });
}

void LogStore::WriteMeta(uint64_t watermark, absl::AnyInvocable<void()> then) {
  Meta meta;
  meta.set_term(hard_state_.term);
  meta.set_voted_for(hard_state_.vote.has_value() ? *hard_state_.vote + 1 : 0);
  meta.set_log_generation(generation_);
  meta.set_watermark(watermark);
  meta.set_vote_barrier(vote_barrier_);
  const HardState written = hard_state_;
  meta_.Write(meta, [this, meta, written, then = std::move(then)]() mutable {
    durable_meta_ = meta;
    durable_hard_state_ = written;
    then();
  });
}

void LogStore::Verify(uint64_t offset, absl::AnyInvocable<void()> then) {
  sim::Disk* disk = env_.disk();
  const absl::StatusOr<uint64_t> size = disk->Size(file_);
  if (!size.ok() || *size != image_.size()) {
    ++stats_.repairs;
    Repair(0, std::move(then));
    return;
  }
  disk->Read(
      file_, offset, image_.size() - offset,
      [this, offset, then = std::move(then)](absl::StatusOr<std::string> bytes) mutable {
        if (bytes.ok() && std::string_view(*bytes) == std::string_view(image_).substr(offset)) {
          then();
          return;
        }
        ++stats_.repairs;
        Repair(0, std::move(then));
      });
}

void LogStore::Repair(int attempt, absl::AnyInvocable<void()> then) {
  if (attempt >= kRepairAttemptsBeforeBackoff) {
    env_.SetTimer(kRepairBackoff,
                  [this, then = std::move(then)]() mutable { Repair(0, std::move(then)); });
    return;
  }
  sim::Disk* disk = env_.disk();
  const uint64_t size = disk->Size(file_).value_or(0);
  disk->Read(
      file_, 0, std::max<uint64_t>(size, image_.size()),
      [this, disk, attempt, then = std::move(then)](absl::StatusOr<std::string> bytes) mutable {
        if (!bytes.ok()) {
          Repair(attempt + 1, std::move(then));
          return;
        }
        // A misdirected write may have grown the file: the excess is garbage.
        if (bytes->size() > image_.size()) {
          HC_ASSERT(disk->Truncate(file_, image_.size()).ok());
        }
        const uint64_t first_bad = FirstMismatch(*bytes, image_);
        if (first_bad >= image_.size()) {
          then();
          return;
        }
        disk->WriteAndSync(file_, first_bad, image_.substr(first_bad),
                           [this, attempt, then = std::move(then)](absl::Status) mutable {
                             Repair(attempt + 1, std::move(then));
                           });
      });
}

void LogStore::Finish(uint64_t content_last_index) {
  HC_ASSERT(busy_);
  HC_ASSERT(content_last_index == start_index_ + offsets_.size());
  busy_ = false;
  durable_index_ = std::min(content_last_index, QueuedTruncationFloor());
  HC_ASSERT_MSG(durable_index_ <= durable_meta_.watermark(),
                "an index counts as durable only under the synced watermark");
  if (on_progress_) on_progress_();
  RunNext();
}

}  // namespace hindcast::nodes::logservice
