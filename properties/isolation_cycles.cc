// The searches for a shortest cycle of each anomaly kind inside every strongly connected
// component of the dependency graph. Counted, not timed, so every run finds the same cycles.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "properties/isolation_internal.h"
#include "sim/assert.h"

namespace hindcast::properties::isolation_internal {
namespace {

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

// Breadth-first cycle search inside one SCC (local ids 0..m-1). One object serves every SCC
// in turn (Reset), so that its buffers are allocated once.
class SccSearch {
 public:
  explicit SccSearch(int64_t budget) : budget_(budget) {}

  // Starts on the SCC `g`, which must outlive the calls to Find.
  void Reset(const Csr& g) {
    g_ = &g;
    const size_t m = g.begin.size() - 1;
    stamp_.assign(4 * m, 0);
    seen_.assign(m, 0);
    seen_generation_ = 0;
    parent_.assign(4 * m, 0);
    parent_type_.assign(4 * m, 0);
    generation_ = 0;
    components_used_ = 0;
  }

  bool incomplete() const { return incomplete_; }

  // Finds a shortest cycle of `family` with `extra` edge types allowed on the path: a BFS
  // from every start edge, each bounded by the best cycle so far. Returns false when there
  // is none (or the budget ran out first: see incomplete()). *shortest says whether the scan
  // finished, proving the cycle shortest, before the budget ran out.
  bool Find(const Family& family, uint8_t extra, std::vector<uint32_t>* nodes,
            std::vector<EdgeType>* types, bool* shortest) {
    *shortest = false;
    rejected_ = false;
    const uint8_t path_types = family.path | extra;
    const uint8_t closure_types = path_types | family.start;
    // The whole cycle lies in one SCC of the start+path subgraph; with the start type on
    // the path too, a and b must share a component, otherwise b's component must reach
    // a's (component ids fall along paths).
    const std::vector<uint32_t>& comp =
        Components(family.rule == PathRule::kPlain ? path_types : closure_types);
    const bool start_on_path = (family.start & path_types) != 0 || family.rule != PathRule::kPlain;
    const Csr& g = *g_;
    const uint32_t m = static_cast<uint32_t>(g.begin.size() - 1);
    size_t best = 0;
    int64_t spent = 0;
    for (uint32_t a = 0; a < m && best != 2; ++a) {
      for (uint32_t e = g.begin[a]; e < g.begin[a + 1] && best != 2; ++e) {
        if (!(g.type[e] & family.start)) continue;
        const uint32_t b = g.to[e];
        if (start_on_path ? comp[a] != comp[b] : comp[b] < comp[a]) continue;
        const size_t depth_limit = best == 0 ? SIZE_MAX : best - 2;
        const int64_t cost = Bfs(family, path_types, comp, a, b, depth_limit);
        spent += cost < 0 ? -cost : cost;
        // The path b..a has path_nodes_.size() - 1 edges; with a -> b the cycle has one more.
        if (cost >= 0 && (best == 0 || path_nodes_.size() < best)) {
          best = path_nodes_.size();
          nodes->assign(1, a);
          nodes->insert(nodes->end(), path_nodes_.begin(), path_nodes_.end() - 1);
          types->assign(1, static_cast<EdgeType>(family.start));
          types->insert(types->end(), path_types_.begin(), path_types_.end());
        }
        if (spent > budget_) {
          if (best == 0) incomplete_ = true;
          return best != 0;
        }
      }
    }
    *shortest = best != 0 && !rejected_;
    if (best == 0 && rejected_) incomplete_ = true;  // A simple cycle may have been hidden.
    return best != 0;
  }

 private:
  // The components of the SCC's subgraph of the edges intersecting `mask`. Several
  // families share a mask, so each is computed once per SCC.
  const std::vector<uint32_t>& Components(uint8_t mask) {
    for (size_t i = 0; i < components_used_; ++i) {
      if (components_[i].first == mask) return components_[i].second;
    }
    if (components_used_ == components_.size()) components_.emplace_back();
    std::pair<uint8_t, std::vector<uint32_t>>& slot = components_[components_used_++];
    slot.first = mask;
    Tarjan(*g_, mask, &tarjan_, &slot.second);
    return slot.second;
  }

