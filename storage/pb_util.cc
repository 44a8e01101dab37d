#include "storage/pb_util.h"

#include <climits>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "sim/assert.h"

namespace hindcast::storage {

namespace {

// Sized once and written in place: a StringOutputStream grows the string in steps and
// zero-fills each one, which was a fifth of the cost. With `field` > 0 the message is
// written as that length-delimited field of an otherwise empty message.
std::string Serialize(int field, const google::protobuf::MessageLite& message) {
  using google::protobuf::internal::WireFormatLite;
  using google::protobuf::io::CodedOutputStream;
  const size_t size = message.ByteSizeLong();
  uint32_t tag = 0;
  size_t total = size;
  if (field > 0) {
    tag = WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
    total += CodedOutputStream::VarintSize32(tag) + CodedOutputStream::VarintSize64(size);
  }
  HC_ASSERT_MSG(total <= static_cast<size_t>(INT_MAX), "protobuf message exceeds 2 GiB");
  std::string out(total, '\0');
  {
    google::protobuf::io::ArrayOutputStream array(out.data(), static_cast<int>(total));
    CodedOutputStream coded(&array);
    coded.SetSerializationDeterministic(true);
    if (field > 0) {
      coded.WriteTag(tag);
      coded.WriteVarint64(size);
    }
    message.SerializeWithCachedSizes(&coded);
    HC_ASSERT(!coded.HadError());
    HC_ASSERT(static_cast<size_t>(coded.ByteCount()) == total);
  }
  return out;
}

}  // namespace

std::string SerializeDeterministic(const google::protobuf::MessageLite& message) {
  return Serialize(0, message);
}

std::string SerializeDeterministicAsField(int field, const google::protobuf::MessageLite& message) {
  HC_ASSERT(field > 0);
  return Serialize(field, message);
}

}  // namespace hindcast::storage
