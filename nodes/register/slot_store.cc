#include "nodes/register/slot_store.h"

#include <memory>
#include <utility>

#include "nodes/register/register.pb.h"
#include "nodes/wire.h"
#include "sim/assert.h"
#include "storage/record.h"

namespace hindcast::nodes::reg {
namespace {

constexpr char kFile[] = "register.slots";
constexpr size_t kSlotSizeBytes = 512;
constexpr int kReadAttemptsMax = 4;  // Read corruption is transient; persistent is real.

}  // namespace

void SlotStore::Persist(const RegState& state, absl::AnyInvocable<void(const RegState&)> done) {
  HC_ASSERT_MSG(!persisting_, "one Persist at a time");
  persisting_ = true;
  target_ = state;
  done_ = std::move(done);
  WriteSlot();
}

void SlotStore::WriteSlot() {
  const int slot = static_cast<int>(writes_++ % 2);
  Slot record;
  record.set_slot(slot);
  record.set_epoch(target_.epoch);
  record.set_version(target_.version);
  record.set_has_value(target_.value.has_value());
  record.set_value(target_.value.value_or(0));
  target_bytes_ = storage::EncodeRecord(Encode(record));
  HC_ASSERT(target_bytes_.size() <= kSlotSizeBytes);
  std::string padded = target_bytes_;
  padded.resize(kSlotSizeBytes, '\0');
  sim::Disk* disk = env_.disk();
  HC_ASSERT(disk != nullptr);
  disk->Write(kFile, slot * kSlotSizeBytes, std::move(padded), [this, disk, slot](absl::Status) {
    disk->Sync(kFile, [this, disk, slot](absl::Status) {
      disk->Read(kFile, slot * kSlotSizeBytes, target_bytes_.size(),
                 [this](absl::StatusOr<std::string> bytes) {
                   if (!bytes.ok() || *bytes != target_bytes_) {
                     WriteSlot();  // Lost, misdirected or corrupt: write it again.
                     return;
                   }
                   persisting_ = false;
                   auto done = std::move(done_);
                   done(target_);
                 });
    });
  });
}

SlotStore::SlotRead SlotStore::DecodeSlot(int slot, std::string_view bytes) {
  SlotRead r;
  if (bytes.find_first_not_of('\0') == std::string_view::npos) {
    r.empty = r.ok = true;
    return r;
  }
  const storage::DecodedRecords decoded = storage::DecodeRecords(bytes);
  Slot record;
  if (decoded.records.empty() || !ParseMessage(decoded.records[0], &record) ||
      record.slot() != static_cast<uint32_t>(slot)) {
    return r;
  }
  r.ok = true;
  r.state = {.epoch = record.epoch(),
             .version = record.version(),
             .value = record.has_value() ? std::optional<int64_t>(record.value()) : std::nullopt};
  return r;
}

void SlotStore::LoadSlot(int slot, int attempt, absl::AnyInvocable<void(SlotRead)> done) {
  sim::Disk* disk = env_.disk();
  const uint64_t offset = slot * kSlotSizeBytes;
  const absl::StatusOr<uint64_t> size = disk->Size(kFile);
  if (!size.ok() || *size <= offset) {
    done({.empty = true, .ok = true});
    return;
  }
  disk->Read(
      kFile, offset, kSlotSizeBytes,
      [this, slot, attempt, done = std::move(done)](absl::StatusOr<std::string> bytes) mutable {
        SlotRead r;
        if (bytes.ok()) r = DecodeSlot(slot, *bytes);
        if (!r.ok && attempt + 1 < kReadAttemptsMax) {
          LoadSlot(slot, attempt + 1, std::move(done));
          return;
        }
        done(r);
      });
}

void SlotStore::Load(absl::AnyInvocable<void(const Loaded&)> done) {
  LoadSlot(0, 0, [this, done = std::move(done)](SlotRead first) mutable {
    LoadSlot(1, 0, [first, done = std::move(done)](SlotRead second) mutable {
      Loaded loaded;
      loaded.valid = first.ok && second.ok;
      for (const SlotRead& r : {first, second}) {
        if (r.ok && !r.empty && r.state.version >= loaded.state.version) {
          loaded.state.version = r.state.version;
          loaded.state.value = r.state.value;
        }
        if (r.ok && !r.empty) loaded.state.epoch = std::max(loaded.state.epoch, r.state.epoch);
      }
      done(loaded);
    });
  });
}

}  // namespace hindcast::nodes::reg