  // BFS from b to a. On success fills the path b..a (path_nodes_, and the types of its
  // edges in path_types_) and returns the edges visited; on failure returns minus the edges
  // visited.
  int64_t Bfs(const Family& family, uint8_t path_types, const std::vector<uint32_t>& comp,
              uint32_t a, uint32_t b, size_t depth_limit) {
    const Csr& g = *g_;
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
        Unwind(state, start_state, &path_nodes_, &path_types_);
        // States carry flags, so a walk may pass a transaction twice; such a walk is two
        // cycles glued together, not a witness of this shape. Keep searching, and remember
        // that the states it used may have hidden a simple path.
        if (Simple(path_nodes_)) return visited;
        rejected_ = true;
        continue;
      }
      if (v == a && head > 0) continue;
      if (depth_[head] >= depth_limit) continue;
      for (uint32_t e = g.begin[v]; e < g.begin[v + 1]; ++e) {
        ++visited;
        const uint8_t t = g.type[e] & path_types;
        if (!t) continue;
        const uint32_t w = g.to[e];
        if (comp[w] < lo || comp[w] > hi) continue;
        const size_t depth = depth_[head] + 1;
        if (family.rule == PathRule::kPlain) {
          Visit(w * 4 + 1, state, LowestType(t), depth);
          continue;
        }
        // An edge may be both rw and another type (T2 overwrote what T1 wrote and what it
        // read): the path may use it either way, and the two uses are different states.
        if (t & ~kEdgeRW) Visit(w * 4 + (flags & 2), state, LowestType(t & ~kEdgeRW), depth);
        if ((t & kEdgeRW) && !(family.rule == PathRule::kNonadjacent && (flags & 1))) {
          Visit(w * 4 + 3, state, kEdgeRW, depth);
        }
      }
    }
    return -visited - 1;
  }

  static uint8_t LowestType(uint8_t types) { return types & (~types + 1); }

  bool Simple(const std::vector<uint32_t>& nodes) {
    ++seen_generation_;  // Its own generations: the BFS's stamps must stay valid.
    for (uint32_t v : nodes) {
      if (seen_[v] == seen_generation_) return false;
      seen_[v] = seen_generation_;
    }
    return true;
  }

  void Visit(uint32_t next, uint32_t from, uint8_t type, size_t depth) {
    if (stamp_[next] == generation_) return;
    stamp_[next] = generation_;
    parent_[next] = from;
    parent_type_[next] = type;
    queue_.push_back(next);
    depth_.push_back(depth);
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

  const Csr* g_ = nullptr;
  int64_t budget_;
  bool incomplete_ = false;
  bool rejected_ = false;  // This Find's searches turned down a walk that was not simple.
  uint32_t generation_ = 0;
  std::vector<uint32_t> stamp_;
  std::vector<uint32_t> seen_;  // Simple's marks, by seen_generation_.
  uint32_t seen_generation_ = 0;
  std::vector<uint32_t> parent_;
  std::vector<uint8_t> parent_type_;
  std::vector<uint32_t> queue_;
  std::vector<size_t> depth_;
  std::vector<uint32_t> path_nodes_;
  std::vector<EdgeType> path_types_;
  TarjanScratch tarjan_;
  // (mask, components) for this SCC; entries past components_used_ are spare storage.
  std::vector<std::pair<uint8_t, std::vector<uint32_t>>> components_;
  size_t components_used_ = 0;
};

}  // namespace

std::vector<FoundCycle> FindCycles(uint32_t n, const std::vector<uint64_t>& edges, int max_per_name,
                                   int64_t budget, CycleSearchStats* stats) {
  std::vector<FoundCycle> found;
  Csr g;
  BuildCsr(n, edges, &g);
  std::vector<uint32_t> comp;
  TarjanScratch tarjan;
  const uint32_t comps = Tarjan(g, 0xff, &tarjan, &comp);
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
  std::vector<uint64_t> local_edges;
  Csr lg;
  SccSearch search(budget);
  for (const std::vector<uint32_t>& members : sccs) {
    stats->largest_scc = std::max(stats->largest_scc, members.size());
    for (uint32_t i = 0; i < members.size(); ++i) local[members[i]] = i;
    local_edges.clear();
    for (uint32_t v : members) {
      for (uint32_t e = g.begin[v]; e < g.begin[v + 1]; ++e) {
        if (local[g.to[e]] != kNoPosition) {
          local_edges.push_back(PackEdge(local[v], local[g.to[e]], g.type[e]));
        }
      }
    }
    std::sort(local_edges.begin(), local_edges.end());
    local_edges.erase(std::unique(local_edges.begin(), local_edges.end()), local_edges.end());
    BuildCsr(static_cast<uint32_t>(members.size()), local_edges, &lg);
    search.Reset(lg);
    for (size_t f = 0; f < kFamilies.size(); ++f) {
      for (size_t variant = 0; variant < kVariantExtra.size(); ++variant) {
        int& count = reported[f * 3 + variant];
        FoundCycle cycle;
        if (!search.Find(kFamilies[f], kVariantExtra[variant], &cycle.nodes, &cycle.types,
                         &cycle.shortest)) {
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
