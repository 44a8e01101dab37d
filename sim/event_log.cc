#include "sim/event_log.h"

#include <bit>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"

namespace hindcast::sim {

uint64_t FoldWord(uint64_t hash, uint64_t word) {
  const unsigned __int128 product =
      static_cast<unsigned __int128>(hash ^ word ^ 0xa0761d6478bd642fULL) *
      (word ^ 0xe7037ed1a0b428dbULL);
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

namespace {

// 8 bytes as a little-endian word (the first byte lowest), on any host. The compiler does
// not merge a byte loop into one load, so a little-endian host copies instead.
uint64_t LoadWord(const char* p) {
  uint64_t word = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&word, p, 8);
  } else {
    for (int b = 7; b >= 0; --b) word = (word << 8) | static_cast<unsigned char>(p[b]);
  }
  return word;
}

uint64_t FoldBytes(uint64_t hash, std::string_view bytes) {
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) hash = FoldWord(hash, LoadWord(&bytes[i]));
  if (i < bytes.size()) {  // The last 1-7 bytes, zero-padded.
    uint64_t word = 0;
    for (size_t b = bytes.size(); b > i; --b) {
      word = (word << 8) | static_cast<unsigned char>(bytes[b - 1]);
    }
    hash = FoldWord(hash, word);
  }
  return hash;
}

}  // namespace

std::string_view EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kNone:
      return "none";
    case EventKind::kTimerFire:
      return "timer";
    case EventKind::kSend:
      return "send";
    case EventKind::kDeliver:
      return "deliver";
    case EventKind::kDrop:
      return "drop";
    case EventKind::kDuplicate:
      return "duplicate";
    case EventKind::kCrash:
      return "crash";
    case EventKind::kRestart:
      return "restart";
    case EventKind::kDiskWrite:
      return "disk-write";
    case EventKind::kDiskSync:
      return "disk-sync";
    case EventKind::kDiskRead:
      return "disk-read";
    case EventKind::kDiskCorrupt:
      return "disk-corrupt";
    case EventKind::kDiskLost:
      return "disk-lost";
    case EventKind::kFault:
      return "fault";
    case EventKind::kClockJump:
      return "clock-jump";
    case EventKind::kPartition:
      return "partition";
    case EventKind::kHeal:
      return "heal";
    case EventKind::kClog:
      return "clog";
    case EventKind::kHlcViolation:
      return "hlc-violation";
    case EventKind::kDiskMisdirect:
      return "disk-misdirect";
    case EventKind::kDiskTruncate:
      return "disk-truncate";
    case EventKind::kDiskDelete:
      return "disk-delete";
    case EventKind::kClientInvoke:
      return "invoke";
    case EventKind::kClientOk:
      return "ok";
    case EventKind::kClientFail:
      return "fail";
    case EventKind::kClientInfo:
      return "info";
    case EventKind::kNodeState:
      return "state";
    case EventKind::kNote:
      return "note";
  }
  return "unknown";
}

std::string Event::ToString() const {
  std::string out = absl::StrCat("#", seq, " t=", time.ToString(), " ");
  if (node == kNoNode) {
    absl::StrAppend(&out, "-");
  } else {
    absl::StrAppend(&out, "n", node);
  }
  absl::StrAppend(&out, " ", Sv(EventKindName(kind)));
  if (cause != 0) absl::StrAppend(&out, " cause=#", cause);
  absl::StrAppend(&out, " a=", a, " b=", b);
  if (!payload.empty()) {
    const std::string_view shown = payload.substr(0, 32);
    absl::StrAppend(&out, " payload=[", absl::BytesToHexString(Sv(shown)),
                    payload.size() > shown.size() ? "..." : "", "]");
  }
  return out;
}

uint64_t EventLog::Append(const Event& event) {
  const uint64_t seq = next_seq_++;
  uint64_t h = fingerprint_;
  h = FoldWord(h, seq);
  h = FoldWord(h, static_cast<uint64_t>(event.time.ns()));
  h = FoldWord(h, (static_cast<uint64_t>(event.node) << 16) | static_cast<uint16_t>(event.kind));
  h = FoldWord(h, event.cause);
  h = FoldWord(h, event.a);
  h = FoldWord(h, event.b);
  h = FoldWord(h, event.payload.size());
  fingerprint_ = FoldBytes(h, event.payload);

  if (retention_ == Retention::kFull || !observers_.empty()) {
    Event stored = event;
    stored.seq = seq;
    if (retention_ == Retention::kFull) {
      HC_ASSERT_MSG(payloads_.size() + event.payload.size() < UINT32_MAX,
                    "event payload arena limit (4 GiB) reached");
      records_.push_back({stored, static_cast<uint32_t>(payloads_.size()),
                          static_cast<uint32_t>(event.payload.size())});
      records_.back().event.payload = {};
      payloads_.append(event.payload);
    }
    for (Observer& observer : observers_) observer(stored);
  }
  return seq;
}

Event EventLog::event(size_t index) const {
  HC_ASSERT(index < records_.size());
  const Record& r = records_[index];
  Event e = r.event;
  e.payload = std::string_view(payloads_).substr(r.payload_offset, r.payload_size);
  return e;
}

}  // namespace hindcast::sim
