// Deterministic protobuf encoding for everything that travels or is hashed, and the way
// protobuf messages travel the simulated network.
//
//   reg::Message m;
//   m.mutable_read()->set_req(7);
//   SendMessage(env, /*to=*/0, std::move(m));  // Or a const& to send a copy.
//   ...
//   void Replica::Receive(sim::NodeId from, sim::Payload& payload) {
//     const reg::Message* in = ReadMessage<reg::Message>(payload);
//     if (in == nullptr) return;  // Garbage from a corrupt peer is dropped.
//
// A message travels as the sender's object (a ProtoBody in a sim::Payload) and the receiver
// reads it in place (ReadMessage), so nothing is encoded or parsed on the way; the payload's size
// is the encoded size, which is all the network records. A payload that arrived as bytes, or holds
// another message type, is parsed from its encoding, exactly as the wire would deliver it.
//
// Messages that reach the fingerprint must not contain map<> fields: their order is not
// specified even with deterministic serialization across protobuf versions.
#ifndef HINDCAST_NODES_WIRE_H_
#define HINDCAST_NODES_WIRE_H_

#include <google/protobuf/message_lite.h>

#include <concepts>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "nodes/node_env.h"
#include "sim/payload.h"
#include "storage/pb_util.h"

namespace hindcast::nodes {

// The deterministic encoding (storage/pb_util.h), sized once and written in place.
inline std::string Encode(const google::protobuf::MessageLite& message) {
  return storage::SerializeDeterministic(message);
}

inline bool ParseMessage(std::string_view bytes, google::protobuf::MessageLite* message) {
  return message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

// A protobuf message as a payload body.
template <typename T>
class ProtoBody final : public sim::Body {
 public:
  explicit ProtoBody(T message) : message_(std::move(message)) {}
  static const void* Type() { return &kTag; }
  const void* type() const override { return &kTag; }
  std::string Encode() const override { return nodes::Encode(message_); }
  std::unique_ptr<sim::Body> Clone() const override {
    return std::make_unique<ProtoBody>(message_);
  }
  T& message() { return message_; }

 private:
  // Only its address matters, one per T. Not const, so no linker can merge two of them.
  static inline char kTag = 0;
  T message_;
};

// A payload carrying `m` itself. ByteSizeLong is the size Encode would produce.
template <typename T>
sim::Payload MessagePayload(T m) {
  const uint64_t size = m.ByteSizeLong();
  return sim::Payload(std::make_unique<ProtoBody<T>>(std::move(m)), size);
}

// Sends a snapshot of `m`: moved in when the caller gives it up, copied otherwise.
template <typename T>
requires std::derived_from<std::remove_cvref_t<T>, google::protobuf::MessageLite>
void SendMessage(NodeEnv& env, sim::NodeId to, T&& m) {
  using Plain = std::remove_cvref_t<T>;
  env.Send(to, MessagePayload<Plain>(std::forward<T>(m)));
}

// The T in `payload`, or nullptr for bytes that do not parse as a T. A T body is read in
// place (no move, no second message to destroy); anything else is parsed into a body the
// payload then keeps. The pointer is valid while the payload lives and until a
// ReadMessage of another type replaces the kept body: read one type per payload.
template <typename T>
T* ReadMessage(sim::Payload& payload) {
  if (ProtoBody<T>* body = payload.body_as<ProtoBody<T>>()) return &body->message();
  auto parsed = std::make_unique<ProtoBody<T>>(T());
  if (!ParseMessage(payload.bytes(), &parsed->message())) return nullptr;
  T* message = &parsed->message();
  payload.Keep(std::move(parsed));
  return message;
}

}  // namespace hindcast::nodes

#endif  // HINDCAST_NODES_WIRE_H_
