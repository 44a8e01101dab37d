// The reasons behind dependency edges, in words, recomputed on demand for the few edges of
// reported cycles (so inference stores no per-edge text).
#include "absl/strings/str_cat.h"
#include "properties/isolation_internal.h"

namespace hindcast::properties::isolation_internal {

std::string Inference::Why(uint32_t from, uint32_t to, EdgeType type,
                           const std::function<std::string(uint32_t)>& name) const {
  const std::string a = name(from);
  const std::string b = name(to);
  switch (type) {
    case kEdgeWW:
      return WhyWW(from, to, a, b);
    case kEdgeWR:
      return WhyWR(from, to, a, b);
    case kEdgeRW:
      return WhyRW(from, to, a, b);
    case kEdgeProcess:
      return absl::StrCat("process ", h_.txns[from].process, " executed ", a, " before ", b);
    case kEdgeRealtime:
      return absl::StrCat(a, " completed at index ", h_.txns[from].complete_index,
                          ", before the invocation of ", b, " at index ", h_.txns[to].index);
  }
  return "";
}

std::string Inference::WhyWW(uint32_t a, uint32_t b, const std::string& na,
                             const std::string& nb) const {
  const bool list = model_ == DataModel::kListAppend;
  const Txn& ta = h_.txns[a];
  const Txn& tb = h_.txns[b];
  for (uint32_t j = tb.mop_begin; j < tb.mop_end; ++j) {
    const TxnMop& mb = h_.mops[j];
    if (mb.kind == MopKind::kRead) continue;
    const WriteInfo* wb = Writer(mop_key_[j], mb.value);
    if (wb == nullptr || wb->txn != b) continue;
    for (uint32_t i = ta.mop_begin; i < ta.mop_end; ++i) {
      const TxnMop& ma = h_.mops[i];
      if (ma.kind == MopKind::kRead || mop_key_[i] != mop_key_[j]) continue;
      const WriteInfo* wa = Writer(mop_key_[i], ma.value);
      if (wa == nullptr || wa->txn != a || wa->vo_position < 0) continue;
      const std::string key = Key(mop_key_[j]);
      if (wb->vo_position > wa->vo_position) {
        return list ? absl::StrCat(nb, " appended ", Value(mb.value), " after ", na, " appended ",
                                   Value(ma.value), " to ", key)
                    : absl::StrCat(nb, " wrote ", key, " = ", Value(mb.value), " after ", na,
                                   " wrote ", Value(ma.value));
      }
      if (wb->vo_position < 0) {
        return absl::StrCat(na, " appended ", Value(ma.value), " to ", key,
                            ", the last element any read saw, and ", nb, "'s append of ",
                            Value(mb.value), ", which no read saw, must come later");
      }
    }
    // Register writes follow reads: b read a's version of the key, then overwrote it.
    for (uint32_t r = txn_read_begin_[b]; r < txn_read_begin_[b + 1]; ++r) {
      const ReadRec& rec = reads_[txn_reads_[r]];
      const TxnMop& read = h_.mops[rec.mop];
      if (!rec.external || rec.key != mop_key_[j] || read.form != ReadForm::kScalar) continue;
      const WriteInfo* wa = Writer(rec.key, read.value);
      if (wa != nullptr && wa->txn == a) {
        return absl::StrCat(nb, " read ", Key(rec.key), " = ", Value(read.value), ", which ", na,
                            " wrote, and then overwrote it with ", Value(mb.value));
      }
    }
  }
  return absl::StrCat(na, " wrote a version that ", nb, " overwrote");
}

std::string Inference::WhyWR(uint32_t a, uint32_t b, const std::string& na,
                             const std::string& nb) const {
  for (uint32_t r = txn_read_begin_[b]; r < txn_read_begin_[b + 1]; ++r) {
    const ReadRec& rec = reads_[txn_reads_[r]];
    const TxnMop& read = h_.mops[rec.mop];
    if (!rec.external) continue;
    if (read.form == ReadForm::kList && rec.ext_size > 0) {
      const int64_t v = List(read)[rec.ext_size - 1];
      const WriteInfo* w = Writer(rec.key, v);
      if (w != nullptr && w->txn == a) {
        return absl::StrCat(nb, " observed ", na, "'s append of ", Value(v), " to ", Key(rec.key));
      }
    } else if (read.form == ReadForm::kScalar) {
      const WriteInfo* w = Writer(rec.key, read.value);
      if (w != nullptr && w->txn == a) {
        return absl::StrCat(nb, " read ", Key(rec.key), " = ", Value(read.value), ", which ", na,
                            " wrote");
      }
    }
  }
  return absl::StrCat(nb, " observed a write of ", na);
}

std::string Inference::WhyRW(uint32_t a, uint32_t b, const std::string& na,
                             const std::string& nb) const {
  for (uint32_t r = txn_read_begin_[a]; r < txn_read_begin_[a + 1]; ++r) {
    const ReadRec& rec = reads_[txn_reads_[r]];
    if (!rec.external) continue;
    const KeyState& ks = key_state_[rec.key];
    const TxnMop& read = h_.mops[rec.mop];
    const int64_t* vo = vo_values_.data() + ks.vo_begin;
    const std::string key = Key(rec.key);
    // Which position of the version order the read observed; -1 when unknown.
    int64_t seen = -1;
    std::string what;
    if (model_ == DataModel::kListAppend) {
      if (!rec.in_order || ks.incompatible) continue;
      seen = rec.ext_size;
      what = seen == 0 ? absl::StrCat(na, " read ", key, " as empty")
                       : absl::StrCat(na, " read ", key, " up to ", Value(vo[seen - 1]));
    } else if (read.form == ReadForm::kNil) {
      seen = 0;
      what = absl::StrCat(na, " read the initial nil of ", key);
    } else {
      const WriteInfo* w = Writer(rec.key, read.value);
      if (w != nullptr && w->vo_position >= 0) seen = w->vo_position + 1;
      what = absl::StrCat(na, " read ", key, " = ", Value(read.value));
    }
    const char* verb = model_ == DataModel::kListAppend ? "append of " : "write of ";
    if (seen >= 0 && seen < ks.vo_size) {
      const WriteInfo* w = Writer(rec.key, vo[seen]);
      if (w != nullptr && w->txn == b) {
        return absl::StrCat(what, ", so it did not observe ", nb, "'s ", verb, Value(vo[seen]),
                            ", the next version");
      }
    } else if (seen >= 0) {
      for (uint32_t u = 0; u < ks.unread_size; ++u) {
        const WriteInfo& w = writes_[unread_[ks.unread_begin + u]];
        if (w.txn != b) continue;
        return absl::StrCat(what, ", so it did not observe ", nb, "'s ", verb,
                            Value(h_.mops[w.mop].value),
                            seen == 0 ? "" : ", which no read saw and so comes later");
      }
    }
    // Register writes follow reads: b read the same version, then overwrote it.
    if (read.form == ReadForm::kScalar) {
      for (uint32_t rb = txn_read_begin_[b]; rb < txn_read_begin_[b + 1]; ++rb) {
        const ReadRec& other = reads_[txn_reads_[rb]];
        const TxnMop& m = h_.mops[other.mop];
        if (other.external && other.writes_key && other.key == rec.key &&
            m.form == ReadForm::kScalar && m.value == read.value) {
          return absl::StrCat(what, ", and ", nb, " read that same version and then overwrote it");
        }
      }
    }
  }
  return absl::StrCat(na, " did not observe a write of ", nb);
}

}  // namespace hindcast::properties::isolation_internal
