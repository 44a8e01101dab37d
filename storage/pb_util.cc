#include "storage/pb_util.h"

#include <climits>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "sim/assert.h"

namespace hindcast::storage {

std::string SerializeDeterministic(const google::protobuf::MessageLite& message) {
  // Sized once and written in place: a StringOutputStream grows the string in steps and
  // zero-fills each one, which was a fifth of the cost.
  const size_t size = message.ByteSizeLong();
  HC_ASSERT_MSG(size <= static_cast<size_t>(INT_MAX), "protobuf message exceeds 2 GiB");
  std::string out(size, '\0');
  {
    google::protobuf::io::ArrayOutputStream array(out.data(), static_cast<int>(size));
    google::protobuf::io::CodedOutputStream coded(&array);
    coded.SetSerializationDeterministic(true);
    message.SerializeWithCachedSizes(&coded);
    HC_ASSERT(!coded.HadError());
    HC_ASSERT(static_cast<size_t>(coded.ByteCount()) == size);
  }
  return out;
}

}  // namespace hindcast::storage
