#include "nodes/logservice/log_file.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nodes/wire.h"
#include "sim/absl_compat.h"
#include "storage/record.h"

namespace hindcast::nodes::logservice {
namespace {

constexpr std::string_view kLogFilePrefix = "raft.log.";

}  // namespace

std::string LogFileName(uint64_t generation) {
  return absl::StrCat(Sv(kLogFilePrefix), generation);
}

bool IsLogFileName(std::string_view name) {
  uint64_t generation = 0;
  return name.substr(0, kLogFilePrefix.size()) == kLogFilePrefix &&
         absl::SimpleAtoi(Sv(name.substr(kLogFilePrefix.size())), &generation) &&
         LogFileName(generation) == name;
}

std::string EncodeLogHeader(uint64_t start_index, uint64_t start_term) {
  LogRecord record;
  record.mutable_header()->set_start_index(start_index);
  record.mutable_header()->set_start_term(start_term);
  return storage::EncodeRecord(Encode(record));
}

std::string EncodeLogEntry(const Entry& entry) {
  // LogRecord{entry}, without copying the entry (and its payload) into a LogRecord.
  return storage::EncodeRecord(
      storage::SerializeDeterministicAsField(LogRecord::kEntryFieldNumber, entry));
}

DecodedLog DecodeLogFile(std::string_view bytes) {
  DecodedLog out;
  const storage::DecodedRecords frames = storage::DecodeRecords(bytes);
  uint64_t offset = 0;
  for (const std::string& payload : frames.records) {
    LogRecord record;
    if (!ParseMessage(payload, &record)) break;
    const uint64_t next_offset = offset + storage::kRecordHeaderBytes + payload.size();
    if (!out.has_header) {
      if (!record.has_header()) break;
      out.has_header = true;
      out.start_index = record.header().start_index();
      out.start_term = record.header().start_term();
    } else {
      if (!record.has_entry()) break;
      const Entry& e = record.entry();
      const uint64_t last_term = out.entries.empty() ? out.start_term : out.entries.back().term();
      if (e.index() != out.last_index() + 1 || e.term() < last_term) break;
      out.offsets.push_back(offset);
      out.entries.push_back(e);
    }
    offset = next_offset;
    out.valid_bytes = offset;
  }
  out.clean = out.valid_bytes == bytes.size();
  return out;
}

}  // namespace hindcast::nodes::logservice
