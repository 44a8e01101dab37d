#include "nodes/logservice/log_client.h"

#include <algorithm>
#include <utility>

#include "nodes/wire.h"
#include "sim/assert.h"

namespace hindcast::nodes::logservice {

LogClient::LogClient(NodeEnv& env, LogClientOptions options)
    : env_(env),
      options_(std::move(options)),
      client_id_(env.rng().Next() | 1),
      next_req_((client_id_ & ~uint64_t{0xffff'ffff}) | 1) {
  HC_ASSERT_MSG(!options_.replicas.empty(), "a log client needs the replicas' ids");
  HC_ASSERT(options_.attempt_timeout > sim::Duration::Zero());
  HC_ASSERT(options_.deadline >= options_.attempt_timeout);
  HC_ASSERT(options_.read_page_entries > 0);
}

uint64_t LogClient::Append(std::string payload, AppendCallback done) {
  return Begin(
      {.kind = Kind::kAppend, .payload = std::move(payload), .append_done = std::move(done)});
}

void LogClient::Read(uint64_t from_index, ReadCallback done) {
  Begin({.kind = Kind::kRead, .from_index = from_index, .read_done = std::move(done)});
}

void LogClient::Truncate(uint64_t upto, TruncateCallback done) {
  Begin({.kind = Kind::kTruncate, .upto = upto, .truncate_done = std::move(done)});
}

uint64_t LogClient::Begin(Call call) {
  const uint64_t req = next_req_++;
  call.target = leader_guess_;
  call.deadline_timer = env_.SetTimer(options_.deadline, [this, req] {
    if (!calls_.contains(req)) return;
    calls_.at(req).deadline_timer = {};
    Finish(req, absl::DeadlineExceededError("log service call timed out; outcome unknown"), 0);
  });
  const bool hold = call.kind == Kind::kTruncate &&
                    std::any_of(calls_.begin(), calls_.end(),
                                [](const auto& c) { return c.second.kind == Kind::kAppend; });
  call.held = hold;
  calls_.emplace(req, std::move(call));
  // The first send happens from a task, so callbacks never run inside Append/Read/Truncate.
  if (!hold) SendAfter(req, sim::Duration::Zero());
  return req;
}

void LogClient::ReleaseTruncations() {
  // Calls are ordered by request id, so an append that is earlier than a held truncation
  // comes before it in the walk.
  bool earlier_append = false;
  for (auto& [req, call] : calls_) {
    if (call.kind == Kind::kAppend) earlier_append = true;
    if (call.kind != Kind::kTruncate || !call.held || earlier_append) continue;
    call.held = false;
    SendAfter(req, sim::Duration::Zero());
  }
}

void LogClient::SendAfter(uint64_t req, sim::Duration delay) {
  Call& call = calls_.at(req);
  env_.CancelTimer(call.attempt_timer);
  call.attempt_timer = env_.SetTimer(delay, [this, req] {
    if (calls_.contains(req)) Send(req);
  });
}

void LogClient::Send(uint64_t req) {
  Call& call = calls_.at(req);
  Message m;
  switch (call.kind) {
    case Kind::kAppend: {
      ClientAppend* a = m.mutable_client_append();
      a->set_client_id(client_id_);
      a->set_seq(req);
      a->set_payload(call.payload);
      break;
    }
    case Kind::kRead: {
      ClientRead* r = m.mutable_client_read();
      r->set_req(req);
      r->set_from_index(call.from_index);
      r->set_max_entries(options_.read_page_entries);
      break;
    }
    case Kind::kTruncate: {
      ClientTruncate* t = m.mutable_client_truncate();
      t->set_req(req);
      t->set_upto(call.upto);
      break;
    }
  }
  SendMessage(env_, options_.replicas[call.target], std::move(m));
  env_.CancelTimer(call.attempt_timer);
  call.attempt_timer =
      env_.SetTimer(options_.attempt_timeout, [this, req] { OnAttemptTimeout(req); });
}

void LogClient::OnAttemptTimeout(uint64_t req) {
  if (!calls_.contains(req)) return;
  Call& call = calls_.at(req);
  // No answer: that replica may be down or cut off. Try the next one.
  call.target = (call.target + 1) % options_.replicas.size();
  leader_guess_ = call.target;
  Send(req);
}

std::optional<size_t> LogClient::ReplicaIndex(sim::NodeId node) const {
  auto it = std::find(options_.replicas.begin(), options_.replicas.end(), node);
  if (it == options_.replicas.end()) return std::nullopt;
  return static_cast<size_t>(it - options_.replicas.begin());
}

void LogClient::Redirect(uint64_t req, sim::NodeId from, uint64_t leader_hint) {
  Call& call = calls_.at(req);
  const std::optional<size_t> hinted =
      leader_hint == 0 ? std::nullopt : ReplicaIndex(static_cast<sim::NodeId>(leader_hint - 1));
  if (hinted.has_value() && options_.replicas[*hinted] != from) {
    call.target = leader_guess_ = *hinted;
    Send(req);
    return;
  }
  // No leader known there: an election is probably running. Ask the next one shortly.
  call.target = (call.target + 1) % options_.replicas.size();
  leader_guess_ = call.target;
  SendAfter(req, options_.no_leader_backoff);
}

void LogClient::Finish(uint64_t req, absl::Status status, uint64_t index) {
  auto it = calls_.find(req);
  HC_ASSERT(it != calls_.end());
  Call call = std::move(it->second);
  calls_.erase(it);
  env_.CancelTimer(call.attempt_timer);
  env_.CancelTimer(call.deadline_timer);
  if (call.kind == Kind::kAppend) ReleaseTruncations();
  switch (call.kind) {
    case Kind::kAppend:
      if (status.ok()) {
        call.append_done(index);
      } else {
        call.append_done(status);
      }
      return;
    case Kind::kRead:
      if (status.ok()) {
        call.read_done(std::move(call.result));
      } else {
        call.read_done(status);
      }
      return;
    case Kind::kTruncate:
      call.truncate_done(status);
      return;
  }
}

bool LogClient::Receive(sim::NodeId from, sim::Payload& payload) {
  if (!ReplicaIndex(from).has_value()) return false;
  // Everything a replica sends its client is the log client's, understood or not.
  Message* read = ReadMessage<Message>(payload);
  if (read == nullptr) return true;
  Message& m = *read;
  switch (m.kind_case()) {
    case Message::kClientAppendReply:
      OnAppendReply(from, m.client_append_reply());
      return true;
    case Message::kClientReadReply:
      OnReadReply(from, m.client_read_reply());
      return true;
    case Message::kClientTruncateReply:
      OnTruncateReply(from, m.client_truncate_reply());
      return true;
    default:
      return true;
  }
}

void LogClient::OnAppendReply(sim::NodeId from, const ClientAppendReply& r) {
  if (r.client_id() != client_id_) return;
  auto it = calls_.find(r.seq());
  if (it == calls_.end() || it->second.kind != Kind::kAppend) return;  // Late duplicate.
  switch (r.status()) {
    case OK:
      leader_guess_ = *ReplicaIndex(from);
      Finish(r.seq(), absl::OkStatus(), r.index());
      return;
    case REJECTED:
      Finish(r.seq(), absl::InvalidArgumentError("request id reused with another payload"), 0);
      return;
    default:
      Redirect(r.seq(), from, r.leader_hint());
      return;
  }
}

void LogClient::OnReadReply(sim::NodeId from, const ClientReadReply& r) {
  auto it = calls_.find(r.req());
  if (it == calls_.end() || it->second.kind != Kind::kRead) return;
  Call& call = it->second;
  if (r.status() != OK) {
    Redirect(r.req(), from, r.leader_hint());
    return;
  }
  // A page only counts if it continues where the last one ended.
  if (r.next_index() < call.from_index) return;
  leader_guess_ = *ReplicaIndex(from);
  if (!call.read_started) {
    call.read_started = true;
    call.result.compacted_through = r.compacted_through();
    call.result.commit_index = r.commit_index();
  }
  if (r.compacted_through() >= call.from_index) {
    // Truncated between pages: what this read returns now starts later.
    call.result.compacted_through = r.compacted_through();
    std::erase_if(call.result.entries,
                  [&](const CommittedEntry& e) { return e.index <= r.compacted_through(); });
  }
  for (const Entry& e : r.entries()) {
    if (e.index() < call.from_index || e.index() > call.result.commit_index) continue;
    if (!call.result.entries.empty() && e.index() <= call.result.entries.back().index) continue;
    call.result.entries.push_back({e.index(), e.payload()});
  }
  call.from_index = std::max(call.from_index, r.next_index());
  if (call.from_index > call.result.commit_index || r.next_index() > r.commit_index()) {
    Finish(r.req(), absl::OkStatus(), 0);
    return;
  }
  Send(r.req());
}

void LogClient::OnTruncateReply(sim::NodeId from, const ClientTruncateReply& r) {
  auto it = calls_.find(r.req());
  if (it == calls_.end() || it->second.kind != Kind::kTruncate) return;
  switch (r.status()) {
    case OK:
      leader_guess_ = *ReplicaIndex(from);
      Finish(r.req(), absl::OkStatus(), 0);
      return;
    case REJECTED:
      Finish(r.req(), absl::FailedPreconditionError("truncation point past the commit index"), 0);
      return;
    default:
      Redirect(r.req(), from, r.leader_hint());
      return;
  }
}

}  // namespace hindcast::nodes::logservice
