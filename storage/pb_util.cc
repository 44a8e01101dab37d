#include "storage/pb_util.h"

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "sim/assert.h"

namespace hindcast::storage {

std::string SerializeDeterministic(const google::protobuf::MessageLite& message) {
  std::string out;
  {
    // The streams flush into `out` when destroyed, hence the scope.
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    const bool ok = message.SerializeToCodedStream(&coded);
    HC_ASSERT_MSG(ok, "protobuf serialization failed (a required field or size limit)");
    HC_ASSERT(!coded.HadError());
  }
  HC_ASSERT(out.size() == message.ByteSizeLong());
  return out;
}

}  // namespace hindcast::storage
