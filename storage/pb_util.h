// Internal to storage/: conversions between storage's C++ types and their protobuf messages,
// and deterministic serialization. Not part of the library's interface (nothing outside
// storage/ should see the generated protobuf types).
//
//   pb::Timestamp msg = ToProto(Timestamp{5, 1});
//   std::string bytes = SerializeDeterministic(msg);
#ifndef HINDCAST_STORAGE_PB_UTIL_H_
#define HINDCAST_STORAGE_PB_UTIL_H_

#include <string>

#include "google/protobuf/message_lite.h"
#include "storage/timestamp.h"
#include "storage/txn_id.h"
#include "storage/types.pb.h"

namespace hindcast::storage {

// Serializes with CodedOutputStream::SetSerializationDeterministic, so equal messages give
// equal bytes (STYLE.md 7: bytes that are hashed or compared are canonical).
std::string SerializeDeterministic(const google::protobuf::MessageLite& message);
// The deterministic bytes of a message whose only field set is `message`, as its field
// number `field`: what SerializeDeterministic of that wrapper gives, without copying
// `message` into one.
std::string SerializeDeterministicAsField(int field, const google::protobuf::MessageLite& message);

inline pb::Timestamp ToProto(Timestamp ts) {
  pb::Timestamp out;
  out.set_physical_ns(ts.physical_ns);
  out.set_logical(ts.logical);
  return out;
}
inline Timestamp FromProto(const pb::Timestamp& ts) { return {ts.physical_ns(), ts.logical()}; }

inline pb::TxnId ToProto(TxnId txn) {
  pb::TxnId out;
  out.set_cn(txn.cn);
  out.set_seq(txn.seq);
  return out;
}
inline TxnId FromProto(const pb::TxnId& txn) { return {txn.cn(), txn.seq()}; }

}  // namespace hindcast::storage

#endif  // HINDCAST_STORAGE_PB_UTIL_H_
