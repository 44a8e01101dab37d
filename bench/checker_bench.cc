// The isolation checker's throughput on generated list-append histories (snapshot-isolation
// store, 8 clients): white-box from a simulator History with its true version order, and
// black-box from EDN text (parse + check). items/s are transactions per second.
//
//   ninja -C build checker_bench && build/bench/checker_bench
//
// Goals (issue 4): >= 1,000,000 txns/s white-box, >= 300,000 txns/s from EDN on one core,
// growing no worse than n log n.
#include <string>

#include "benchmark/benchmark.h"
#include "properties/edn.h"
#include "properties/isolation.h"
#include "properties/isolation_gen.h"

namespace hindcast::properties {
namespace {

GeneratedHistory Make(int64_t txns) {
  return GenerateListAppend({.mode = GenMode::kSnapshot,
                             .seed = 42,
                             .txns = static_cast<int>(txns),
                             .concurrency = 8,
                             .keys = 32,
                             .appends_per_key = 32,
                             .max_mops = 4,
                             .read_percent = 50,
                             .info_percent = 1});
}

void BM_CheckWhiteBox(benchmark::State& state) {
  const GeneratedHistory g = Make(state.range(0));
  CheckOptions options;
  options.consistency = {Consistency::kStrongSnapshotIsolation};
  options.version_order = g.version_order;
  for (auto _ : state) {
    absl::StatusOr<CheckResult> r = CheckIsolation(g.history, options);
    if (!r.ok() || !r->valid) state.SkipWithError("the generated history should be valid");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_CheckWhiteBox)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);

void BM_CheckBlackBoxFromEdn(benchmark::State& state) {
  const std::string text = Make(state.range(0)).history.ToEdn();
  CheckOptions options;
  options.consistency = {Consistency::kStrongSnapshotIsolation};
  for (auto _ : state) {
    absl::StatusOr<TxnHistory> h = ParseEdnHistory(text);
    if (!h.ok()) state.SkipWithError("parse failed");
    absl::StatusOr<CheckResult> r = CheckIsolation(*h, options);
    if (!r.ok() || !r->valid) state.SkipWithError("the generated history should be valid");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_CheckBlackBoxFromEdn)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);

void BM_ParseEdn(benchmark::State& state) {
  const std::string text = Make(state.range(0)).history.ToEdn();
  for (auto _ : state) {
    absl::StatusOr<TxnHistory> h = ParseEdnHistory(text);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_ParseEdn)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hindcast::properties
