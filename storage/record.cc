#include "storage/record.h"

#include <array>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "sim/assert.h"

namespace hindcast::storage {
namespace {

constexpr uint32_t kCastagnoliReflected = 0x82F63B78u;
constexpr uint32_t kMaskDelta = 0xa282ead8u;

// Slicing-by-8 tables: kCrcTables[0] is the classic byte table; kCrcTables[k][b] is the crc
// of byte b followed by k zero bytes, so eight bytes fold in one step.
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

constexpr CrcTables MakeCrcTables() {
  CrcTables tables{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) ? (crc >> 1) ^ kCastagnoliReflected : crc >> 1;
    }
    tables[0][b] = crc;
  }
  for (uint32_t b = 0; b < 256; ++b) {
    for (size_t k = 1; k < tables.size(); ++k) {
      tables[k][b] = (tables[k - 1][b] >> 8) ^ tables[0][tables[k - 1][b] & 0xff];
    }
  }
  return tables;
}

constexpr CrcTables kCrcTables = MakeCrcTables();

uint32_t LoadLe32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

void AppendLe32(std::string* out, uint32_t v) {
  const char bytes[4] = {static_cast<char>(v), static_cast<char>(v >> 8),
                         static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  out->append(bytes, sizeof(bytes));
}

// The crc a frame stores: over the four length bytes as encoded, then the payload.
uint32_t FrameCrc(std::string_view length_bytes, std::string_view payload) {
  return Crc32cExtend(Crc32c(length_bytes), payload);
}

}  // namespace

uint32_t Crc32cExtendPortable(uint32_t crc, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  uint32_t c = ~crc;
  const CrcTables& t = kCrcTables;
  while (n >= 8) {
    const uint32_t lo = c ^ LoadLe32(p);
    const uint32_t hi = LoadLe32(p + 4);
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
        t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  for (; n > 0; --n, ++p) c = t[0][(c ^ *p) & 0xff] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
namespace {

// The SSE4.2 crc32 instruction computes exactly CRC32C, eight bytes a step: the same value
// as the tables, so the choice between them never shows in a run.
__attribute__((target("sse4.2"))) uint32_t Crc32cExtendSse42(uint32_t crc, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  uint64_t c = ~crc;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof(word));  // x86 is little-endian, as the crc wants.
    c = __builtin_ia32_crc32di(c, word);
  }
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = __builtin_ia32_crc32qi(c32, *p);
  return ~c32;
}

// Whether the CPU has the crc32 instruction, asked once.
bool HaveSse42() {
  static const bool have = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return have;
}

}  // namespace

uint32_t Crc32cExtend(uint32_t crc, std::string_view bytes) {
  return HaveSse42() ? Crc32cExtendSse42(crc, bytes) : Crc32cExtendPortable(crc, bytes);
}
#else
uint32_t Crc32cExtend(uint32_t crc, std::string_view bytes) {
  return Crc32cExtendPortable(crc, bytes);
}
#endif

uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }

uint32_t UnmaskCrc(uint32_t masked) {
  const uint32_t rotated = masked - kMaskDelta;
  return (rotated >> 17) | (rotated << 15);
}

void AppendRecord(std::string* out, std::string_view payload) {
  HC_ASSERT(out != nullptr);
  HC_ASSERT_MSG(payload.size() <= kMaxRecordBytes, "record payload exceeds kMaxRecordBytes");
  const size_t start = out->size();
  out->reserve(start + kRecordHeaderBytes + payload.size());
  AppendLe32(out, static_cast<uint32_t>(payload.size()));
  const uint32_t crc = FrameCrc(std::string_view(*out).substr(start, 4), payload);
  AppendLe32(out, MaskCrc(crc));
  out->append(payload.data(), payload.size());
  HC_ASSERT(out->size() == start + kRecordHeaderBytes + payload.size());
}

std::string EncodeRecord(std::string_view payload) {
  std::string out;
  AppendRecord(&out, payload);
  return out;
}

DecodedRecords DecodeRecords(std::string_view file_bytes) {
  DecodedRecords out;
  const auto* bytes = reinterpret_cast<const unsigned char*>(file_bytes.data());
  size_t pos = 0;
  while (pos < file_bytes.size()) {
    const size_t remaining = file_bytes.size() - pos;
    if (remaining < kRecordHeaderBytes) {
      out.tail = DecodedRecords::Tail::kTorn;
      out.error = absl::StrCat("torn frame header at offset ", pos, ": ", remaining,
                               " bytes left, a header takes ", kRecordHeaderBytes);
      break;
    }
    const uint32_t length = LoadLe32(bytes + pos);
    const uint32_t stored_crc = LoadLe32(bytes + pos + 4);
    if (length > kMaxRecordBytes) {
      out.tail = DecodedRecords::Tail::kCorrupt;
      out.error = absl::StrCat("impossible record length ", length, " at offset ", pos, " (limit ",
                               kMaxRecordBytes, ")");
      break;
    }
    if (remaining - kRecordHeaderBytes < length) {
      out.tail = DecodedRecords::Tail::kTorn;
      out.error = absl::StrCat("torn record at offset ", pos, ": length ", length, " but only ",
                               remaining - kRecordHeaderBytes, " payload bytes left");
      break;
    }
    const std::string_view payload = file_bytes.substr(pos + kRecordHeaderBytes, length);
    const uint32_t actual_crc = FrameCrc(file_bytes.substr(pos, 4), payload);
    if (UnmaskCrc(stored_crc) != actual_crc) {
      out.tail = DecodedRecords::Tail::kCorrupt;
      out.error = absl::StrCat("checksum mismatch in record ", out.records.size(), " at offset ",
                               pos, " (length ", length, ")");
      break;
    }
    out.records.emplace_back(payload);
    pos += kRecordHeaderBytes + length;
    out.valid_bytes = pos;
  }
  HC_ASSERT(out.valid_bytes <= file_bytes.size());
  HC_ASSERT((out.tail == DecodedRecords::Tail::kClean) == (out.valid_bytes == file_bytes.size()));
  return out;
}

std::string_view TailName(DecodedRecords::Tail tail) {
  switch (tail) {
    case DecodedRecords::Tail::kClean:
      return "clean";
    case DecodedRecords::Tail::kTorn:
      return "torn";
    case DecodedRecords::Tail::kCorrupt:
      return "corrupt";
  }
  return "unknown";
}

}  // namespace hindcast::storage
