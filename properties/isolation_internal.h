// Internals of the isolation checker, shared by isolation*.cc. Not a public API.
//
// Pipeline: `Inference` reads the history per key (version orders, non-cycle anomalies,
// ww/wr/rw edges); `AddSessionEdges` adds process and real-time edges; `FindCycles` packs
// every edge into CSR form and runs Tarjan and the per-SCC cycle searches;
// isolation_explain.cc turns cycles into words, DOT and model verdicts.
#ifndef HINDCAST_PROPERTIES_ISOLATION_INTERNAL_H_
#define HINDCAST_PROPERTIES_ISOLATION_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "properties/isolation.h"
#include "sim/assert.h"

namespace hindcast::properties::isolation_internal {

// Edges are packed into one word: source (29 bits), target (29 bits), type (5 bits).
inline constexpr uint32_t kMaxTxns = uint32_t{1} << 29;
inline uint64_t PackEdge(uint32_t from, uint32_t to, uint8_t type) {
  return (uint64_t{from} << 34) | (uint64_t{to} << 5) | type;
}
inline uint32_t EdgeFrom(uint64_t e) { return static_cast<uint32_t>(e >> 34); }
inline uint32_t EdgeTo(uint64_t e) { return static_cast<uint32_t>((e >> 5) & (kMaxTxns - 1)); }
inline uint8_t EdgeBits(uint64_t e) { return static_cast<uint8_t>(e & 31); }

inline bool InGraph(const Txn& t) { return t.status != TxnStatus::kFail; }

// One write or append, found by (key, value).
struct WriteInfo {
  int64_t value = 0;
  uint32_t txn = 0;
  uint32_t mop = 0;
  int32_t vo_position = -1;  // Index in the key's version order; -1 when not in it.
  bool final = true;         // The transaction's last write to the key.
  bool ambiguous = false;    // Another write wrote the same value to the same key.
  bool observed = false;     // Some committed read returned it.
};

// A read in a committed transaction.
struct ReadRec {
  uint32_t txn = 0;
  uint32_t mop = 0;
  uint32_t key = 0;  // Dense key id.
  // The first read of the key in its transaction whose external part is known: the version
  // it observed before the transaction's own writes.
  bool external = false;
  bool writes_key = false;  // Its transaction also writes the key.
  bool in_order = true;     // List: a prefix of the key's version order.
  uint32_t ext_size = 0;    // List: elements written by others. Register: unused.
  // List: the mop's elements, copied here so that the per-key passes, which visit reads in
  // key order, need not visit the mops (scattered over the history) as well.
  uint32_t list_begin = 0;
  uint32_t list_size = 0;
};

struct KeyState {
  uint32_t vo_begin = 0;  // vo_values_[vo_begin, vo_begin + vo_size)
  uint32_t vo_size = 0;
  uint32_t unread_begin = 0;  // unread_[..]: committed writes after the whole version order.
  uint32_t unread_size = 0;
  bool incompatible = false;
};

class Inference {
 public:
  Inference(const TxnHistory& history, DataModel model,
            const std::optional<std::vector<KeyVersionOrder>>& version_order)
      : h_(history), model_(model), version_order_(version_order) {}

  // Fills `edges` (ww/wr/rw) and `anomalies` (non-cycle). Errors are bad input (a list read
  // in a register history, too many transactions).
  absl::Status Run(std::vector<uint64_t>* edges, std::vector<Anomaly>* anomalies);

  // Why `from` precedes `to` by an edge of `type`, naming transactions with `name`.
  std::string Why(uint32_t from, uint32_t to, EdgeType type,
                  const std::function<std::string(uint32_t)>& name) const;

 private:
  const WriteInfo* Writer(uint32_t key, int64_t value) const;
  WriteInfo* MutableWriter(uint32_t key, int64_t value);
  // Writer(key, vo[i]) for version i of the key's version order, without the search.
  const WriteInfo* VersionWriter(const KeyState& ks, uint32_t i) const {
    HC_ASSERT(i < ks.vo_size);
    const uint32_t w = vo_writer_[ks.vo_begin + i];
    return w == kNoWrite ? nullptr : &writes_[w];
  }
  bool Committed(const WriteInfo& w) const;
  void Edge(uint32_t from, uint32_t to, EdgeType type);
  void Report(std::string name, std::vector<uint32_t> txns, std::string detail);
  std::string Key(uint32_t key) const { return h_.names.Format(keys_[key]); }
  std::string Value(int64_t v) const { return h_.names.Format(v); }
  const int64_t* List(const TxnMop& m) const { return h_.elements.data() + m.list_begin; }
  const int64_t* List(const ReadRec& r) const { return h_.elements.data() + r.list_begin; }

