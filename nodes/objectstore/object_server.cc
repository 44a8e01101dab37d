#include "nodes/objectstore/object_server.h"

#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "nodes/wire.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"
#include "storage/record.h"

namespace hindcast::nodes::objectstore {
namespace {

constexpr char kFilePrefix[] = "obj-";
constexpr int kReadAttemptsMax = 3;  // Read corruption is transient; persistent is real.
// Start-up reads of a file that fails to decode (see RecoverFile), and the pause between.
constexpr int kRecoverAttemptsMax = 100;
constexpr sim::Duration kRecoverRetry = sim::Duration::Millis(10);

std::optional<std::string> KeyOfFile(std::string_view file) {
  if (file.substr(0, sizeof(kFilePrefix) - 1) != kFilePrefix) return std::nullopt;
  const std::string_view hex = file.substr(sizeof(kFilePrefix) - 1);
  if (hex.size() % 2 != 0 || hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return std::nullopt;
  }
  return absl::HexStringToBytes(Sv(hex));
}

// The object a file's bytes hold: exactly one frame, checksum intact, nothing after it.
std::optional<std::string> DecodeObject(std::string_view bytes) {
  storage::DecodedRecords decoded = storage::DecodeRecords(bytes);
  if (decoded.records.size() != 1 || decoded.tail != storage::DecodedRecords::Tail::kClean) {
    return std::nullopt;
  }
  return std::move(decoded.records[0]);
}

}  // namespace

std::string ObjectFileName(std::string_view key) {
  return kFilePrefix + absl::BytesToHexString(Sv(key));
}

ObjectServer::ObjectServer(NodeEnv& env, const ObjectServerOptions& options)
    : env_(env), options_(options) {
  HC_ASSERT(env.disk() != nullptr);
}

void ObjectServer::Start() {
  // Rebuild the index, dropping objects whose bytes never became durable: a crash between
  // the write and the sync of an unacknowledged put leaves a file that fails its checksum.
  std::vector<std::string> keys;
  for (const std::string& f : env_.disk()->List()) {
    if (std::optional<std::string> key = KeyOfFile(f)) keys.push_back(*std::move(key));
  }
  if (keys.empty()) {
    ready_ = true;
    return;
  }
  auto pending = std::make_shared<size_t>(keys.size());
  for (std::string& key : keys) RecoverFile(std::move(key), std::nullopt, 0, pending);
}

// A file that fails to decode is deleted only when two reads in a row return the same bytes:
// that is what the disk holds (a put torn by a crash, never acknowledged). Bytes that differ
// between two reads were corrupted on the way, which is transient, so the file is read again
// after a pause. Deleting on a few quick bad reads deleted acknowledged objects whenever the
// store restarted inside a read-corruption window. A file still unsettled after
// kRecoverAttemptsMax reads is kept and listed: a get answers DATA_LOSS, not NOT_FOUND.
void ObjectServer::RecoverFile(std::string key, std::optional<std::string> last_bad, int attempt,
                               std::shared_ptr<size_t> pending) {
  const std::string file = ObjectFileName(key);
  const uint64_t size = env_.disk()->Size(file).value_or(0);
  env_.disk()->Read(file, 0, size,
                    [this, key = std::move(key), last_bad = std::move(last_bad), attempt,
                     pending](absl::StatusOr<std::string> bytes) mutable {
                      std::optional<std::string> bad;
                      if (bytes.ok() && !DecodeObject(*bytes).has_value()) bad = *std::move(bytes);
                      const bool persistent = bad.has_value() && bad == last_bad;
                      if (bytes.ok() && !bad.has_value()) {
                        keys_.insert(key);  // It decodes.
                      } else if (persistent) {
                        (void)env_.disk()->Delete(ObjectFileName(key));
                      } else if (attempt + 1 >= kRecoverAttemptsMax) {
                        keys_.insert(key);  // Never settled: kept, and a get says DATA_LOSS.
                      } else {
                        env_.SetTimer(
                            kRecoverRetry, [this, key = std::move(key), bad = std::move(bad),
                                            attempt, pending]() mutable {
                              RecoverFile(std::move(key), std::move(bad), attempt + 1, pending);
                            });
                        return;
                      }
                      if (--*pending == 0) ready_ = true;
                    });
}

void ObjectServer::Load(const std::string& key,
                        absl::AnyInvocable<void(Response::Code, std::string)> done) {
  struct Attempt {
    ObjectServer* server;
    std::string key;
    int attempt;
    absl::AnyInvocable<void(Response::Code, std::string)> done;
    void Run() {
      sim::Disk* disk = server->env_.disk();
      const std::string file = ObjectFileName(key);
      const absl::StatusOr<uint64_t> size = disk->Size(file);
      if (!size.ok()) {
        done(Response::NOT_FOUND, {});
        return;
      }
      disk->Read(file, 0, *size,
                 [self = std::move(*this)](absl::StatusOr<std::string> bytes) mutable {
                   if (bytes.ok()) {
                     if (std::optional<std::string> object = DecodeObject(*bytes)) {
                       self.done(Response::OK, *std::move(object));
                       return;
                     }
                   }
                   if (++self.attempt < kReadAttemptsMax) {
                     self.Run();
                     return;
                   }
                   self.done(Response::DATA_LOSS, {});
                 });
    }
  };
  Attempt{this, key, 0, std::move(done)}.Run();
}

void ObjectServer::Receive(sim::NodeId from, sim::Payload& payload) {
  Message* read = ReadMessage<Message>(payload);
  if (read == nullptr) return;
  Message& m = *read;
  switch (m.kind_case()) {
    case Message::kPut:
      OnPut(from, m.put());
      break;
    case Message::kGet:
      OnGet(from, m.get());
      break;
    case Message::kList:
      OnList(from, m.list());
      break;
    case Message::kDel:
      OnDelete(from, m.del());
      break;
    case Message::kResponse:
    case Message::KIND_NOT_SET:
      break;
  }
}

void ObjectServer::Send(sim::NodeId to, const Response& response) {
  if (env_.rng().Chance(options_.faults.lost_reply_ppm, sim::kPartsPerMillion)) return;
  Message m;
  *m.mutable_response() = response;
  SendMessage(env_, to, std::move(m));
}

void ObjectServer::Reply(sim::NodeId to, uint64_t req, Response::Code code, std::string data) {
  Response r;
  r.set_req(req);
  r.set_code(code);
  r.set_data(std::move(data));
  Send(to, r);
}

void ObjectServer::OnPut(sim::NodeId from, const PutRequest& r) {
  if (r.key().size() > kKeySizeBytesMax || r.data().size() > kObjectSizeBytesMax) {
    Reply(from, r.req(), Response::INVALID);
    return;
  }
  if (!ready_ || putting_.contains(r.key()) ||
      env_.rng().Chance(options_.faults.slow_down_ppm, sim::kPartsPerMillion)) {
    Reply(from, r.req(), Response::SLOW_DOWN);
    return;
  }
  if (keys_.contains(r.key())) {
    // Immutable: the same bytes again is a retried put and succeeds; others conflict.
    Load(r.key(),
         [this, from, req = r.req(), data = r.data()](Response::Code code, std::string stored) {
           Reply(from, req,
                 code != Response::OK ? code
                 : stored == data     ? Response::OK
                                      : Response::ALREADY_EXISTS);
         });
    return;
  }
  putting_.insert(r.key());
  Store(r.key(), storage::EncodeRecord(r.data()), [this, from, req = r.req(), key = r.key()] {
    putting_.erase(key);
    keys_.insert(key);
    env_.Record({.kind = sim::EventKind::kNodeState, .a = 2, .b = key.size()});
    Reply(from, req, Response::OK);
  });
}

// Writes, syncs and reads the object back until the bytes on disk are the bytes meant:
// a corrupted or misdirected write is caught here, before the put is acknowledged.
void ObjectServer::Store(const std::string& key, std::string bytes,
                         absl::AnyInvocable<void()> done) {
  const std::string file = ObjectFileName(key);
  sim::Disk* disk = env_.disk();
  const uint64_t size = bytes.size();
  (void)disk->Truncate(file, 0);
  disk->Write(file, 0, bytes,
              [this, disk, file, key, size, bytes, done = std::move(done)](absl::Status) mutable {
                disk->Sync(file, [this, disk, file, key, size, bytes = std::move(bytes),
                                  done = std::move(done)](absl::Status) mutable {
                  disk->Read(file, 0, size,
                             [this, key, bytes = std::move(bytes),
                              done = std::move(done)](absl::StatusOr<std::string> back) mutable {
                               if (!back.ok() || *back != bytes) {
                                 Store(key, std::move(bytes), std::move(done));
                                 return;
                               }
                               done();
                             });
                });
              });
}

void ObjectServer::OnGet(sim::NodeId from, const GetRequest& r) {
  if (!ready_ || env_.rng().Chance(options_.faults.slow_down_ppm, sim::kPartsPerMillion)) {
    Reply(from, r.req(), Response::SLOW_DOWN);
    return;
  }
  if (!keys_.contains(r.key())) {
    Reply(from, r.req(), Response::NOT_FOUND);
    return;
  }
  Load(r.key(), [this, from, req = r.req()](Response::Code code, std::string data) {
    Reply(from, req, code, std::move(data));
  });
}

void ObjectServer::OnList(sim::NodeId from, const ListRequest& r) {
  if (!ready_ || env_.rng().Chance(options_.faults.slow_down_ppm, sim::kPartsPerMillion)) {
    Reply(from, r.req(), Response::SLOW_DOWN);
    return;
  }
  Response response;
  response.set_req(r.req());
  response.set_code(Response::OK);
  for (auto it = keys_.lower_bound(r.prefix()); it != keys_.end(); ++it) {
    if (it->compare(0, r.prefix().size(), r.prefix()) != 0) break;
    response.add_keys(*it);
  }
  Send(from, response);
}

void ObjectServer::OnDelete(sim::NodeId from, const DeleteRequest& r) {
  if (!ready_ || putting_.contains(r.key()) ||
      env_.rng().Chance(options_.faults.slow_down_ppm, sim::kPartsPerMillion)) {
    Reply(from, r.req(), Response::SLOW_DOWN);
    return;
  }
  if (keys_.erase(r.key()) > 0) (void)env_.disk()->Delete(ObjectFileName(r.key()));
  Reply(from, r.req(), Response::OK);  // Deleting a missing key succeeds, as in S3.
}

}  // namespace hindcast::nodes::objectstore
