// Seeded list-append histories with their true version order, for testing and benchmarking
// the isolation checker.
//
// A tiny in-memory store runs `txns` transactions from `concurrency` client slots. Each
// transaction reads a snapshot taken at its invocation and commits at its completion:
//   kSerial   one transaction at a time (strict serializable by construction);
//   kSnapshot first committer wins on write conflicts, the loser fails (strong snapshot
//             isolation by construction: the snapshot is the latest committed state);
//   kBuggy    no conflict check, and now and then a stale snapshot (lost updates, G2,
//             stale reads).
// Keys are retired after `appends_per_key` appends so lists stay short, and the history
// ends with one read of every key, so black-box inference sees every committed append.
//
//   GeneratedHistory g = GenerateListAppend({.mode = GenMode::kSnapshot, .seed = 7});
//   CheckIsolation(g.history, {.version_order = g.version_order});
#ifndef HINDCAST_PROPERTIES_ISOLATION_GEN_H_
#define HINDCAST_PROPERTIES_ISOLATION_GEN_H_

#include <cstdint>
#include <vector>

#include "properties/history.h"
#include "properties/isolation.h"

namespace hindcast::properties {

enum class GenMode : uint8_t { kSerial, kSnapshot, kBuggy };

struct GenOptions {
  GenMode mode = GenMode::kSerial;
  uint64_t seed = 1;
  int txns = 50;
  int concurrency = 4;
  int keys = 4;  // Keys live at once.
  int appends_per_key = 16;
  int max_mops = 4;
  int read_percent = 50;
  int info_percent = 5;  // Completions reported as info (half of them still commit).
  bool final_reads = true;
};

struct GeneratedHistory {
  History history;
  std::vector<KeyVersionOrder> version_order;  // Committed appends per key, in order.
};

GeneratedHistory GenerateListAppend(const GenOptions& options);

}  // namespace hindcast::properties

#endif  // HINDCAST_PROPERTIES_ISOLATION_GEN_H_