  void IndexKeys();
  absl::Status IndexWrites();
  absl::Status IndexReads();
  void ReadsOfListTxn(uint32_t txn);
  void ReadsOfRegisterTxn(uint32_t txn);
  void AddRead(const ReadRec& read);
  void ListKey(uint32_t key);
  void ListEdges(uint32_t key);
  // `in_order`: the read is a prefix of the key's version order (so VersionWriter applies).
  void CheckListElements(uint32_t key, const ReadRec& read, bool in_order);
  void ListLostUpdates(uint32_t key);
  void RegisterKey(uint32_t key);
  void SetVersionOrder(uint32_t key, const int64_t* values, uint32_t size);
  // The white-box version order of `key`, or nullptr in black-box mode.
  const std::vector<int64_t>* GivenOrder(uint32_t key) const;
  void CollectUnread(uint32_t key);
  std::string WhyWW(uint32_t a, uint32_t b, const std::string& na, const std::string& nb) const;
  std::string WhyWR(uint32_t a, uint32_t b, const std::string& na, const std::string& nb) const;
  std::string WhyRW(uint32_t a, uint32_t b, const std::string& na, const std::string& nb) const;

  const TxnHistory& h_;
  DataModel model_;
  const std::optional<std::vector<KeyVersionOrder>>& version_order_;
  std::vector<uint64_t>* edges_ = nullptr;
  std::vector<Anomaly>* anomalies_ = nullptr;

  std::vector<uint8_t> in_graph_;  // Per transaction: InGraph(), packed for Edge().
  std::vector<int64_t> keys_;      // Dense key id -> key.
  std::vector<uint32_t> mop_key_;  // Mop -> dense key id.
  std::vector<WriteInfo> writes_;
  // writes_ grouped by key (key_write_begin_ is its CSR index) and sorted by value.
  std::vector<uint32_t> key_write_begin_;
  // Grouped by key (key_read_begin_ is its CSR index), in transaction order within a key.
  std::vector<ReadRec> reads_;
  std::vector<uint32_t> key_read_begin_;
  std::vector<uint32_t> txn_read_begin_;  // CSR: txn_reads_ per transaction.
  std::vector<uint32_t> txn_reads_;       // reads_ ids, in transaction order.
  std::vector<uint32_t> read_fill_;       // Per key: where IndexReads puts its next read.
  std::vector<KeyState> key_state_;
  const std::vector<int64_t> no_writes_;  // The given order of a key the caller left out.
  absl::flat_hash_map<int64_t, uint32_t> given_order_;  // lookup-only: key -> version_order_
  std::vector<int64_t> vo_values_;
  // Parallel to vo_values_: the writes_ id of each version (what Writer finds), or kNoWrite.
  // Inference looks a version's writer up several times; this makes the search happen once.
  static constexpr uint32_t kNoWrite = kNoPosition;
  std::vector<uint32_t> vo_writer_;
  std::vector<uint32_t> unread_;  // writes_ ids.
  std::vector<int64_t> scratch_;
};

// Process (session) edges between consecutive transactions of a process, and real-time
// edges from each completed transaction to those invoked after it completed, reduced so
// that their number stays linear in practice (a frontier of completed transactions not yet
// implied by a later one).
void AddSessionEdges(const TxnHistory& history, std::vector<uint64_t>* edges);

// A graph in CSR form: the out-edges of v are [begin[v], begin[v + 1]) in `to` and `type`,
// in the order they were added.
struct Csr {
  std::vector<uint32_t> begin;
  std::vector<uint32_t> to;
  std::vector<uint8_t> type;
};

// Fills `g` with `edges` over `n` vertices, reusing its storage.
void BuildCsr(uint32_t n, const std::vector<uint64_t>& edges, Csr* g);

// The working storage of Tarjan's algorithm, kept between calls to save the allocations.
struct TarjanScratch {
  // A vertex's index and lowlink side by side: an edge's target costs one cache miss.
  struct Vertex {
    uint32_t index;
    uint32_t low;
  };
  std::vector<Vertex> vertex;
  std::vector<uint32_t> stack;
  std::vector<std::pair<uint32_t, uint32_t>> calls;
};

// Tarjan's algorithm, iterative, over the edges whose type intersects `mask`. Component ids
// come out in reverse topological order: if u reaches v, comp[u] >= comp[v]. Returns the
// number of components.
uint32_t Tarjan(const Csr& g, uint8_t mask, TarjanScratch* scratch, std::vector<uint32_t>* comp);

struct FoundCycle {
  std::string name;             // Anomaly name, e.g. "G-single-item-process".
  std::vector<uint32_t> nodes;  // Transactions in cycle order; nodes[i] -> nodes[i+1 mod n].
  std::vector<EdgeType> types;  // types[i] labels nodes[i] -> nodes[i+1 mod n].
  bool shortest = false;        // No cycle of this kind in its component is shorter.
};

struct CycleSearchStats {
  size_t largest_scc = 0;
  bool incomplete = false;
};

// Finds SCCs of the graph over `n` transactions and the cycles of every anomaly kind in
// them, at most `max_per_name` per name, deterministically.
std::vector<FoundCycle> FindCycles(uint32_t n, const std::vector<uint64_t>& edges, int max_per_name,
                                   int64_t budget, CycleSearchStats* stats);

}  // namespace hindcast::properties::isolation_internal

#endif  // HINDCAST_PROPERTIES_ISOLATION_INTERNAL_H_
