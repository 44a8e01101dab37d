#include "nodes/register/replica.h"

#include <algorithm>
#include <utility>

#include "nodes/wire.h"
#include "sim/assert.h"

namespace hindcast::nodes::reg {
namespace {

uint64_t EpochOf(uint64_t version) { return version >> 32; }

std::optional<int64_t> ValueOf(bool has_value, int64_t value) {
  return has_value ? std::optional<int64_t>(value) : std::nullopt;
}

}  // namespace

Replica::Replica(NodeEnv& env, const ReplicaOptions& options)
    : env_(env), options_(options), store_(env) {
  HC_ASSERT(env.id() < kReplicas);
}

void Replica::Start() {
  store_.Load([this](const SlotStore::Loaded& loaded) { OnLoaded(loaded); });
  env_.SetTimer(options_.retransmit_interval, [this] { Tick(); });
}

void Replica::OnLoaded(const SlotStore::Loaded& loaded) {
  loaded_ = true;
  latest_ = loaded.state;
  durable_ = loaded.state;
  disk_valid_ = loaded.valid;
  if (is_primary()) {
    own_vote_ = loaded;
    for (sim::NodeId b = 1; b < kReplicas; ++b) SendRecoverQuery(b);
  }
}

void Replica::Receive(sim::NodeId from, sim::Payload& payload) {
  Message* read = ReadMessage<Message>(payload);
  if (read == nullptr) return;  // Corrupt bytes from the wire are dropped.
  Message& m = *read;
  switch (m.kind_case()) {
    case Message::kWrite:
      OnClientWrite(from, m.write());
      break;
    case Message::kRead:
      OnClientRead(from, m.read());
      break;
    case Message::kReplicate:
      OnReplicate(from, m.replicate());
      break;
    case Message::kReplicateAck:
      OnReplicateAck(from, m.replicate_ack());
      break;
    case Message::kRecoverQuery:
      OnRecoverQuery(from, m.recover_query());
      break;
    case Message::kRecoverReply:
      OnRecoverReply(from, m.recover_reply());
      break;
    case Message::kReply:
    case Message::KIND_NOT_SET:
      break;
  }
}

void Replica::Reply(sim::NodeId client, uint64_t req, bool ok, std::optional<int64_t> value) {
  Message m;
  ClientReply* r = m.mutable_reply();
  r->set_req(req);
  r->set_status(ok ? ClientReply::OK : ClientReply::UNAVAILABLE);
  r->set_has_value(value.has_value());
  r->set_value(value.value_or(0));
  SendMessage(env_, client, std::move(m));
}

void Replica::OnClientWrite(sim::NodeId from, const ClientWrite& w) {
  if (!is_primary() || !serving_) {
    Reply(from, w.req(), false, std::nullopt);
    return;
  }
  HC_ASSERT_MSG(counter_ < UINT32_MAX, "write counter limit of one epoch reached");
  const uint64_t version = (latest_.epoch << 32) | ++counter_;
  HC_ASSERT(version > latest_.version);
  latest_.version = version;
  latest_.value = w.value();
  uncommitted_values_[version] = w.value();
  pending_writes_[version] = {from, w.req()};
  PersistLatest();
  for (sim::NodeId b = 1; b < kReplicas; ++b) SendReplicate(b);
  if (options_.bug_ack_before_replicate) Commit(version);  // The planted bug.
}

void Replica::OnClientRead(sim::NodeId from, const ClientRead& r) {
  if (!is_primary() || !serving_) {
    Reply(from, r.req(), false, std::nullopt);
    return;
  }
  Reply(from, r.req(), true, committed_value_);
}

void Replica::PersistLatest() {
  if (store_.persisting()) return;  // The running Persist re-checks when it completes.
  store_.Persist(latest_, [this](const RegState& s) {
    durable_ = s;
    if (is_primary()) {
      acked_[kPrimary] = std::max(acked_[kPrimary], s.version);
      AdvanceCommit();
      for (sim::NodeId b = 1; b < kReplicas; ++b) SendReplicate(b);
    } else {
      Message m;
      m.mutable_replicate_ack()->set_durable_version(s.version);
      SendMessage(env_, kPrimary, std::move(m));
    }
    if (latest_.version != s.version || latest_.epoch != s.epoch) PersistLatest();
  });
}

void Replica::SendReplicate(sim::NodeId backup) {
  // A new epoch is announced only once it is durable here, so an epoch number is never
  // reused by a later recovery that cannot see it (see the header).
  if (EpochOf(durable_.version) != latest_.epoch || acked_[backup] >= latest_.version) return;
  Message m;
  Replicate* r = m.mutable_replicate();
  r->set_version(latest_.version);
  r->set_has_value(latest_.value.has_value());
  r->set_value(latest_.value.value_or(0));
  SendMessage(env_, backup, std::move(m));
}

void Replica::OnReplicate(sim::NodeId from, const Replicate& r) {
  if (is_primary() || !loaded_) return;  // The primary retransmits until acked.
  if (r.version() > latest_.version) {
    latest_ = {.epoch = EpochOf(r.version()),
               .version = r.version(),
               .value = ValueOf(r.has_value(), r.value())};
    PersistLatest();
    return;
  }
  Message m;
  m.mutable_replicate_ack()->set_durable_version(durable_.version);
  SendMessage(env_, from, std::move(m));
}

void Replica::OnReplicateAck(sim::NodeId from, const ReplicateAck& a) {
  if (!is_primary() || from >= kReplicas) return;
  acked_[from] = std::max(acked_[from], a.durable_version());
  AdvanceCommit();
}

void Replica::AdvanceCommit() {
  std::array<uint64_t, kReplicas> sorted = acked_;
  std::sort(sorted.begin(), sorted.end(), std::greater<uint64_t>());
  const uint64_t quorum_version = sorted[kQuorum - 1];
  // Only versions this incarnation created can commit: a backup's durable version from an
  // older epoch is below every version of the current one.
  auto it = uncommitted_values_.upper_bound(quorum_version);
  if (it == uncommitted_values_.begin()) return;
  --it;
  if (it->first > committed_version_) Commit(it->first);
}

void Replica::Commit(uint64_t version) {
  auto it = uncommitted_values_.find(version);
  HC_ASSERT_MSG(it != uncommitted_values_.end(), "committing a version never written");
  HC_ASSERT(version > committed_version_);
  committed_version_ = version;
  committed_value_ = it->second;
  uncommitted_values_.erase(uncommitted_values_.begin(), ++it);
  while (!pending_writes_.empty() && pending_writes_.begin()->first <= version) {
    const PendingWrite w = pending_writes_.begin()->second;
    pending_writes_.erase(pending_writes_.begin());
    Reply(w.client, w.req, true, std::nullopt);
  }
  if (!serving_ && version >= recovery_version_ && recovery_version_ != 0) {
    serving_ = true;
    env_.Record({.kind = sim::EventKind::kNodeState, .a = 1, .b = version});
  }
}

void Replica::SendRecoverQuery(sim::NodeId backup) {
  Message m;
  m.mutable_recover_query()->set_epoch(own_vote_->state.epoch);
  SendMessage(env_, backup, std::move(m));
}

void Replica::OnRecoverQuery(sim::NodeId from, const RecoverQuery&) {
  if (is_primary() || !loaded_) return;  // The primary asks again.
  Message m;
  RecoverReply* r = m.mutable_recover_reply();
  r->set_valid(disk_valid_);
  r->set_version(durable_.version);
  r->set_has_value(durable_.value.has_value());
  r->set_value(durable_.value.value_or(0));
  r->set_max_epoch(std::max(durable_.epoch, EpochOf(durable_.version)));
  SendMessage(env_, from, std::move(m));
}

void Replica::OnRecoverReply(sim::NodeId from, const RecoverReply& r) {
  if (!is_primary() || !own_vote_.has_value() || recovery_version_ != 0) return;
  votes_[from] = r;
  int valid = own_vote_->valid ? 1 : 0;
  for (const auto& [node, vote] : votes_) valid += vote.valid();
  if (valid < kQuorum) return;

  // Every state a vote reports was durable somewhere, so the newest of them is safe to
  // adopt, and with a quorum of valid votes it includes every committed write.
  RegState chosen = own_vote_->state;
  uint64_t epoch_max = std::max(chosen.epoch, EpochOf(chosen.version));
  for (const auto& [node, vote] : votes_) {
    epoch_max = std::max(epoch_max, vote.max_epoch());
    if (vote.version() > chosen.version) {
      chosen.version = vote.version();
      chosen.value = ValueOf(vote.has_value(), vote.value());
    }
  }
  HC_ASSERT_MSG(epoch_max + 1 < (uint64_t{1} << 32), "epoch limit reached");
  const uint64_t epoch = epoch_max + 1;
  recovery_version_ = epoch << 32;
  counter_ = 0;
  committed_version_ = 0;
  latest_ = {.epoch = epoch, .version = recovery_version_, .value = chosen.value};
  uncommitted_values_[recovery_version_] = chosen.value;
  PersistLatest();
}

void Replica::Tick() {
  if (is_primary() && loaded_) {
    if (recovery_version_ == 0) {
      for (sim::NodeId b = 1; b < kReplicas; ++b) {
        if (!votes_.contains(b)) SendRecoverQuery(b);
      }
    } else {
      for (sim::NodeId b = 1; b < kReplicas; ++b) SendReplicate(b);
    }
  }
  env_.SetTimer(options_.retransmit_interval, [this] { Tick(); });
}

}  // namespace hindcast::nodes::reg
