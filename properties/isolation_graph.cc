// The dependency graph: session and real-time edges, strongly connected components, and the
// per-SCC searches for the shortest cycle of each anomaly kind.
#include <algorithm>
#include <array>
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
  size_t live_count = 0;
  // The real-time edges into t are edges[pred[t].first, pred[t].second): its predecessors.
  std::vector<std::pair<size_t, size_t>> pred(n);
  for (uint32_t e : event) {
    if (e == kNoEvent) continue;
    const uint32_t t = e / 2;
    if (e % 2 == 0) {
      if (frontier.size() > 2 * live_count + 16) {
        std::erase_if(frontier, [&](uint32_t f) { return !live[f]; });
      }
      pred[t].first = edges->size();
      for (uint32_t f : frontier) {
        if (live[f]) edges->push_back(PackEdge(f, t, kEdgeRealtime));
      }
      pred[t].second = edges->size();
    } else {
      for (size_t i = pred[t].first; i < pred[t].second; ++i) {
        const uint32_t p = EdgeFrom((*edges)[i]);
        if (live[p]) {
          live[p] = 0;
          --live_count;
        }
      }
      frontier.push_back(t);
      live[t] = 1;
      ++live_count;
    }
  }
}

namespace {

// A graph in CSR form: out-edges of v are [begin[v], begin[v+1]).
struct Csr {
  std::vector<uint32_t> begin;
  std::vector<uint32_t> to;
  std::vector<uint8_t> type;
};

Csr BuildCsr(uint32_t n, const std::vector<uint64_t>& edges) {
  Csr g;
  g.begin.assign(n + 1, 0);
  for (uint64_t e : edges) {
    HC_ASSERT(EdgeFrom(e) < n && EdgeTo(e) < n);
    ++g.begin[EdgeFrom(e) + 1];
  }
  for (uint32_t v = 0; v < n; ++v) g.begin[v + 1] += g.begin[v];
  g.to.resize(edges.size());
  g.type.resize(edges.size());
  std::vector<uint32_t> fill(g.begin.begin(), g.begin.end() - 1);
  for (uint64_t e : edges) {
    const uint32_t slot = fill[EdgeFrom(e)]++;
    g.to[slot] = EdgeTo(e);
    g.type[slot] = EdgeBits(e);
  }
  return g;
}

// Tarjan's algorithm, iterative, over edges whose type intersects `mask`. Component ids come
// out in reverse topological order: if u reaches v, comp[u] >= comp[v]. Returns the count.
uint32_t Tarjan(const Csr& g, uint8_t mask, std::vector<uint32_t>* comp) {
  const uint32_t n = static_cast<uint32_t>(g.begin.size() - 1);
  constexpr uint32_t kUnvisited = kNoPosition;
  std::vector<uint32_t> index(n, kUnvisited);
  std::vector<uint32_t> low(n, 0);
  std::vector<uint8_t> on_stack(n, 0);
  std::vector<uint32_t> stack;
  std::vector<std::pair<uint32_t, uint32_t>> calls;  // (vertex, next edge)
  comp->assign(n, 0);
  uint32_t next_index = 0;
  uint32_t count = 0;
  for (uint32_t root = 0; root < n; ++root) {
    if (index[root] != kUnvisited) continue;
    calls.emplace_back(root, g.begin[root]);
    index[root] = low[root] = next_index++;
    stack.push_back(root);
    on_stack[root] = 1;
    while (!calls.empty()) {
      auto& [v, edge] = calls.back();
      bool descended = false;
      while (edge < g.begin[v + 1]) {
        const uint32_t e = edge++;
        if (!(g.type[e] & mask)) continue;
        const uint32_t w = g.to[e];
        if (index[w] == kUnvisited) {
          index[w] = low[w] = next_index++;
          stack.push_back(w);
          on_stack[w] = 1;
          calls.emplace_back(w, g.begin[w]);
          descended = true;
          break;
        }
        if (on_stack[w]) low[v] = std::min(low[v], index[w]);
      }
      if (descended) continue;
      const uint32_t done = v;
      calls.pop_back();
      if (!calls.empty()) {
        const uint32_t parent = calls.back().first;
        low[parent] = std::min(low[parent], low[done]);
      }
      if (low[done] == index[done]) {
        uint32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = 0;
          (*comp)[w] = count;
        } while (w != done);
        ++count;
      }
    }
  }
  return count;
}

