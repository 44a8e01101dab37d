#include "sim/event_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace hindcast::sim {
namespace {

Event Sample(int64_t t, EventKind kind, uint64_t a, std::string_view payload = {}) {
  return {.time = Instant::FromNanos(t), .node = 1, .kind = kind, .a = a, .payload = payload};
}

TEST(EventLogTest, FingerprintIgnoresRetention) {
  EventLog full(EventLog::Retention::kFull);
  EventLog lean(EventLog::Retention::kFingerprintOnly);
  for (EventLog* log : {&full, &lean}) {
    log->Append(Sample(5, EventKind::kSend, 2, "hello"));
    log->Append(Sample(9, EventKind::kDeliver, 1));
  }
  EXPECT_EQ(full.fingerprint(), lean.fingerprint());
  EXPECT_EQ(full.kept(), 2u);
  EXPECT_EQ(lean.kept(), 0u);
  EXPECT_EQ(full.event(0).payload, "hello");
  EXPECT_EQ(full.event(1).seq, 2u);
}

TEST(EventLogTest, EveryFieldChangesTheFingerprint) {
  auto fp = [](Event e) {
    EventLog log(EventLog::Retention::kFingerprintOnly);
    log.Append(e);
    return log.fingerprint();
  };
  const Event base = Sample(5, EventKind::kSend, 2, "payload");
  Event other = base;
  other.time = Instant::FromNanos(6);
  EXPECT_NE(fp(base), fp(other));
  other = base;
  other.node = 2;
  EXPECT_NE(fp(base), fp(other));
  other = base;
  other.kind = EventKind::kDrop;
  EXPECT_NE(fp(base), fp(other));
  other = base;
  other.cause = 1;
  EXPECT_NE(fp(base), fp(other));
  other = base;
  other.b = 1;
  EXPECT_NE(fp(base), fp(other));
  other = base;
  other.payload = "payloaD";
  EXPECT_NE(fp(base), fp(other));
}

// The fingerprint format, spelled out: each field as a word, then the payload in 8-byte
// little-endian words, the last one zero-padded. Every payload length from 0 to 20 bytes
// (none, part of a word, whole words, and a word and a part) folds as the format says,
// whatever the host's byte order or the way the log loads the words.
TEST(EventLogTest, PayloadBytesFoldAsLittleEndianWords) {
  std::string bytes;
  for (int i = 0; i < 20; ++i) bytes.push_back(static_cast<char>(0xf0 - 7 * i));
  for (size_t n = 0; n <= bytes.size(); ++n) {
    const std::string_view payload = std::string_view(bytes).substr(0, n);
    const Event e = Sample(5, EventKind::kDiskWrite, 3, payload);
    EventLog log(EventLog::Retention::kFingerprintOnly);
    log.Append(e);
    uint64_t h = 0x4843'4153'5430'0001ULL;
    for (uint64_t word :
         {uint64_t{1}, uint64_t{5}, (uint64_t{1} << 16) | static_cast<uint64_t>(e.kind),
          uint64_t{0}, uint64_t{3}, uint64_t{0}, uint64_t{n}}) {
      h = FoldWord(h, word);
    }
    for (size_t i = 0; i < n; i += 8) {
      uint64_t word = 0;
      for (size_t b = std::min(n, i + 8); b > i; --b) {
        word = (word << 8) | static_cast<unsigned char>(payload[b - 1]);
      }
      h = FoldWord(h, word);
    }
    EXPECT_EQ(log.fingerprint(), h) << n << " payload bytes";
  }
}

TEST(EventLogTest, ObserverSeesEveryEventWithSeq) {
  EventLog log(EventLog::Retention::kFingerprintOnly);
  std::vector<uint64_t> seen;
  log.add_observer([&](const Event& e) { seen.push_back(e.seq); });
  log.Append(Sample(1, EventKind::kNote, 0));
  log.Append(Sample(2, EventKind::kNote, 0));
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2}));
}

TEST(EventLogTest, ToStringNamesKindAndCause) {
  Event e = Sample(1500, EventKind::kDeliver, 3);
  e.seq = 12;
  e.cause = 9;
  EXPECT_EQ(e.ToString(), "#12 t=1.500us n1 deliver cause=#9 a=3 b=0");
}

}  // namespace
}  // namespace hindcast::sim
