#include "nodes/objectstore/object_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "nodes/wire.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"

namespace hindcast::nodes::objectstore {
namespace {

absl::Status StatusOf(const Response& r, std::string_view what) {
  switch (r.code()) {
    case Response::OK:
      return absl::OkStatus();
    case Response::NOT_FOUND:
      return absl::NotFoundError(absl::StrCat(Sv(what), ": not found"));
    case Response::ALREADY_EXISTS:
      return absl::AlreadyExistsError(absl::StrCat(Sv(what), ": exists with other bytes"));
    case Response::DATA_LOSS:
      return absl::DataLossError(absl::StrCat(Sv(what), ": stored object is corrupt"));
    case Response::INVALID:
      return absl::InvalidArgumentError(absl::StrCat(Sv(what), ": over the size limits"));
    case Response::SLOW_DOWN:
    default:
      return absl::UnavailableError(absl::StrCat(Sv(what), ": store kept refusing"));
  }
}

}  // namespace

ObjectClient::ObjectClient(NodeEnv& env, sim::NodeId server, const ObjectClientOptions& options)
    : env_(env),
      server_(server),
      options_(options),
      // Replies carry only the request id, so ids are unique across the owner's incarnations:
      // a reply still in flight to an earlier incarnation must never answer one of this
      // incarnation's requests (a Get would return another object's bytes, a Put succeed
      // that never ran).
      next_id_((env.rng().Next() << 32) | 1) {
  HC_ASSERT(options.attempts_max >= 1);
}

void ObjectClient::Start(Message request, absl::AnyInvocable<void(const Response*)> done) {
  const uint64_t id = next_id_++;
  Call& call = calls_[id];
  call.request = std::move(request);
  call.done = std::move(done);
  Attempt(id);
}

void ObjectClient::Attempt(uint64_t call_id) {
  Call& call = calls_.at(call_id);
  const uint64_t req = next_id_++;
  Message& m = call.request;
  switch (m.kind_case()) {
    case Message::kPut:
      m.mutable_put()->set_req(req);
      break;
    case Message::kGet:
      m.mutable_get()->set_req(req);
      break;
    case Message::kList:
      m.mutable_list()->set_req(req);
      break;
    case Message::kDel:
      m.mutable_del()->set_req(req);
      break;
    default:
      HC_ASSERT_MSG(false, "not a request");
  }
  by_req_[req] = call_id;
  SendMessage(env_, server_, m);  // A copy: the call keeps the request for retries.
  call.timer = env_.SetTimer(options_.timeout, [this, call_id, req] {
    by_req_.erase(req);
    calls_.at(call_id).timed_out = true;
    Retry(call_id);
  });
}

void ObjectClient::Retry(uint64_t call_id) {
  Call& call = calls_.at(call_id);
  if (++call.attempt >= options_.attempts_max) {
    // Only refusals: nothing happened. Any timeout: the outcome is unknown (nullptr).
    Response refused;
    refused.set_code(Response::SLOW_DOWN);
    const bool unknown = call.timed_out;
    auto done = std::move(call.done);
    calls_.erase(call_id);
    done(unknown ? nullptr : &refused);
    return;
  }
  const sim::Duration backoff = options_.backoff * (int64_t{1} << std::min(call.attempt, 10));
  env_.SetTimer(backoff, [this, call_id] { Attempt(call_id); });
}

bool ObjectClient::Receive(sim::NodeId from, sim::Payload& payload) {
  if (from != server_) return false;
  Message* read = ReadMessage<Message>(payload);
  if (read == nullptr || !read->has_response()) return true;
  Message& m = *read;
  const Response& r = m.response();
  auto it = by_req_.find(r.req());
  if (it == by_req_.end()) return true;  // A late reply to an attempt already given up on.
  const uint64_t call_id = it->second;
  by_req_.erase(it);
  Call& call = calls_.at(call_id);
  env_.CancelTimer(call.timer);
  if (r.code() == Response::SLOW_DOWN) {
    Retry(call_id);
    return true;
  }
  auto done = std::move(call.done);
  calls_.erase(call_id);
  done(&r);
  return true;
}

void ObjectClient::Put(std::string key, std::string data,
                       absl::AnyInvocable<void(absl::Status)> done) {
  Message m;
  m.mutable_put()->set_key(key);
  m.mutable_put()->set_data(std::move(data));
  Start(std::move(m), [key, done = std::move(done)](const Response* r) mutable {
    if (r == nullptr) {
      done(absl::DeadlineExceededError(absl::StrCat("put ", key, ": outcome unknown")));
      return;
    }
    done(StatusOf(*r, absl::StrCat("put ", key)));
  });
}

void ObjectClient::Get(std::string key,
                       absl::AnyInvocable<void(absl::StatusOr<std::string>)> done) {
  Message m;
  m.mutable_get()->set_key(key);
  Start(std::move(m), [key, done = std::move(done)](const Response* r) mutable {
    if (r == nullptr) {
      done(absl::UnavailableError(absl::StrCat("get ", key, ": no reply")));
      return;
    }
    const absl::Status s = StatusOf(*r, absl::StrCat("get ", key));
    if (!s.ok()) {
      done(s);
      return;
    }
    done(r->data());
  });
}

void ObjectClient::List(std::string prefix,
                        absl::AnyInvocable<void(absl::StatusOr<std::vector<std::string>>)> done) {
  Message m;
  m.mutable_list()->set_prefix(prefix);
  Start(std::move(m), [prefix, done = std::move(done)](const Response* r) mutable {
    if (r == nullptr) {
      done(absl::UnavailableError(absl::StrCat("list ", prefix, ": no reply")));
      return;
    }
    const absl::Status s = StatusOf(*r, absl::StrCat("list ", prefix));
    if (!s.ok()) {
      done(s);
      return;
    }
    done(std::vector<std::string>(r->keys().begin(), r->keys().end()));
  });
}

void ObjectClient::Delete(std::string key, absl::AnyInvocable<void(absl::Status)> done) {
  Message m;
  m.mutable_del()->set_key(key);
  Start(std::move(m), [key, done = std::move(done)](const Response* r) mutable {
    if (r == nullptr) {
      done(absl::UnavailableError(absl::StrCat("delete ", key, ": no reply")));
      return;
    }
    done(StatusOf(*r, absl::StrCat("delete ", key)));
  });
}

}  // namespace hindcast::nodes::objectstore