enum class PathRule : uint8_t {
  kPlain,        // Any path over the allowed types.
  kNeedsRw,      // The path must hold an rw edge (so the cycle holds two): G2-item.
  kNonadjacent,  // The path must hold an rw edge, and no two rw edges may be adjacent.
};

struct Family {
  const char* name;
  uint8_t start;  // Type of the first edge a -> b; the path b ~> a closes the cycle.
  uint8_t path;   // Data edge types the path may use.
  PathRule rule;
};

// Searched in this order inside every SCC, each first without session or real-time edges,
// then with process edges, then with real-time edges too.
constexpr std::array<Family, 5> kFamilies = {{
    {"G0", kEdgeWW, kEdgeWW, PathRule::kPlain},
    {"G1c", kEdgeWR, kEdgeWW | kEdgeWR, PathRule::kPlain},
    {"G-single-item", kEdgeRW, kEdgeWW | kEdgeWR, PathRule::kPlain},
    {"G-nonadjacent-item", kEdgeRW, kEdgeWW | kEdgeWR | kEdgeRW, PathRule::kNonadjacent},
    {"G2-item", kEdgeRW, kEdgeWW | kEdgeWR | kEdgeRW, PathRule::kNeedsRw},
}};
constexpr std::array<uint8_t, 3> kVariantExtra = {0, kEdgeProcess, kEdgeProcess | kEdgeRealtime};
constexpr std::array<const char*, 3> kVariantSuffix = {"", "-process", "-realtime"};

// Breadth-first cycle search inside one SCC (local ids 0..m-1).
class SccSearch {
 public:
  SccSearch(const Csr& g, int64_t budget) : g_(g), budget_(budget) {
    const size_t m = g.begin.size() - 1;
    stamp_.assign(4 * m, 0);
    parent_.assign(4 * m, 0);
    parent_type_.assign(4 * m, 0);
  }

  bool incomplete() const { return incomplete_; }

  // Finds a short cycle of `family` with `extra` edge types allowed on the path. Returns
  // false when there is none (or the budget ran out first: see incomplete()).
  bool Find(const Family& family, uint8_t extra, std::vector<uint32_t>* nodes,
            std::vector<EdgeType>* types) {
    const uint8_t path_types = family.path | extra;
    const uint8_t closure_types = path_types | family.start;
    std::vector<uint32_t> comp;
    // The whole cycle lies in one SCC of the start+path subgraph; with the start type on
    // the path too, a and b must share a component, otherwise b's component must reach
    // a's (component ids fall along paths).
    Tarjan(g_, family.rule == PathRule::kPlain ? path_types : closure_types, &comp);
    const bool start_on_path = (family.start & path_types) != 0 || family.rule != PathRule::kPlain;
    const uint32_t m = static_cast<uint32_t>(g_.begin.size() - 1);
    size_t best = 0;
    int64_t spent = 0;
    int after_first = 0;
    for (uint32_t a = 0; a < m && best != 2; ++a) {
      for (uint32_t e = g_.begin[a]; e < g_.begin[a + 1] && best != 2; ++e) {
        if (!(g_.type[e] & family.start)) continue;
        const uint32_t b = g_.to[e];
        if (start_on_path ? comp[a] != comp[b] : comp[b] < comp[a]) continue;
        if (best != 0 && ++after_first > kCandidatesAfterFirst) return true;
        std::vector<uint32_t> path_nodes;
        std::vector<EdgeType> path_types_used;
        const size_t depth_limit = best == 0 ? SIZE_MAX : best - 2;
        const int64_t cost =
            Bfs(family, path_types, comp, a, b, depth_limit, &path_nodes, &path_types_used);
        spent += cost < 0 ? -cost : cost;
        // The path b..a has path_nodes.size() - 1 edges; with a -> b the cycle has one more.
        if (cost >= 0 && (best == 0 || path_nodes.size() < best)) {
          best = path_nodes.size();
          nodes->assign(1, a);
          nodes->insert(nodes->end(), path_nodes.begin(), path_nodes.end() - 1);
          types->assign(1, static_cast<EdgeType>(family.start));
          types->insert(types->end(), path_types_used.begin(), path_types_used.end());
        }
        if (spent > budget_) {
          if (best == 0) incomplete_ = true;
          return best != 0;
        }
      }
    }
    return best != 0;
  }

