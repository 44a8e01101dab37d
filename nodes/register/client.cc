#include "nodes/register/client.h"

#include "nodes/register/register.pb.h"
#include "nodes/register/replica.h"
#include "nodes/wire.h"
#include "sim/assert.h"

namespace hindcast::nodes::reg {
namespace {

// Written values are unique per run: client id in the high digits, a sequence below.
constexpr int64_t kValuesPerClient = 1'000'000;

}  // namespace

Client::Client(NodeEnv& env, HistoryRecorder& recorder, const ClientOptions& options)
    : env_(env), recorder_(recorder), options_(options) {
  HC_ASSERT(options.ops_max >= 0 && options.ops_max < kValuesPerClient);
}

void Client::Start() { ScheduleNext(); }

void Client::ScheduleNext() {
  if (ops_done_ >= options_.ops_max) {
    recorder_.ClientFinished(env_.id());
    return;
  }
  const sim::Duration think = env_.rng().UniformDuration(sim::Duration::Zero(), options_.think_max);
  env_.SetTimer(think, [this] { Issue(env_.rng().Chance(1, 2)); });
}

void Client::Issue(bool is_write) {
  HC_ASSERT(req_ == 0);
  req_ = next_req_++;
  Message m;
  std::optional<int64_t> value;
  if (is_write) {
    value = static_cast<int64_t>(env_.id()) * kValuesPerClient + ops_done_ + 1;
    m.mutable_write()->set_req(req_);
    m.mutable_write()->set_value(*value);
  } else {
    m.mutable_read()->set_req(req_);
  }
  handle_ = recorder_.Invoke(env_.id(), is_write, value);
  SendMessage(env_, kPrimary, std::move(m));
  timeout_ =
      env_.SetTimer(options_.timeout, [this] { Finish(HistoryRecorder::Outcome::kInfo, {}); });
}

void Client::Receive(sim::NodeId from, sim::Payload& payload) {
  const Message* m = ReadMessage<Message>(payload);
  if (m == nullptr || !m->has_reply() || m->reply().req() != req_ || req_ == 0) return;
  env_.CancelTimer(timeout_);
  const ClientReply& r = m->reply();
  if (r.status() != ClientReply::OK) {
    Finish(HistoryRecorder::Outcome::kFail, {});
    return;
  }
  Finish(HistoryRecorder::Outcome::kOk,
         r.has_value() ? std::optional<int64_t>(r.value()) : std::nullopt);
}

void Client::Finish(HistoryRecorder::Outcome outcome, std::optional<int64_t> read_value) {
  HC_ASSERT(req_ != 0);
  req_ = 0;
  recorder_.Complete(handle_, outcome, read_value);
  if (final_reads_left_ > 0) {
    if (outcome == HistoryRecorder::Outcome::kOk || --final_reads_left_ == 0) {
      final_reads_left_ = 0;
      recorder_.ClientFinished(env_.id());
      return;
    }
    env_.SetTimer(options_.timeout, [this] { Issue(false); });
    return;
  }
  ++ops_done_;
  ScheduleNext();
}

void Client::FinalRead(int attempts_max) {
  HC_ASSERT(req_ == 0 && attempts_max > 0);
  final_reads_left_ = attempts_max;
  Issue(false);
}

}  // namespace hindcast::nodes::reg
