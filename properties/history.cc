#include "properties/history.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"

namespace hindcast::properties {

std::string_view OpTypeName(OpType type) {
  switch (type) {
    case OpType::kInvoke:
      return "invoke";
    case OpType::kOk:
      return "ok";
    case OpType::kFail:
      return "fail";
    case OpType::kInfo:
      return "info";
  }
  return "unknown";
}

size_t History::Invoke(int64_t process, int64_t time_ns, std::vector<Mop> mops) {
  HC_ASSERT(ops_.empty() || ops_.back().time_ns <= time_ns);
  const size_t index = ops_.size();
  ops_.push_back({.index = static_cast<int64_t>(index),
                  .type = OpType::kInvoke,
                  .process = process,
                  .time_ns = time_ns,
                  .mops = std::move(mops)});
  return index;
}

void History::Complete(size_t invoke_index, OpType type, int64_t time_ns, std::vector<Mop> mops) {
  HC_ASSERT(invoke_index < ops_.size());
  HC_ASSERT(type != OpType::kInvoke);
  HC_ASSERT_MSG(ops_[invoke_index].type == OpType::kInvoke && ops_[invoke_index].pair < 0,
                "completing an operation twice");
  HC_ASSERT(ops_.back().time_ns <= time_ns);
  const size_t index = ops_.size();
  ops_[invoke_index].pair = static_cast<int64_t>(index);
  ops_.push_back({.index = static_cast<int64_t>(index),
                  .type = type,
                  .process = ops_[invoke_index].process,
                  .time_ns = time_ns,
                  .mops = std::move(mops),
                  .pair = static_cast<int64_t>(invoke_index)});
}

void History::CloseOpenAsInfo(int64_t time_ns) {
  const size_t n = ops_.size();
  for (size_t i = 0; i < n; ++i) {
    if (ops_[i].type == OpType::kInvoke && ops_[i].pair < 0) {
      Complete(i, OpType::kInfo, time_ns, ops_[i].mops);
    }
  }
}

size_t History::Count(OpType type) const {
  size_t n = 0;
  for (const Op& op : ops_) n += op.type == type;
  return n;
}

namespace {

std::string MopToEdn(const Mop& m) {
  std::string out = "[";
  switch (m.kind) {
    case MopKind::kRead:
      absl::StrAppend(&out, ":r ");
      break;
    case MopKind::kWrite:
      absl::StrAppend(&out, ":w ");
      break;
    case MopKind::kAppend:
      absl::StrAppend(&out, ":append ");
      break;
  }
  absl::StrAppend(&out, m.key, " ");
  if (m.list.has_value()) {
    absl::StrAppend(&out, "[", absl::StrJoin(*m.list, " "), "]");
  } else if (m.value.has_value()) {
    absl::StrAppend(&out, *m.value);
  } else {
    absl::StrAppend(&out, "nil");
  }
  return out + "]";
}

}  // namespace

std::string History::ToEdn() const {
  std::string out;
  for (const Op& op : ops_) {
    absl::StrAppend(&out, "{:index ", op.index, ", :type :", Sv(OpTypeName(op.type)), ", :process ",
                    op.process, ", :time ", op.time_ns, ", :value [");
    for (size_t i = 0; i < op.mops.size(); ++i) {
      absl::StrAppend(&out, i ? " " : "", MopToEdn(op.mops[i]));
    }
    absl::StrAppend(&out, "]}\n");
  }
  return out;
}

}  // namespace hindcast::properties