 private:
  // After the first cycle, try this many more start edges for a shorter one.
  static constexpr int kCandidatesAfterFirst = 64;

  // BFS from b to a. On success fills the path b..a (nodes, and the types of its edges) and
  // returns the edges visited; on failure returns minus the edges visited.
  int64_t Bfs(const Family& family, uint8_t path_types, const std::vector<uint32_t>& comp,
              uint32_t a, uint32_t b, size_t depth_limit, std::vector<uint32_t>* nodes,
              std::vector<EdgeType>* types) {
    ++generation_;
    const uint32_t lo = comp[a];
    const uint32_t hi = comp[b];
    // State = node * 4 + flags: bit 0, the last edge was rw; bit 1, the path holds an rw.
    const uint32_t start_state = b * 4 + 1;
    queue_.clear();
    queue_.push_back(start_state);
    stamp_[start_state] = generation_;
    depth_.assign(1, 0);
    int64_t visited = 0;
    for (size_t head = 0; head < queue_.size(); ++head) {
      const uint32_t state = queue_[head];
      const uint32_t v = state / 4;
      const uint32_t flags = state % 4;
      if (v == a && head > 0 && Accepts(family.rule, flags)) {
        Unwind(state, start_state, nodes, types);
        return visited;
      }
      if (v == a && head > 0) continue;
      if (depth_[head] >= depth_limit) continue;
      for (uint32_t e = g_.begin[v]; e < g_.begin[v + 1]; ++e) {
        ++visited;
        const uint8_t t = g_.type[e] & path_types;
        if (!t) continue;
        const uint32_t w = g_.to[e];
        if (comp[w] < lo || comp[w] > hi) continue;
        // Prefer using an edge as a non-rw type; fall back to rw when allowed.
        uint32_t next;
        uint8_t used;
        if (t & ~kEdgeRW) {
          used = static_cast<uint8_t>(t & ~kEdgeRW);
          used = used & (~used + 1);  // Lowest set bit.
          next = w * 4 + (flags & 2);
        } else {
          if (family.rule == PathRule::kNonadjacent && (flags & 1)) continue;
          used = kEdgeRW;
          next = w * 4 + 3;
        }
        if (family.rule == PathRule::kPlain) next = w * 4 + 1;
        if (stamp_[next] == generation_) continue;
        stamp_[next] = generation_;
        parent_[next] = state;
        parent_type_[next] = used;
        queue_.push_back(next);
        depth_.push_back(depth_[head] + 1);
      }
    }
    return -visited - 1;
  }

  static bool Accepts(PathRule rule, uint32_t flags) {
    switch (rule) {
      case PathRule::kPlain:
        return true;
      case PathRule::kNeedsRw:
        return (flags & 2) != 0;
      case PathRule::kNonadjacent:
        // The closing edge into a is followed by the starting rw edge, so it must not be rw.
        return (flags & 2) != 0 && (flags & 1) == 0;
    }
    return false;
  }

