// The format of a replica's Raft log file: checksummed records (storage/record.h), a
// LogHeader first, then one Entry per record with consecutive indexes.
//
//   std::string bytes = EncodeLogHeader(0, 0) + EncodeLogEntry(e1) + EncodeLogEntry(e2);
//   DecodedLog d = DecodeLogFile(bytes);
//   // d.has_header, d.start_index == 0, d.entries == {e1, e2}, d.valid_bytes == bytes.size()
//
// Decoding keeps the longest prefix that is a well-formed log: every frame checks out, the
// header comes first, indexes follow each other, and terms never decrease. A record that breaks any
// of these (a torn or corrupt frame, or a valid frame that a misdirected write put in the wrong
// place) ends the prefix; what follows is ignored.
#ifndef HINDCAST_NODES_LOGSERVICE_LOG_FILE_H_
#define HINDCAST_NODES_LOGSERVICE_LOG_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nodes/logservice/logservice.pb.h"

namespace hindcast::nodes::logservice {

// "raft.log.<generation>".
std::string LogFileName(uint64_t generation);
// True for names LogFileName produces.
bool IsLogFileName(std::string_view name);

std::string EncodeLogHeader(uint64_t start_index, uint64_t start_term);
std::string EncodeLogEntry(const Entry& entry);

struct DecodedLog {
  bool has_header = false;
  uint64_t start_index = 0;
  uint64_t start_term = 0;
  std::vector<Entry> entries;
  // File offset where each entry's record begins, parallel to `entries`.
  std::vector<uint64_t> offsets;
  uint64_t valid_bytes = 0;  // The well-formed prefix; 0 when even the header is bad.
  bool clean = true;         // Every byte of the input belongs to the prefix.

  uint64_t last_index() const { return start_index + entries.size(); }
};

DecodedLog DecodeLogFile(std::string_view bytes);

}  // namespace hindcast::nodes::logservice

#endif  // HINDCAST_NODES_LOGSERVICE_LOG_FILE_H_
