// Checksummed record framing for every on-disk format (WAL, Raft log, objects), and the
// CRC32C (Castagnoli) checksum it uses.
//
//   std::string file;
//   AppendRecord(&file, "first");
//   file += EncodeRecord("second");
//   DecodedRecords d = DecodeRecords(file);
//   // d.records == {"first", "second"}, d.valid_bytes == file.size(), d.tail == kClean.
//
// A frame is `[u32 length][u32 masked crc][payload]`, both integers little-endian, where the
// crc is CRC32C over the four length bytes followed by the payload. Covering the length
// means a damaged length is caught like a damaged payload. The crc is stored masked (rotated
// and offset, as in LevelDB) because the CRC of bytes that embed their own CRC is degenerate,
// and payloads here often hold framed data.
//
// What the checksum does and does not catch: any single flipped bit, in the header or the
// payload, makes the frame fail (payload and crc flips always; a length flip unless the new
// frame happens to check out, with chance 2^-32). A misdirected write of a whole valid frame
// onto another frame's boundary is not detectable by framing alone; formats that must catch
// it put a sequence number or offset inside the payload.
#ifndef HINDCAST_STORAGE_RECORD_H_
#define HINDCAST_STORAGE_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hindcast::storage {

inline constexpr size_t kRecordHeaderBytes = 8;
// A payload longer than this is a programmer error when encoding and corruption when decoding.
inline constexpr uint32_t kMaxRecordBytes = 64u << 20;

// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI, ext4 and LevelDB.
// Crc32cExtend(Crc32c(a), b) == Crc32c(a + b).
// Uses the CPU's crc32 instruction where there is one (SSE4.2), the tables otherwise; the
// two agree on every input (record_test.cc checks both).
uint32_t Crc32cExtend(uint32_t crc, std::string_view bytes);
// The table-driven version (slicing-by-8), on every machine.
uint32_t Crc32cExtendPortable(uint32_t crc, std::string_view bytes);
inline uint32_t Crc32c(std::string_view bytes) { return Crc32cExtend(0, bytes); }

// The stored form of a crc, and back: UnmaskCrc(MaskCrc(c)) == c.
uint32_t MaskCrc(uint32_t crc);
uint32_t UnmaskCrc(uint32_t masked);

// Appends one frame holding `payload` to `*out`. Asserts payload.size() <= kMaxRecordBytes.
void AppendRecord(std::string* out, std::string_view payload);
std::string EncodeRecord(std::string_view payload);

struct DecodedRecords {
  // Why decoding stopped before the end of the bytes, if it did.
  enum class Tail {
    kClean,    // Every byte belongs to a valid frame.
    kTorn,     // The bytes end inside a frame: a header or payload cut short.
    kCorrupt,  // A complete frame fails its checksum, or its length is impossible.
  };

  std::vector<std::string> records;  // Payloads of the valid frames, in order.
  size_t valid_bytes = 0;            // Length of the valid prefix; the next frame starts here.
  Tail tail = Tail::kClean;
  std::string error;  // Empty when clean; otherwise says what was wrong and where.
};

// Decodes frames from the start of `file_bytes`, stopping at the first invalid one. A payload
// is returned only if its frame checks out.
//
// Recovery note: a crash can tear an unsynced append so that a later sector of a frame
// survives and an earlier one does not; that frame is complete in length but fails its
// checksum, so it reads as kCorrupt although it is a torn write. A log that knows how far it
// had synced should treat damage past that point as a torn tail and damage before it as
// corruption.
DecodedRecords DecodeRecords(std::string_view file_bytes);

std::string_view TailName(DecodedRecords::Tail tail);

}  // namespace hindcast::storage

#endif  // HINDCAST_STORAGE_RECORD_H_
