#include "clock/hlc.h"

#include <algorithm>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"

namespace hindcast::clock {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

// The counter grows only while many events share one l, i.e. while physical time stands
// still relative to the largest l heard of. Four billion such events means a runaway loop.
uint32_t Next(uint32_t c) {
  HC_ASSERT_MSG(c < std::numeric_limits<uint32_t>::max(), "HLC logical counter overflow");
  return c + 1;
}

void PutBigEndian(uint64_t value, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>(value >> (8 * i)));
}

uint64_t GetBigEndian(std::string_view bytes) {
  uint64_t value = 0;
  for (char byte : bytes) value = (value << 8) | static_cast<uint8_t>(byte);
  return value;
}

}  // namespace

std::string HlcTimestamp::ToString() const { return absl::StrCat(l, ".", c); }

std::string HlcTimestamp::Pack() const {
  std::string out;
  out.reserve(kPackedSize);
  // Flipping the sign bit maps int64 order onto unsigned (and so byte-wise) order.
  PutBigEndian(static_cast<uint64_t>(l) ^ kSignBit, 8, &out);
  PutBigEndian(c, 4, &out);
  HC_ASSERT(out.size() == kPackedSize);
  return out;
}

absl::StatusOr<HlcTimestamp> HlcTimestamp::Unpack(std::string_view bytes) {
  if (bytes.size() != kPackedSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("packed HLC timestamp has ", bytes.size(), " bytes, want ", kPackedSize));
  }
  HlcTimestamp ts;
  ts.l = static_cast<int64_t>(GetBigEndian(bytes.substr(0, 8)) ^ kSignBit);
  ts.c = static_cast<uint32_t>(GetBigEndian(bytes.substr(8, 4)));
  return ts;
}

absl::StatusOr<HlcTimestamp> HlcTimestamp::Parse(std::string_view text) {
  const size_t dot = text.rfind('.');
  HlcTimestamp ts;
  if (dot == std::string_view::npos || !absl::SimpleAtoi(Sv(text.substr(0, dot)), &ts.l) ||
      !absl::SimpleAtoi(Sv(text.substr(dot + 1)), &ts.c)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad HLC timestamp \"", Sv(text), "\": want <l>.<c>, e.g. 1234.5"));
  }
  return ts;
}

HlcTimestamp Hlc::Now(int64_t pt) {
  const HlcTimestamp prev = last_;
  const int64_t l = std::max(prev.l, pt);
  last_ = {.l = l, .c = l == prev.l ? Next(prev.c) : 0};
  HC_ASSERT(last_ > prev && last_.l >= pt);
  return last_;
}

HlcTimestamp Hlc::Receive(HlcTimestamp m, int64_t pt) {
  if (!options_.update_on_receive) return Now(pt);
  const HlcTimestamp prev = last_;
  const int64_t l = std::max({prev.l, m.l, pt});
  uint32_t c = 0;
  if (l == prev.l && l == m.l) {
    c = Next(std::max(prev.c, m.c));
  } else if (l == prev.l) {
    c = Next(prev.c);
  } else if (l == m.l) {
    c = Next(m.c);
  }
  last_ = {.l = l, .c = c};
  HC_ASSERT(last_ > prev && last_ > m && last_.l >= pt);
  return last_;
}

}  // namespace hindcast::clock