  void Unwind(uint32_t state, uint32_t start_state, std::vector<uint32_t>* nodes,
              std::vector<EdgeType>* types) {
    nodes->clear();
    types->clear();
    while (state != start_state) {
      nodes->push_back(state / 4);
      types->push_back(static_cast<EdgeType>(parent_type_[state]));
      state = parent_[state];
    }
    nodes->push_back(start_state / 4);
    HC_ASSERT(nodes->size() == types->size() + 1);
    std::reverse(nodes->begin(), nodes->end());
    std::reverse(types->begin(), types->end());
  }

  const Csr& g_;
  int64_t budget_;
  bool incomplete_ = false;
  uint32_t generation_ = 0;
  std::vector<uint32_t> stamp_;
  std::vector<uint32_t> parent_;
  std::vector<uint8_t> parent_type_;
  std::vector<uint32_t> queue_;
  std::vector<size_t> depth_;
};

}  // namespace

std::vector<FoundCycle> FindCycles(uint32_t n, const std::vector<uint64_t>& edges, int max_per_name,
                                   int64_t budget, CycleSearchStats* stats) {
  std::vector<FoundCycle> found;
  const Csr g = BuildCsr(n, edges);
  std::vector<uint32_t> comp;
  const uint32_t comps = Tarjan(g, 0xff, &comp);
  std::vector<uint32_t> size(comps, 0);
  for (uint32_t v = 0; v < n; ++v) ++size[comp[v]];
  // Members of each nontrivial SCC, in ascending transaction order; SCCs ordered by their
  // smallest member.
  std::vector<std::vector<uint32_t>> sccs;
  std::vector<int32_t> scc_of_comp(comps, -1);
  for (uint32_t v = 0; v < n; ++v) {
    if (size[comp[v]] < 2) continue;
    if (scc_of_comp[comp[v]] < 0) {
      scc_of_comp[comp[v]] = static_cast<int32_t>(sccs.size());
      sccs.emplace_back();
    }
    sccs[static_cast<size_t>(scc_of_comp[comp[v]])].push_back(v);
  }
  std::array<int, kFamilies.size() * 3> reported{};
  std::vector<uint32_t> local(n, kNoPosition);
  for (const std::vector<uint32_t>& members : sccs) {
    stats->largest_scc = std::max(stats->largest_scc, members.size());
    for (uint32_t i = 0; i < members.size(); ++i) local[members[i]] = i;
    std::vector<uint64_t> local_edges;
    for (uint32_t v : members) {
      for (uint32_t e = g.begin[v]; e < g.begin[v + 1]; ++e) {
        if (local[g.to[e]] != kNoPosition) {
          local_edges.push_back(PackEdge(local[v], local[g.to[e]], g.type[e]));
        }
      }
    }
    std::sort(local_edges.begin(), local_edges.end());
    local_edges.erase(std::unique(local_edges.begin(), local_edges.end()), local_edges.end());
    const Csr lg = BuildCsr(static_cast<uint32_t>(members.size()), local_edges);
    SccSearch search(lg, budget);
    for (size_t f = 0; f < kFamilies.size(); ++f) {
      for (size_t variant = 0; variant < kVariantExtra.size(); ++variant) {
        int& count = reported[f * 3 + variant];
        FoundCycle cycle;
        if (!search.Find(kFamilies[f], kVariantExtra[variant], &cycle.nodes, &cycle.types)) {
          continue;
        }
        HC_ASSERT(cycle.nodes.size() >= 2 && cycle.nodes.size() == cycle.types.size());
        // A cycle without session edges implies its -process and -realtime variants.
        if (count < max_per_name) {
          ++count;
          cycle.name = std::string(kFamilies[f].name) + kVariantSuffix[variant];
          for (uint32_t& v : cycle.nodes) v = members[v];
          found.push_back(std::move(cycle));
        }
        break;
      }
    }
    stats->incomplete |= search.incomplete();
    for (uint32_t v : members) local[v] = kNoPosition;
  }
  return found;
}

}  // namespace hindcast::properties::isolation_internal
