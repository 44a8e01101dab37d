// Per-key inference: list-append and rw-register version orders, non-cycle anomalies and
// data edges.
#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "properties/isolation_internal.h"

namespace hindcast::properties::isolation_internal {
namespace {

std::string Elements(const TxnHistory& h, const int64_t* values, uint32_t size) {
  std::string out = "[";
  for (uint32_t i = 0; i < size; ++i) {
    if (i) out.push_back(' ');
    h.names.Append(values[i], &out);
  }
  out.push_back(']');
  return out;
}

}  // namespace

// Checks the elements of one list read: duplicates, values nobody appended (garbage) and
// values appended by transactions that failed (G1a). The reader is blamed.
void Inference::CheckListElements(uint32_t key, const ReadRec& read, bool in_order) {
  const KeyState& ks = key_state_[key];
  const int64_t* values = List(read);
  scratch_.assign(values, values + read.list_size);
  std::sort(scratch_.begin(), scratch_.end());
  auto dup = std::adjacent_find(scratch_.begin(), scratch_.end());
  if (dup != scratch_.end()) {
    Report("duplicate-elements", {read.txn},
           absl::StrCat(Key(key), " read ", Elements(h_, values, read.list_size), ", which holds ",
                        Value(*dup), " more than once"));
  }
  for (uint32_t i = 0; i < read.list_size; ++i) {
    WriteInfo* w =
        in_order ? const_cast<WriteInfo*>(VersionWriter(ks, i)) : MutableWriter(key, values[i]);
    if (w == nullptr) {
      Report("garbage-read", {read.txn},
             absl::StrCat(Key(key), " read ", Elements(h_, values, read.list_size), ", but no ",
                          "transaction appended ", Value(values[i]), " to it"));
      continue;
    }
    w->observed = true;
    if (h_.txns[w->txn].status == TxnStatus::kFail) {
      Report(
          "G1a", {read.txn, w->txn},
          absl::StrCat(Key(key), " read ", Elements(h_, values, read.list_size), ", which holds ",
                       Value(values[i]), ", appended by a transaction that ", "failed"));
    }
  }
}

void Inference::ListKey(uint32_t key) {
  KeyState& ks = key_state_[key];
  const uint32_t rb = key_read_begin_[key];
  const uint32_t re = key_read_begin_[key + 1];
  // The longest read: every committed read must be a prefix of it. The reads' elements are
  // scattered over the history; fetching them all now overlaps their cache misses.
  uint32_t longest = re;
  for (uint32_t i = rb; i < re; ++i) {
    __builtin_prefetch(List(reads_[i]));
    if (longest == re || reads_[i].list_size > reads_[longest].list_size) longest = i;
  }
  const std::vector<int64_t>* given = GivenOrder(key);
  if (given != nullptr) {
    SetVersionOrder(key, given->data(), static_cast<uint32_t>(given->size()));
  } else if (longest != re) {
    SetVersionOrder(key, List(reads_[longest]), reads_[longest].list_size);
  }
  const int64_t* vo = vo_values_.data() + ks.vo_begin;
  auto is_prefix = [&](const ReadRec& r) {
    return r.list_size <= ks.vo_size && std::equal(List(r), List(r) + r.list_size, vo);
  };
  if (longest != re) CheckListElements(key, reads_[longest], is_prefix(reads_[longest]));
  int reported = 0;
  for (uint32_t i = rb; i < re; ++i) {
    ReadRec& r = reads_[i];
    r.in_order = is_prefix(r);
    if (r.in_order) continue;
    if (given == nullptr) ks.incompatible = true;
    if (i != longest) CheckListElements(key, r, false);
    // One report per key and reader pair is enough to show the order is broken; cap the
    // number so a corrupted key cannot flood the report.
    if (reported++ < 8) {
      Report("incompatible-order", {r.txn, reads_[longest].txn},
             absl::StrCat(Key(key), " read ", Elements(h_, List(r), r.list_size),
                          given != nullptr ? ", which is not a prefix of the version order "
                                           : ", which is not a prefix of the longest read ",
                          Elements(h_, vo, ks.vo_size)));
    }
  }
  // G1b: a read whose last element another transaction later appended after, in the same
  // transaction.
  for (uint32_t i = rb; i < re; ++i) {
    const ReadRec& r = reads_[i];
    if (!r.external || r.ext_size == 0) continue;
    const int64_t last = List(r)[r.ext_size - 1];
    const WriteInfo* w = r.in_order ? VersionWriter(ks, r.ext_size - 1) : Writer(key, last);
    if (w != nullptr && w->txn != r.txn && !w->final && !w->ambiguous) {
      Report("G1b", {r.txn, w->txn},
             absl::StrCat(Key(key), " read ", Elements(h_, List(r), r.list_size),
                          ", ending in an intermediate append of ", Value(last),
                          " by a transaction that appended to it again"));
    }
  }
  CollectUnread(key);
  ListEdges(key);
  if (!ks.incompatible) ListLostUpdates(key);
}

// The ww, wr and rw edges of one list key, after ListKey has checked its reads.
void Inference::ListEdges(uint32_t key) {
  const KeyState& ks = key_state_[key];
  const uint32_t rb = key_read_begin_[key];
  const uint32_t re = key_read_begin_[key + 1];
  // The writer of the last element a read observed from other transactions.
  auto observed = [&](const ReadRec& r) {
    return r.in_order ? VersionWriter(ks, r.ext_size - 1) : Writer(key, List(r)[r.ext_size - 1]);
  };
  if (ks.incompatible) {
    // Only wr edges are sound when reads disagree about the order.
    for (uint32_t i = rb; i < re; ++i) {
      const ReadRec& r = reads_[i];
      if (!r.external || r.ext_size == 0) continue;
      const WriteInfo* w = observed(r);
      if (w != nullptr && !w->ambiguous) Edge(w->txn, r.txn, kEdgeWR);
    }
    return;
  }
  // ww: consecutive versions, and the last read version before every unread append.
  int64_t last_writer = -1;
  for (uint32_t i = 0; i < ks.vo_size; ++i) {
    const WriteInfo* w = VersionWriter(ks, i);
    if (w == nullptr || w->ambiguous) continue;
    if (last_writer >= 0) Edge(static_cast<uint32_t>(last_writer), w->txn, kEdgeWW);
    last_writer = w->txn;
  }
  const uint32_t* unread = unread_.data() + ks.unread_begin;
  if (last_writer >= 0) {
    for (uint32_t u = 0; u < ks.unread_size; ++u) {
      Edge(static_cast<uint32_t>(last_writer), writes_[unread[u]].txn, kEdgeWW);
    }
  }
  for (uint32_t i = rb; i < re; ++i) {
    const ReadRec& r = reads_[i];
    if (!r.external) continue;
    if (r.ext_size > 0) {
      const WriteInfo* w = observed(r);
      if (w != nullptr && !w->ambiguous) Edge(w->txn, r.txn, kEdgeWR);
    }
    if (!r.in_order) continue;
    if (r.ext_size < ks.vo_size) {
      const WriteInfo* w = VersionWriter(ks, r.ext_size);
      if (w != nullptr && !w->ambiguous) Edge(r.txn, w->txn, kEdgeRW);
    } else {
      // The read saw every version any read saw; each unread committed append is later.
      for (uint32_t u = 0; u < ks.unread_size; ++u) {
        Edge(r.txn, writes_[unread[u]].txn, kEdgeRW);
      }
    }
  }
}

// Lost update: two committed transactions read the same version of a key and both append
// to it.
void Inference::ListLostUpdates(uint32_t key) {
  std::vector<std::pair<uint32_t, uint32_t>> version_txn;  // (observed size, read id)
  for (uint32_t i = key_read_begin_[key]; i < key_read_begin_[key + 1]; ++i) {
    const ReadRec& r = reads_[i];
    if (r.external && r.writes_key && r.in_order) version_txn.emplace_back(r.ext_size, r.txn);
  }
  if (version_txn.size() < 2) return;
  std::sort(version_txn.begin(), version_txn.end());
  const int64_t* vo = vo_values_.data() + key_state_[key].vo_begin;
  for (size_t i = 0; i < version_txn.size();) {
    size_t j = i;
    while (j < version_txn.size() && version_txn[j].first == version_txn[i].first) ++j;
    if (j - i >= 2) {
      std::vector<uint32_t> txns;
      for (size_t x = i; x < j; ++x) txns.push_back(version_txn[x].second);
      txns.erase(std::unique(txns.begin(), txns.end()), txns.end());
      if (txns.size() >= 2) {
        Report("lost-update", txns,
               absl::StrCat(txns.size(), " transactions read ", Key(key), " = ",
                            Elements(h_, vo, version_txn[i].first), " and each appended to it"));
      }
    }
    i = j;
  }
}

void Inference::RegisterKey(uint32_t key) {
  KeyState& ks = key_state_[key];
  const std::vector<int64_t>* given = GivenOrder(key);
  if (given != nullptr) SetVersionOrder(key, given->data(), static_cast<uint32_t>(given->size()));
  const uint32_t rb = key_read_begin_[key];
  const uint32_t re = key_read_begin_[key + 1];
  for (uint32_t i = rb; i < re; ++i) {
    const ReadRec& r = reads_[i];
    const TxnMop& m = h_.mops[r.mop];
    if (!r.external || m.form != ReadForm::kScalar) continue;
    WriteInfo* w = MutableWriter(key, m.value);
    if (w == nullptr) {
      Report("garbage-read", {r.txn},
             absl::StrCat(Key(key), " read ", Value(m.value), ", a value no transaction wrote"));
      continue;
    }
    w->observed = true;
    if (h_.txns[w->txn].status == TxnStatus::kFail) {
      Report("G1a", {r.txn, w->txn},
             absl::StrCat(Key(key), " read ", Value(m.value),
                          ", written by a transaction that failed"));
    } else if (w->txn != r.txn && !w->final && !w->ambiguous) {
      Report("G1b", {r.txn, w->txn},
             absl::StrCat(Key(key), " read ", Value(m.value),
                          ", an intermediate write of a transaction that wrote it again"));
    }
  }
  CollectUnread(key);
  const uint32_t* unread = unread_.data() + ks.unread_begin;
  int64_t last_writer = -1;
  for (uint32_t i = 0; i < ks.vo_size; ++i) {
    const WriteInfo* w = VersionWriter(ks, i);
    if (w == nullptr || w->ambiguous) continue;
    if (last_writer >= 0) Edge(static_cast<uint32_t>(last_writer), w->txn, kEdgeWW);
    last_writer = w->txn;
  }
  // (form is nil, value, txn, read id) for writes-follow-reads and lost updates.
  std::vector<std::tuple<bool, int64_t, uint32_t, uint32_t>> by_version;
  for (uint32_t i = rb; i < re; ++i) {
    const ReadRec& r = reads_[i];
    if (!r.external) continue;
    const TxnMop& m = h_.mops[r.mop];
    const bool nil = m.form == ReadForm::kNil;
    int64_t position = nil ? 0 : -1;
    if (!nil) {
      const WriteInfo* w = Writer(key, m.value);
      if (w == nullptr || w->ambiguous) continue;
      Edge(w->txn, r.txn, kEdgeWR);
      if (w->vo_position >= 0) position = w->vo_position + 1;
    }
    if (r.writes_key) by_version.emplace_back(!nil, nil ? 0 : m.value, r.txn, i);
    if (position < 0) continue;
    if (position < ks.vo_size) {
      const WriteInfo* w = VersionWriter(ks, static_cast<uint32_t>(position));
      if (w != nullptr && !w->ambiguous) Edge(r.txn, w->txn, kEdgeRW);
    } else {
      for (uint32_t u = 0; u < ks.unread_size; ++u) {
        Edge(r.txn, writes_[unread[u]].txn, kEdgeRW);
      }
    }
  }
  std::sort(by_version.begin(), by_version.end());
  for (size_t i = 0; i < by_version.size();) {
    size_t j = i;
    while (j < by_version.size() && std::get<0>(by_version[j]) == std::get<0>(by_version[i]) &&
           std::get<1>(by_version[j]) == std::get<1>(by_version[i])) {
      ++j;
    }
    std::vector<uint32_t> txns;
    for (size_t x = i; x < j; ++x) txns.push_back(std::get<2>(by_version[x]));
    txns.erase(std::unique(txns.begin(), txns.end()), txns.end());
    if (txns.size() >= 2) {
      Report("lost-update", txns,
             absl::StrCat(txns.size(), " transactions read ", Key(key), " = ",
                          std::get<0>(by_version[i]) ? Value(std::get<1>(by_version[i])) : "nil",
                          " and each wrote it"));
    }
    if (given == nullptr) {
      // Writes follow reads: a transaction that read version v and wrote the key installed a
      // later version, so v's writer precedes it (ww) and every other reader of v precedes
      // it (rw). A nil read is already covered: it precedes every committed write.
      for (size_t x = i; x < j; ++x) {
        const uint32_t writer_txn = std::get<2>(by_version[x]);
        if (std::get<0>(by_version[x])) {
          const WriteInfo* w = Writer(key, std::get<1>(by_version[x]));
          if (w != nullptr && !w->ambiguous) Edge(w->txn, writer_txn, kEdgeWW);
        }
      }
    }
    i = j;
  }
  if (given == nullptr) {
    // Other readers of a version some writer overwrote: rw to that writer.
    for (uint32_t i = rb; i < re; ++i) {
      const ReadRec& r = reads_[i];
      const TxnMop& m = h_.mops[r.mop];
      if (!r.external || m.form != ReadForm::kScalar) continue;
      auto lo = std::lower_bound(by_version.begin(), by_version.end(),
                                 std::make_tuple(true, m.value, uint32_t{0}, uint32_t{0}));
      for (auto it = lo; it != by_version.end() && std::get<0>(*it) && std::get<1>(*it) == m.value;
           ++it) {
        Edge(r.txn, std::get<2>(*it), kEdgeRW);
      }
    }
  }
}

}  // namespace hindcast::properties::isolation_internal
