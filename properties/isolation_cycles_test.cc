// The cycle search (isolation_cycles.cc) against brute force: on small random dependency
// graphs, every cycle it reports is simple and has the anomaly's shape; when it says the
// cycle is shortest, no simple cycle of that kind (found by enumerating them all) is shorter;
// a kind it does not report, unless it says the search was cut short, has no cycle at all.
// It also counts how often it proves shortest, so the proof cannot quietly stop happening.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "properties/isolation_internal.h"

namespace hindcast::properties::isolation_internal {
namespace {

constexpr uint8_t kData = kEdgeWW | kEdgeWR | kEdgeRW;

// What a cycle of each reported name must look like, as FindCycles searches for it.
struct Shape {
  std::string name;
  uint8_t start;  // The type of one of its edges.
  uint8_t path;   // The types every other edge may take.
  int rw_min;     // Edges used as rw, at least and at most.
  int rw_max;
  bool nonadjacent;  // No two rw edges in a row (cyclically).
};

std::vector<Shape> Shapes() {
  const std::vector<std::pair<std::string, uint8_t>> variants = {
      {"", 0}, {"-process", kEdgeProcess}, {"-realtime", kEdgeProcess | kEdgeRealtime}};
  std::vector<Shape> out;
  for (const auto& [suffix, extra] : variants) {
    out.push_back({"G0" + suffix, kEdgeWW, static_cast<uint8_t>(kEdgeWW | extra), 0, 0, false});
    out.push_back(
        {"G1c" + suffix, kEdgeWR, static_cast<uint8_t>(kEdgeWW | kEdgeWR | extra), 0, 0, false});
    out.push_back({"G-single-item" + suffix, kEdgeRW,
                   static_cast<uint8_t>(kEdgeWW | kEdgeWR | extra), 1, 1, false});
    out.push_back({"G-nonadjacent-item" + suffix, kEdgeRW, static_cast<uint8_t>(kData | extra), 2,
                   1 << 20, true});
    out.push_back(
        {"G2-item" + suffix, kEdgeRW, static_cast<uint8_t>(kData | extra), 2, 1 << 20, false});
  }
  return out;
}

// The edge types from u to v (a bit set; 0 if no edge).
using Matrix = std::vector<std::vector<uint8_t>>;

// Whether the cycle through `nodes` (closing back to nodes[0]) can carry `shape`: some edge
// takes the start type and every other edge a path type, with the rw count in range.
bool Fits(const Matrix& m, const std::vector<uint32_t>& nodes, const Shape& shape) {
  const size_t n = nodes.size();
  for (size_t s = 0; s < n; ++s) {  // The edge taking the start type.
    // Per edge, the usable types: as a choice of rw or not rw.
    std::vector<uint8_t> rw_ok(n), other_ok(n);
    bool possible = true;
    for (size_t i = 0; i < n; ++i) {
      const uint8_t t = m[nodes[i]][nodes[(i + 1) % n]];
      const uint8_t allowed = i == s ? (t & shape.start) : (t & shape.path);
      rw_ok[i] = (allowed & kEdgeRW) != 0;
      other_ok[i] = (allowed & ~kEdgeRW) != 0;
      possible &= rw_ok[i] || other_ok[i];
    }
    if (!possible) continue;
    // Try every rw assignment (cycles here are short).
    for (uint32_t mask = 0; mask < (1u << n); ++mask) {
      int rw = 0;
      bool ok = true;
      for (size_t i = 0; i < n && ok; ++i) {
        const bool is_rw = (mask >> i) & 1;
        ok = is_rw ? rw_ok[i] : other_ok[i];
        rw += is_rw;
        if (ok && shape.nonadjacent && is_rw && ((mask >> ((i + 1) % n)) & 1)) ok = false;
      }
      if (ok && rw >= shape.rw_min && rw <= shape.rw_max) return true;
    }
  }
  return false;
}

// The length of the shortest simple cycle of `shape` through nodes of one SCC, by brute force.
std::optional<size_t> Shortest(const Matrix& m, const Shape& shape) {
  const uint32_t n = static_cast<uint32_t>(m.size());
  std::optional<size_t> best;
  std::vector<uint32_t> path;
  std::vector<bool> on(n, false);
  // Cycles are enumerated from their smallest node, so each once per rotation.
  auto dfs = [&](auto&& self, uint32_t v) -> void {
    for (uint32_t w = path[0]; w < n; ++w) {
      if (m[v][w] == 0) continue;
      if (w == path[0]) {
        if (Fits(m, path, shape) && (!best || path.size() < *best)) best = path.size();
        continue;
      }
      if (on[w]) continue;
      on[w] = true;
      path.push_back(w);
      self(self, w);
      path.pop_back();
      on[w] = false;
    }
  };
  for (uint32_t start = 0; start < n; ++start) {
    path = {start};
    on[start] = true;
    dfs(dfs, start);
    on[start] = false;
  }
  return best;
}

RC_GTEST_PROP(CycleSearchProperty, ReportedCyclesAreShortestAndAbsentKindsHaveNoCycle, ()) {
  const uint32_t n = *rc::gen::inRange<uint32_t>(2, 7);
  const auto raw = *rc::gen::container<std::vector<std::tuple<uint32_t, uint32_t, uint8_t>>>(
      rc::gen::tuple(rc::gen::inRange<uint32_t>(0, n), rc::gen::inRange<uint32_t>(0, n),
                     rc::gen::inRange<uint8_t>(1, 32)));
  Matrix m(n, std::vector<uint8_t>(n, 0));
  std::vector<uint64_t> edges;
  for (const auto& [from, to, type] : raw) {
    if (from == to) continue;
    m[from][to] |= type;
    edges.push_back(PackEdge(from, to, type));
  }
  std::sort(edges.begin(), edges.end());
  CycleSearchStats stats;
  const std::vector<FoundCycle> found = FindCycles(n, edges, /*max_per_name=*/100,
                                                   /*budget=*/50'000'000, &stats);
  // Each reported cycle is simple and has its kind's shape; one proven shortest is as short
  // as the brute-force shortest in its own SCC.
  for (const Shape& shape : Shapes()) {
    std::vector<const FoundCycle*> mine;
    for (const FoundCycle& c : found) {
      if (c.name == shape.name) mine.push_back(&c);
    }
    for (const FoundCycle* c : mine) {
      std::vector<uint32_t> sorted = c->nodes;
      std::sort(sorted.begin(), sorted.end());
      RC_ASSERT(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
      RC_ASSERT(Fits(m, c->nodes, shape));
      RC_TAG(c->shortest ? "cycle proven shortest" : "cycle not proven shortest");
      if (!c->shortest) continue;
      // Brute force over the component that holds the cycle: restrict to nodes that reach and
      // are reached by its first node.
      std::vector<bool> fwd(n, false), bwd(n, false);
      auto reach = [&](std::vector<bool>& seen, bool forward) {
        std::vector<uint32_t> stack = {c->nodes[0]};
        seen[c->nodes[0]] = true;
        while (!stack.empty()) {
          const uint32_t v = stack.back();
          stack.pop_back();
          for (uint32_t w = 0; w < n; ++w) {
            const uint8_t t = forward ? m[v][w] : m[w][v];
            if (t != 0 && !seen[w]) {
              seen[w] = true;
              stack.push_back(w);
            }
          }
        }
      };
      reach(fwd, true);
      reach(bwd, false);
      Matrix sub = m;
      for (uint32_t v = 0; v < n; ++v) {
        for (uint32_t w = 0; w < n; ++w) {
          if (!(fwd[v] && bwd[v] && fwd[w] && bwd[w])) sub[v][w] = 0;
        }
      }
      const std::optional<size_t> shortest = Shortest(sub, shape);
      RC_ASSERT(shortest.has_value());
      RC_ASSERT(c->nodes.size() == *shortest);
    }
  }
  // A kind reported under none of its names has no cycle at all, even with every session
  // and real-time edge allowed (each variant is searched only when the plainer one has none).
  for (const Shape& shape : Shapes()) {
    if (shape.name.size() < 9 || shape.name.substr(shape.name.size() - 9) != "-realtime") continue;
    const std::string family = shape.name.substr(0, shape.name.size() - 9);
    bool reported = false;
    for (const FoundCycle& c : found) {
      reported |= c.name == family || c.name == family + "-process" || c.name == shape.name;
    }
    if (!reported && !stats.incomplete) RC_ASSERT(!Shortest(m, shape).has_value());
  }
}

}  // namespace
}  // namespace hindcast::properties::isolation_internal
