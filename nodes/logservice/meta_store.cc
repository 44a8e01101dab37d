#include "nodes/logservice/meta_store.h"

#include <optional>
#include <utility>

#include "nodes/wire.h"
#include "sim/assert.h"
#include "storage/record.h"

namespace hindcast::nodes::logservice {
namespace {

constexpr uint64_t kSectorBytes = sim::kSectorSizeBytes;
// Read corruption is transient; damage that survives this many reads is on the disk.
constexpr int kReadAttemptsMax = 4;

bool AllZero(std::string_view bytes) {
  return bytes.find_first_not_of('\0') == std::string_view::npos;
}

}  // namespace

std::optional<Meta> MetaStore::Scan(std::string_view file_bytes) {
  std::optional<Meta> best;
  for (uint64_t offset = 0; offset < file_bytes.size(); offset += kSectorBytes) {
    const std::string_view sector = file_bytes.substr(offset, kSectorBytes);
    const storage::DecodedRecords decoded = storage::DecodeRecords(sector);
    Meta meta;
    if (decoded.records.empty() || !ParseMessage(decoded.records[0], &meta)) continue;
    if (!best.has_value() || meta.version() > best->version()) best = meta;
  }
  return best;
}

void MetaStore::Load(absl::AnyInvocable<void(const Loaded&)> done) {
  LoadAttempt(0, Loaded{}, std::move(done));
}

void MetaStore::LoadAttempt(int attempt, Loaded best,
                            absl::AnyInvocable<void(const Loaded&)> done) {
  sim::Disk* disk = env_.disk();
  HC_ASSERT(disk != nullptr);
  const absl::StatusOr<uint64_t> size = disk->Size(kMetaFile);
  if (!size.ok() || *size == 0) {
    done(Loaded{});
    return;
  }
  disk->Read(
      kMetaFile, 0, *size,
      [this, attempt, best, size = *size,
       done = std::move(done)](absl::StatusOr<std::string> bytes) mutable {
        bool clean = bytes.ok() && bytes->size() == size;
        if (bytes.ok()) {
          if (AllZero(*bytes) && best.outcome != kLoaded) {
            best.outcome = kFresh;
          } else if (std::optional<Meta> m = Scan(*bytes); m.has_value()) {
            if (best.outcome != kLoaded || m->version() > best.meta.version()) {
              best = {.outcome = kLoaded, .meta = *m};
            }
            // A sector that is neither zero nor valid may be a read corruption.
            for (uint64_t o = 0; o < bytes->size(); o += kSectorBytes) {
              const std::string_view s = std::string_view(*bytes).substr(o, kSectorBytes);
              if (!AllZero(s) && storage::DecodeRecords(s).records.empty()) clean = false;
            }
          } else {
            clean = false;
            if (best.outcome != kLoaded) best.outcome = kLost;
          }
        }
        if (!clean && attempt + 1 < kReadAttemptsMax) {
          LoadAttempt(attempt + 1, best, std::move(done));
          return;
        }
        if (best.outcome == kLoaded) {
          version_ = best.meta.version();
          // Keep the newest record: write first to the slot that does not hold it.
          const std::optional<Meta> slot0 =
              bytes.ok() ? Scan(std::string_view(*bytes).substr(0, kSectorBytes)) : std::nullopt;
          verified_slot_ = slot0.has_value() && slot0->version() == best.meta.version() ? 0 : 1;
        }
        done(best);
      });
}

void MetaStore::Write(Meta meta, absl::AnyInvocable<void()> done) {
  HC_ASSERT_MSG(!writing_, "one metadata write at a time");
  writing_ = true;
  meta.set_version(++version_);
  target_ = std::move(meta);
  target_bytes_ = storage::EncodeRecord(Encode(target_));
  HC_ASSERT_MSG(target_bytes_.size() <= kSectorBytes, "a metadata record must fit a sector");
  done_ = std::move(done);
  WriteSlot();
}

void MetaStore::WriteSlot() {
  const uint64_t offset = static_cast<uint64_t>(1 - verified_slot_) * kSectorBytes;
  std::string padded = target_bytes_;
  padded.resize(kSectorBytes, '\0');
  sim::Disk* disk = env_.disk();
  disk->WriteAndSync(kMetaFile, offset, std::move(padded), [this, disk, offset](absl::Status) {
    disk->Read(kMetaFile, offset, target_bytes_.size(), [this](absl::StatusOr<std::string> bytes) {
      if (!bytes.ok() || *bytes != target_bytes_) {
        WriteSlot();  // Lost, misdirected or corrupt: the same slot again.
        return;
      }
      verified_slot_ = 1 - verified_slot_;
      writing_ = false;
      auto done = std::move(done_);
      done();
    });
  });
}

}  // namespace hindcast::nodes::logservice
