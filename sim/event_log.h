// The event log: every observable event of a run, folded into a 64-bit fingerprint.
//
// Each event has a sequence number (its index in the run), the true virtual time, the node
// it happened on, a kind, the event that caused it (a delivery points to its send; 0 means
// "no recorded cause"), two integer arguments and an optional compact byte payload.
//
//   EventLog log(EventLog::Retention::kFull);
//   uint64_t send = log.Append({.time = now, .node = 1, .kind = EventKind::kSend, .a = 2});
//   log.Append({.time = later, .node = 2, .kind = EventKind::kDeliver, .cause = send});
//   uint64_t fp = log.fingerprint();
//
// The fingerprint is always computed, over a canonical little-endian encoding of every
// field, so it is the same in every build. Keeping the events themselves in memory is a
// per-run choice: a sweep keeps fingerprints only and re-runs a failing seed with the log.
// Observers see every event as it is appended (tracing sinks and test models hang here);
// they can never change the run.
#ifndef HINDCAST_SIM_EVENT_LOG_H_
#define HINDCAST_SIM_EVENT_LOG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "sim/time.h"

namespace hindcast::sim {

// Event kinds of every layer live in this one enum so the log can name them; a higher layer
// adds its kinds here (data, not a dependency). Values are part of the fingerprint: never
// renumber, only append.
enum class EventKind : uint16_t {
  kNone = 0,
  // Kernel.
  kTimerFire = 1,
  kSend = 2,
  kDeliver = 3,
  kDrop = 4,
  kDuplicate = 5,
  kCrash = 6,
  kRestart = 7,
  kDiskWrite = 8,
  kDiskSync = 9,
  kDiskRead = 10,
  kDiskCorrupt = 11,
  kDiskLost = 12,
  kFault = 13,
  kClockJump = 14,
  kPartition = 15,
  kHeal = 16,
  kClog = 17,
  kHlcViolation = 18,
  kDiskMisdirect = 19,
  kDiskTruncate = 20,
  kDiskDelete = 21,
  // Applications and clients.
  kClientInvoke = 100,
  kClientOk = 101,
  kClientFail = 102,
  kClientInfo = 103,
  kNodeState = 104,
  kNote = 105,
};

std::string_view EventKindName(EventKind kind);

struct Event {
  uint64_t seq = 0;  // Assigned by Append; ignored on input.
  Instant time;
  NodeId node = kNoNode;
  EventKind kind = EventKind::kNone;
  uint64_t cause = 0;
  uint64_t a = 0;
  uint64_t b = 0;
  std::string_view payload;  // Borrowed on input; owned by the log once kept.

  // One line, e.g. "#12 t=1.250ms n2 deliver cause=#9 a=1 b=48 payload=[0a03...]".
  std::string ToString() const;
};

class EventLog {
 public:
  enum class Retention { kFingerprintOnly, kFull };
  using Observer = absl::AnyInvocable<void(const Event&)>;

  explicit EventLog(Retention retention) : retention_(retention) {}
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends `event` (its seq is assigned here) and returns the new event's seq. Seqs start
  // at 1 so that 0 can mean "no cause".
  uint64_t Append(const Event& event);

  uint64_t fingerprint() const { return fingerprint_; }
  uint64_t count() const { return next_seq_ - 1; }
  bool keeps_events() const { return retention_ == Retention::kFull; }

  // Kept events, valid only with Retention::kFull. Index i holds seq i + 1.
  size_t kept() const { return records_.size(); }
  Event event(size_t index) const;

  // Observers are called in the order they were added.
  void add_observer(Observer observer) { observers_.push_back(std::move(observer)); }

 private:
  struct Record {
    Event event;  // payload is empty here; the bytes live in payloads_.
    uint32_t payload_offset;
    uint32_t payload_size;
  };

  Retention retention_;
  uint64_t next_seq_ = 1;
  uint64_t fingerprint_ = 0x4843'4153'5430'0001ULL;  // "HCAST0" + format version 1.
  std::vector<Record> records_;
  std::string payloads_;
  std::vector<Observer> observers_;
};

// Folds one 64-bit word into a running hash (a multiply-fold of 128-bit products).
uint64_t FoldWord(uint64_t hash, uint64_t word);

}  // namespace hindcast::sim

#endif  // HINDCAST_SIM_EVENT_LOG_H_
