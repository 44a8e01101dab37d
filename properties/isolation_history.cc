#include "properties/isolation_history.h"

#include "absl/strings/str_cat.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"

namespace hindcast::properties {

std::string_view TxnStatusName(TxnStatus status) {
  switch (status) {
    case TxnStatus::kOk:
      return "ok";
    case TxnStatus::kInfo:
      return "info";
    case TxnStatus::kFail:
      return "fail";
  }
  return "unknown";
}

int64_t NameTable::Intern(std::string_view spelling) {
  auto it = ids_.find(Sv(spelling));
  if (it != ids_.end()) return it->second;
  HC_ASSERT(static_cast<int64_t>(names_.size()) < kNameLimit);
  const int64_t id = kNameBase + static_cast<int64_t>(names_.size());
  names_.emplace_back(spelling);
  ids_.emplace(std::string(spelling), id);
  return id;
}

void NameTable::Append(int64_t id, std::string* out) const {
  if (IsName(id)) {
    const uint64_t i = static_cast<uint64_t>(id - kNameBase);
    if (i < names_.size()) {
      out->append(names_[i]);
      return;
    }
  }
  absl::StrAppend(out, id);
}

std::string NameTable::Format(int64_t id) const {
  std::string out;
  Append(id, &out);
  return out;
}

void TxnHistory::AppendMop(const TxnMop& mop, std::string* out) const {
  switch (mop.kind) {
    case MopKind::kRead:
      out->append("[:r ");
      break;
    case MopKind::kWrite:
      out->append("[:w ");
      break;
    case MopKind::kAppend:
      out->append("[:append ");
      break;
  }
  names.Append(mop.key, out);
  out->push_back(' ');
  switch (mop.form) {
    case ReadForm::kNone:
    case ReadForm::kScalar:
      names.Append(mop.value, out);
      break;
    case ReadForm::kNil:
      out->append("nil");
      break;
    case ReadForm::kList:
      out->push_back('[');
      for (uint32_t i = 0; i < mop.list_size; ++i) {
        if (i) out->push_back(' ');
        names.Append(elements[mop.list_begin + i], out);
      }
      out->push_back(']');
      break;
  }
  out->push_back(']');
}

std::string TxnHistory::FormatTxn(uint32_t txn) const {
  const Txn& t = txns[txn];
  std::string out = absl::StrCat("{:index ", t.index, ", :type :", Sv(TxnStatusName(t.status)));
  if (t.process != kNoProcess) absl::StrAppend(&out, ", :process ", t.process);
  out.append(", :value [");
  for (uint32_t m = t.mop_begin; m < t.mop_end; ++m) {
    if (m != t.mop_begin) out.push_back(' ');
    AppendMop(mops[m], &out);
  }
  out.append("]}");
  return out;
}

namespace {

void AddMops(const std::vector<Mop>& from, TxnHistory* out) {
  for (const Mop& m : from) {
    TxnMop mop{.kind = m.kind, .key = m.key};
    if (m.kind == MopKind::kRead) {
      if (m.list.has_value()) {
        mop.form = ReadForm::kList;
        mop.list_begin = static_cast<uint32_t>(out->elements.size());
        mop.list_size = static_cast<uint32_t>(m.list->size());
        out->elements.insert(out->elements.end(), m.list->begin(), m.list->end());
      } else if (m.value.has_value()) {
        mop.form = ReadForm::kScalar;
        mop.value = *m.value;
      } else {
        mop.form = ReadForm::kNil;
      }
    } else {
      mop.value = m.value.value_or(0);
    }
    out->mops.push_back(mop);
  }
}

}  // namespace

TxnHistory FromHistory(const History& history) {
  TxnHistory out;
  const std::vector<Op>& ops = history.ops();
  out.txns.reserve(ops.size() / 2 + 1);
  size_t mops = 0;
  size_t elements = 0;
  for (const Op& op : ops) {
    if (op.type == OpType::kInvoke) continue;
    mops += op.mops.size();
    for (const Mop& m : op.mops) elements += m.list.has_value() ? m.list->size() : 0;
  }
  out.mops.reserve(mops);
  out.elements.reserve(elements);
  for (const Op& op : ops) {
    if (op.type != OpType::kInvoke) continue;
    Txn t{.process = op.process,
          .index = op.index,
          .invoke_position = static_cast<uint32_t>(op.index)};
    const Op* done = op.pair >= 0 ? &ops[static_cast<size_t>(op.pair)] : nullptr;
    t.status = done == nullptr               ? TxnStatus::kInfo
               : done->type == OpType::kOk   ? TxnStatus::kOk
               : done->type == OpType::kFail ? TxnStatus::kFail
                                             : TxnStatus::kInfo;
    if (done != nullptr) t.complete_index = done->index;
    if (done != nullptr && t.status == TxnStatus::kOk) {
      t.complete_position = static_cast<uint32_t>(done->index);
    }
    t.mop_begin = static_cast<uint32_t>(out.mops.size());
    AddMops(t.status == TxnStatus::kOk ? done->mops : op.mops, &out);
    t.mop_end = static_cast<uint32_t>(out.mops.size());
    out.txns.push_back(t);
  }
  return out;
}

}  // namespace hindcast::properties
