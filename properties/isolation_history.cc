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

// Converts one operation's micro-ops. A list read gets its place in `out->elements` now but
// its values later (`lists` keeps where they are), so the conversion touches each
// operation's micro-ops once and each list once, in two sequential sweeps; the simulator's
// micro-ops and lists are scattered over the heap, and every extra visit is a cache miss.
void AddMops(const std::vector<Mop>& from, TxnHistory* out, size_t* element_count,
             std::vector<const int64_t*>* lists) {
  for (const Mop& m : from) {
    TxnMop mop{.kind = m.kind, .key = m.key};
    if (m.kind == MopKind::kRead) {
      if (m.list.has_value()) {
        mop.form = ReadForm::kList;
        mop.list_begin = static_cast<uint32_t>(*element_count);
        mop.list_size = static_cast<uint32_t>(m.list->size());
        *element_count += m.list->size();
        lists->push_back(m.list->data());
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
  // How far ahead to prefetch an operation's micro-ops and a read's list: far enough to hide
  // a cache miss behind the work on the operations in between.
  constexpr size_t kAhead = 16;
  TxnHistory out;
  const std::vector<Op>& ops = history.ops();
  out.txns.reserve(ops.size() / 2 + 1);
  size_t mops = 0;
  for (const Op& op : ops) mops += op.type == OpType::kInvoke ? 0 : op.mops.size();
  out.mops.reserve(mops);
  size_t element_count = 0;
  std::vector<const int64_t*> lists;  // The lists read, in mop order.
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (op.type != OpType::kInvoke) continue;
    if (i + kAhead < ops.size()) {
      const Op& ahead = ops[i + kAhead];
      __builtin_prefetch(ahead.mops.data());
      if (ahead.pair >= 0) __builtin_prefetch(ops[static_cast<size_t>(ahead.pair)].mops.data());
    }
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
    AddMops(t.status == TxnStatus::kOk ? done->mops : op.mops, &out, &element_count, &lists);
    t.mop_end = static_cast<uint32_t>(out.mops.size());
    out.txns.push_back(t);
  }
  out.elements.reserve(element_count);
  size_t list = 0;
  for (const TxnMop& mop : out.mops) {
    if (mop.form != ReadForm::kList) continue;
    HC_ASSERT(mop.list_begin == out.elements.size());
    if (list + kAhead < lists.size()) __builtin_prefetch(lists[list + kAhead]);
    out.elements.insert(out.elements.end(), lists[list], lists[list] + mop.list_size);
    ++list;
  }
  HC_ASSERT(list == lists.size());
  return out;
}

}  // namespace hindcast::properties
