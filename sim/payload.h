// Payload: what one simulated message carries, as bytes or as the sender's own object.
//
//   net.Send(1, 2, Payload(std::string("ping")));             // Bytes, as a real wire has.
//   net.Send(1, 2, Payload(std::make_unique<MyBody>(...), size));  // An object (nodes/wire.h).
//   ...
//   void MyNode::Receive(NodeId from, Payload& payload) {
//     std::string_view bytes = payload.bytes();  // Encodes an object body on first use.
//   }
//
// Why objects: nodes speak protobuf, and encoding every message at the sender and parsing it
// at the receiver cost a sixth of a cluster run's instructions (and more of its wall time).
// Inside one process the receiver can take the sender's object instead, as long as nothing
// can tell the difference. The contract that makes it so:
//   - `size()` is the encoded size, fixed at send time: the network records it in kSend and
//     kDeliver events, so a run's fingerprint is the same whichever form a message travels
//     in.
//   - The body is a snapshot: the sender gives it up (moves it or copies it in) at send time,
//     as encoding would.
//   - `bytes()` is always available: it encodes the body (deterministically) on first use,
//     so byte-level receivers, taps and tests see exactly what the wire would carry, as long
//     as they look before a receiver changes the message (the network's tap looks at send).
//   - A receiver may change the message it reads, or move parts of it out (size() stays the
//     sent size); after that only that receiver may look at it.
//   - Every protobuf `string` field holds valid UTF-8: a parse rejects anything else, and an
//     object body would not, so the two forms would differ. Use `bytes` fields for binary.
#ifndef HINDCAST_SIM_PAYLOAD_H_
#define HINDCAST_SIM_PAYLOAD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace hindcast::sim {

// A message object the network may carry without encoding it. `type()` names the concrete
// type (the address of a per-type tag), so a receiver can check it without RTTI.
class Body {
 public:
  virtual ~Body() = default;
  virtual const void* type() const = 0;
  // The bytes the wire would carry; deterministic.
  virtual std::string Encode() const = 0;
  virtual std::unique_ptr<Body> Clone() const = 0;
};

class Payload {
 public:
  Payload() = default;
  explicit Payload(std::string bytes) : bytes_(std::move(bytes)), size_(bytes_.size()) {}
  // `size` must be `body->Encode().size()`; the caller knows it more cheaply.
  Payload(std::unique_ptr<Body> body, uint64_t size) : body_(std::move(body)), size_(size) {}

  Payload(Payload&&) = default;
  Payload& operator=(Payload&&) = default;
  Payload(const Payload&) = delete;
  Payload& operator=(const Payload&) = delete;

  uint64_t size() const { return size_; }
  // Whether the bytes are at hand without encoding: a bytes payload, or a body encoded once.
  bool has_bytes() const { return body_ == nullptr || encoded_; }

  // The encoded bytes. For an object body the first call encodes it and keeps the result.
  std::string_view bytes() {
    if (body_ != nullptr && !encoded_) {
      bytes_ = body_->Encode();
      encoded_ = true;
    }
    return bytes_;
  }

  // The body if it is a `T` (a Body subclass whose static `Type()` is what its `type()`
  // returns), else nullptr. A payload that arrived as bytes has none until a Keep.
  template <typename T>
  T* body_as() {
    return body_ != nullptr && body_->type() == T::Type() ? static_cast<T*>(body_.get()) : nullptr;
  }

  // Keeps `body`, a receiver's parse of this payload's bytes, in place of any body it had:
  // what the receiver reads then lives as long as the payload or the next Keep, whichever
  // comes first. The bytes stay.
  void Keep(std::unique_ptr<Body> body) {
    (void)bytes();
    body_ = std::move(body);
    encoded_ = true;
  }

  // An independent copy (the network's duplicate of a message).
  Payload Copy() const {
    Payload copy;
    if (body_ != nullptr) copy.body_ = body_->Clone();
    copy.bytes_ = bytes_;
    copy.encoded_ = encoded_;
    copy.size_ = size_;
    return copy;
  }

 private:
  std::unique_ptr<Body> body_;
  std::string bytes_;     // The bytes of a bytes payload, or a body's encoding once made.
  bool encoded_ = false;  // For a body: `bytes_` holds its encoding.
  uint64_t size_ = 0;
};

}  // namespace hindcast::sim

#endif  // HINDCAST_SIM_PAYLOAD_H_
