// Deterministic protobuf encoding for everything that travels or is hashed.
//
//   reg::Message m;
//   m.mutable_read()->set_req(7);
//   SendMessage(env, /*to=*/0, m);
//   ...
//   reg::Message in;
//   if (!ParseMessage(bytes, &in)) return;  // Garbage from a corrupt peer is dropped.
//
// Messages that reach the fingerprint must not contain map<> fields: their order is not
// specified even with deterministic serialization across protobuf versions.
#ifndef HINDCAST_NODES_WIRE_H_
#define HINDCAST_NODES_WIRE_H_

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message_lite.h>

#include <string>
#include <string_view>

#include "nodes/node_env.h"

namespace hindcast::nodes {

// Sized once and written in place (no growing of the string as it is written).
inline std::string Encode(const google::protobuf::MessageLite& message) {
  const size_t size = message.ByteSizeLong();  // Also caches the sizes written below.
  std::string bytes(size, '\0');
  {
    google::protobuf::io::ArrayOutputStream raw(bytes.data(), static_cast<int>(size));
    google::protobuf::io::CodedOutputStream out(&raw);
    out.SetSerializationDeterministic(true);
    message.SerializeWithCachedSizes(&out);
  }
  return bytes;
}

inline bool ParseMessage(std::string_view bytes, google::protobuf::MessageLite* message) {
  return message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

inline void SendMessage(NodeEnv& env, sim::NodeId to, const google::protobuf::MessageLite& m) {
  env.Send(to, Encode(m));
}

}  // namespace hindcast::nodes

#endif  // HINDCAST_NODES_WIRE_H_
