// What one simulated message costs between the sender's protobuf and the receiver's, carried
// as bytes (encode at the sender, parse at the receiver: a real wire) or as the sender's
// object (nodes/wire.h: what the cluster does). Both make the payload the network would
// carry and read the message on the other side; nothing else.
//
//   ninja -C build wire_bench && build/bench/wire_bench
//
// Two shapes from a bank run: a lock request (five small parts) and a LogTail push of three
// commits of three writes each (the TN's fan-out message). Building the message is in both
// forms' figures, as it is in a run; the ratio of the two forms is what to read.
#include <benchmark/benchmark.h>

#include <string>
#include <utility>

#include "nodes/txn/txn.pb.h"
#include "nodes/wire.h"

namespace hindcast::nodes {
namespace {

void Stamp(storage::pb::Timestamp* ts, int64_t physical) {
  ts->set_physical_ns(physical);
  ts->set_logical(3);
}

txn::Message LockRequest(uint64_t i) {
  txn::Message m;
  txn::LockRequest* l = m.mutable_lock();
  l->set_req(i);
  l->mutable_txn()->set_cn(6);
  l->mutable_txn()->set_seq((uint64_t{1} << 32) | i);
  l->set_key("acct/3");
  Stamp(l->mutable_hlc(), 1'000'000 + static_cast<int64_t>(i));
  return m;
}

txn::Message LogTailPush(uint64_t i) {
  txn::Message m;
  txn::LogTailPush* p = m.mutable_logtail();
  p->set_epoch(2);
  p->set_seq(i);
  for (int e = 0; e < 3; ++e) {
    txn::LogTailEntry* entry = p->add_entries();
    Stamp(entry->mutable_commit_ts(), 2'000'000 + e);
    for (int w = 0; w < 3; ++w) {
      txn::Write* write = entry->add_writes();
      write->set_key(w == 2 ? "mark/9/" + std::to_string(i) : "acct/" + std::to_string(w));
      write->set_value(std::to_string(100 + w));
    }
  }
  Stamp(p->mutable_watermark(), 3'000'000);
  Stamp(p->mutable_hlc(), 3'000'001);
  p->set_subscription(4);
  return m;
}

// Args: shape (0 lock request, 1 LogTail push), form (0 bytes, 1 object).
void BM_MessageSenderToReceiver(benchmark::State& state) {
  const bool push = state.range(0) == 1;
  const bool object = state.range(1) == 1;
  uint64_t i = 0, bytes = 0;
  for (auto _ : state) {
    ++i;
    txn::Message m = push ? LogTailPush(i % 1024) : LockRequest(i % 1024);
    sim::Payload payload = object ? MessagePayload(std::move(m)) : sim::Payload(Encode(m));
    bytes += payload.size();
    const txn::Message* in = ReadMessage<txn::Message>(payload);
    benchmark::DoNotOptimize(in);
    if (in == nullptr) state.SkipWithError("did not parse");
  }
  state.counters["messages"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["bytes_per_message"] =
      static_cast<double>(bytes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_MessageSenderToReceiver)->ArgsProduct({{0, 1}, {0, 1}})->ArgNames({"push", "object"});

}  // namespace
}  // namespace hindcast::nodes
