// The dependency graph: session and real-time edges, its CSR form and its strongly
// connected components.
#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "properties/isolation_internal.h"
#include "sim/assert.h"

namespace hindcast::properties::isolation_internal {

void AddSessionEdges(const TxnHistory& history, std::vector<uint64_t>* edges) {
  const std::vector<Txn>& txns = history.txns;
  const uint32_t n = static_cast<uint32_t>(txns.size());
  // Process order: consecutive transactions of one process (transactions are numbered in
  // invocation order).
  absl::flat_hash_map<int64_t, uint32_t> last_of_process;  // lookup-only
  for (uint32_t t = 0; t < n; ++t) {
    if (!InGraph(txns[t]) || txns[t].process == kNoProcess) continue;
    auto [it, inserted] = last_of_process.try_emplace(txns[t].process, t);
    if (inserted) continue;
    if (txns[it->second].status == TxnStatus::kOk) {
      edges->push_back(PackEdge(it->second, t, kEdgeProcess));
    }
    it->second = t;
  }
  // Real time, reduced: walk events in order keeping the frontier of completed transactions
  // not yet followed by a later completed one. An invocation links from the frontier; a
  // completion removes the transactions it linked from (their edges to later invocations are
  // implied through it) and joins the frontier.
  uint32_t max_position = 0;
  for (const Txn& t : txns) {
    max_position = std::max(max_position, t.invoke_position);
    if (t.complete_position != kNoPosition) {
      max_position = std::max(max_position, t.complete_position);
    }
  }
  // event[position] is 2t for the invocation of t and 2t + 1 for its completion.
  constexpr uint32_t kNoEvent = std::numeric_limits<uint32_t>::max();
  static_assert(2 * uint64_t{kMaxTxns} < kNoEvent);
  std::vector<uint32_t> event(static_cast<size_t>(max_position) + 1, kNoEvent);
  for (uint32_t t = 0; t < n; ++t) {
    if (!InGraph(txns[t])) continue;
    event[txns[t].invoke_position] = t * 2;
    if (txns[t].status == TxnStatus::kOk && txns[t].complete_position != kNoPosition) {
      event[txns[t].complete_position] = t * 2 + 1;
    }
  }
  std::vector<uint32_t> frontier;
  std::vector<uint8_t> live(n, 0);
  // The real-time edges into t are edges[pred[t].first, pred[t].second): its predecessors.
  std::vector<std::pair<size_t, size_t>> pred(n);
  for (uint32_t e : event) {
    if (e == kNoEvent) continue;
    const uint32_t t = e / 2;
    if (e % 2 == 0) {
      // Links from the live part of the frontier, dropping the rest as it goes (in order, so
      // the edges come out in frontier order).
      pred[t].first = edges->size();
      size_t kept = 0;
      for (uint32_t f : frontier) {
        if (!live[f]) continue;
        frontier[kept++] = f;
        edges->push_back(PackEdge(f, t, kEdgeRealtime));
      }
      frontier.resize(kept);
      pred[t].second = edges->size();
    } else {
      for (size_t i = pred[t].first; i < pred[t].second; ++i) {
        const uint32_t p = EdgeFrom((*edges)[i]);
        live[p] = 0;
      }
      frontier.push_back(t);
      live[t] = 1;
    }
  }
}

void BuildCsr(uint32_t n, const std::vector<uint64_t>& edges, Csr* g) {
  g->begin.assign(n + 1, 0);
  for (uint64_t e : edges) {
    HC_ASSERT(EdgeFrom(e) < n && EdgeTo(e) < n);
    ++g->begin[EdgeFrom(e) + 1];
  }
  for (uint32_t v = 0; v < n; ++v) g->begin[v + 1] += g->begin[v];
  g->to.resize(edges.size());
  g->type.resize(edges.size());
  // begin[v] serves as v's fill cursor, which leaves it at begin[v + 1]; shifting the array
  // back by one restores it, without a separate cursor array.
  for (uint64_t e : edges) {
    const uint32_t slot = g->begin[EdgeFrom(e)]++;
    g->to[slot] = EdgeTo(e);
    g->type[slot] = EdgeBits(e);
  }
  for (uint32_t v = n; v > 0; --v) g->begin[v] = g->begin[v - 1];
  g->begin[0] = 0;
}

uint32_t Tarjan(const Csr& g, uint8_t mask, TarjanScratch* scratch, std::vector<uint32_t>* comp) {
  const uint32_t n = static_cast<uint32_t>(g.begin.size() - 1);
  constexpr uint32_t kUnvisited = kNoPosition;
  // Set in a vertex's lowlink once its component is complete (it has left the stack).
  constexpr uint32_t kDone = uint32_t{1} << 31;
  static_assert(kMaxTxns <= kDone);
  std::vector<TarjanScratch::Vertex>& vertex = scratch->vertex;
  std::vector<uint32_t>& stack = scratch->stack;
  std::vector<std::pair<uint32_t, uint32_t>>& calls = scratch->calls;  // (vertex, next edge)
  vertex.assign(n, {.index = kUnvisited, .low = 0});
  stack.clear();
  calls.clear();
  comp->assign(n, 0);
  uint32_t next_index = 0;
  uint32_t count = 0;
  auto visit = [&](uint32_t v) {
    vertex[v] = {.index = next_index, .low = next_index};
    ++next_index;
    stack.push_back(v);
    calls.emplace_back(v, g.begin[v]);
  };
  for (uint32_t root = 0; root < n; ++root) {
    if (vertex[root].index != kUnvisited) continue;
    visit(root);
    while (!calls.empty()) {
      auto& [v, edge] = calls.back();
      bool descended = false;
      while (edge < g.begin[v + 1]) {
        const uint32_t e = edge++;
        if (!(g.type[e] & mask)) continue;
        const TarjanScratch::Vertex w = vertex[g.to[e]];
        if (w.index == kUnvisited) {
          visit(g.to[e]);
          descended = true;
          break;
        }
        if (!(w.low & kDone)) vertex[v].low = std::min(vertex[v].low, w.index);
      }
      if (descended) continue;
      const uint32_t done = v;
      calls.pop_back();
      if (!calls.empty()) {
        uint32_t& parent_low = vertex[calls.back().first].low;
        parent_low = std::min(parent_low, vertex[done].low);
      }
      if (vertex[done].low == vertex[done].index) {
        uint32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          vertex[w].low |= kDone;
          (*comp)[w] = count;
        } while (w != done);
        ++count;
      }
    }
  }
  return count;
}

}  // namespace hindcast::properties::isolation_internal
