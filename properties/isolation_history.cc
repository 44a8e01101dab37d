#include "properties/isolation_history.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
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

// How far ahead FromHistory prefetches an operation's micro-ops and a read's list: far
// enough to hide a cache miss behind the work on the operations in between.
constexpr size_t kAhead = 16;

// Converts one operation's micro-ops. A list read gets its elements later (`lists` keeps
// where they are, in mop order), so the conversion touches each operation's micro-ops once
// and each list once, in two sequential sweeps; the simulator's micro-ops and lists are
// scattered over the heap, and every extra visit is a cache miss.
void AddMops(const std::vector<Mop>& from, TxnHistory* out, std::vector<const int64_t*>* lists,
             size_t* element_count) {
  for (const Mop& m : from) {
    TxnMop mop{.kind = m.kind, .key = m.key};
    if (m.kind == MopKind::kRead) {
      if (m.list.has_value()) {
        mop.form = ReadForm::kList;
        mop.list_size = static_cast<uint32_t>(m.list->size());
        lists->push_back(m.list->data());
        *element_count += m.list->size();
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

// Where a key's shared list lives in TxnHistory::elements: `size` elements, in room for
// `capacity`.
struct SharedList {
  uint32_t begin = 0;
  uint32_t size = 0;
  uint32_t capacity = 0;
};

// Stores the lists read (`lists`, in mop order) in `out->elements` and points their mops at
// them. The reads of a key mostly return prefixes of one growing list, so a list that agrees
// with its key's shared list (one is a prefix of the other) is stored in the shared list's
// room instead of on its own: a million transactions need a few million elements rather
// than tens of millions, and the checker's later passes over the lists stay in the cache.
// `element_count`, the lists' total size, bounds what they need in practice; reserving it
// costs address space only, where growing the array would copy it.
void StoreLists(const std::vector<const int64_t*>& lists, size_t element_count, TxnHistory* out) {
  std::vector<int64_t>& elements = out->elements;
  elements.reserve(element_count);
  // Most histories use small integer keys: those below kDirectKeys (and below the number of
  // lists, so that a small history allocates little) index an array, the rest a hash map.
  constexpr int64_t kDirectKeys = int64_t{1} << 16;
  std::vector<SharedList> shared_small(std::min<size_t>(kDirectKeys, lists.size()));
  absl::flat_hash_map<int64_t, SharedList> shared_other;  // lookup-only
  size_t list = 0;
  for (TxnMop& mop : out->mops) {
    if (mop.form != ReadForm::kList) continue;
    if (list + kAhead < lists.size()) __builtin_prefetch(lists[list + kAhead]);
    const int64_t* values = lists[list++];
    const uint32_t size = mop.list_size;
    SharedList& s = mop.key >= 0 && static_cast<uint64_t>(mop.key) < shared_small.size()
                        ? shared_small[static_cast<size_t>(mop.key)]
                        : shared_other[mop.key];
    if (!std::equal(values, values + std::min(size, s.size), elements.data() + s.begin)) {
      // It disagrees with the shared list: it is stored on its own.
      HC_ASSERT(elements.size() + size < kNoPosition);
      mop.list_begin = static_cast<uint32_t>(elements.size());
      elements.insert(elements.end(), values, values + size);
      continue;
    }
    if (size > s.capacity) {
      // It extends the shared list past its room: the list moves to a new room, twice as big
      // so that a list growing one element at a time moves a logarithmic number of times.
      const uint32_t capacity = std::max<uint32_t>(2 * size, 8);
      HC_ASSERT(elements.size() + capacity < kNoPosition);
      s = {.begin = static_cast<uint32_t>(elements.size()), .size = size, .capacity = capacity};
      elements.resize(elements.size() + capacity);
      std::copy_n(values, size, elements.data() + s.begin);
    } else if (size > s.size) {
      std::copy(values + s.size, values + size, elements.data() + s.begin + s.size);
      s.size = size;
    }
    mop.list_begin = s.begin;
  }
  HC_ASSERT(list == lists.size());
}

}  // namespace

TxnHistory FromHistory(const History& history) {
  TxnHistory out;
  const std::vector<Op>& ops = history.ops();
  out.txns.reserve(ops.size() / 2 + 1);
  size_t mops = 0;
  for (const Op& op : ops) mops += op.type == OpType::kInvoke ? 0 : op.mops.size();
  out.mops.reserve(mops);
  std::vector<const int64_t*> lists;
  lists.reserve(mops);
  size_t element_count = 0;
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
    AddMops(t.status == TxnStatus::kOk ? done->mops : op.mops, &out, &lists, &element_count);
    t.mop_end = static_cast<uint32_t>(out.mops.size());
    out.txns.push_back(t);
  }
  StoreLists(lists, element_count, &out);
  return out;
}

}  // namespace hindcast::properties
