// Per-key inference for the isolation checker: version orders, the anomalies that are not
// cycles, and the ww / wr / rw edges of the dependency graph.
#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "properties/isolation_internal.h"
#include "sim/assert.h"

namespace hindcast::properties::isolation_internal {
namespace {

// Keys in [0, kDirectKeys) are mapped to dense ids through an array, the rest through a
// hash map: most histories use small integer keys.
constexpr int64_t kDirectKeys = int64_t{1} << 16;

bool IsWrite(const TxnMop& m) { return m.kind != MopKind::kRead; }

std::string ListText(const TxnHistory& h, const int64_t* values, uint32_t size) {
  std::string out = "[";
  for (uint32_t i = 0; i < size; ++i) {
    if (i) out.push_back(' ');
    h.names.Append(values[i], &out);
  }
  out.push_back(']');
  return out;
}

}  // namespace

// Writes are grouped by key and sorted by value within a key, so a lookup is a binary
// search over one key's writes: cache-friendly, where a global hash map misses on every
// probe once a history outgrows the cache.
const WriteInfo* Inference::Writer(uint32_t key, int64_t value) const {
  HC_ASSERT(key + 1 < key_write_begin_.size());
  const WriteInfo* begin = writes_.data() + key_write_begin_[key];
  const WriteInfo* end = writes_.data() + key_write_begin_[key + 1];
  const WriteInfo* it = std::lower_bound(begin, end, value,
                                         [](const WriteInfo& w, int64_t v) { return w.value < v; });
  return it != end && it->value == value ? it : nullptr;
}

WriteInfo* Inference::MutableWriter(uint32_t key, int64_t value) {
  return const_cast<WriteInfo*>(static_cast<const Inference*>(this)->Writer(key, value));
}

bool Inference::Committed(const WriteInfo& w) const {
  const TxnStatus s = h_.txns[w.txn].status;
  return !w.ambiguous && (s == TxnStatus::kOk || (s == TxnStatus::kInfo && w.observed));
}

void Inference::Edge(uint32_t from, uint32_t to, EdgeType type) {
  HC_ASSERT(from < in_graph_.size() && to < in_graph_.size());
  if (from == to || !in_graph_[from] || !in_graph_[to]) return;
  edges_->push_back(PackEdge(from, to, type));
}

void Inference::Report(std::string name, std::vector<uint32_t> txns, std::string detail) {
  Anomaly a;
  a.name = std::move(name);
  a.txns = std::move(txns);
  a.detail = std::move(detail);
  anomalies_->push_back(std::move(a));
}

absl::Status Inference::Run(std::vector<uint64_t>* edges, std::vector<Anomaly>* anomalies) {
  edges_ = edges;
  anomalies_ = anomalies;
  if (h_.txns.size() >= kMaxTxns) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many transactions (", h_.txns.size(), "; the limit is ", kMaxTxns, ")"));
  }
  in_graph_.resize(h_.txns.size());
  for (size_t t = 0; t < h_.txns.size(); ++t) in_graph_[t] = InGraph(h_.txns[t]);
  edges_->reserve(edges_->size() + 3 * h_.mops.size());
  IndexKeys();
  absl::Status status = IndexWrites();
  if (!status.ok()) return status;
  status = IndexReads();
  if (!status.ok()) return status;
  key_state_.resize(keys_.size());
  if (version_order_.has_value()) {
    size_t versions = 0;
    for (uint32_t i = 0; i < version_order_->size(); ++i) {
      given_order_.try_emplace((*version_order_)[i].key, i);
      versions += (*version_order_)[i].values.size();
    }
    vo_values_.reserve(versions);
    vo_writer_.reserve(versions);
  }
  for (uint32_t k = 0; k < keys_.size(); ++k) {
    if (model_ == DataModel::kListAppend) {
      ListKey(k);
    } else {
      RegisterKey(k);
    }
  }
  return absl::OkStatus();
}

// Gives every key a dense id (keys_, mop_key_) and counts each key's writes and committed
// reads, which sizes the per-key groups of writes_ and reads_.
void Inference::IndexKeys() {
  mop_key_.assign(h_.mops.size(), 0);
  key_write_begin_.assign(1, 0);
  key_read_begin_.assign(1, 0);
  std::vector<int32_t> direct(kDirectKeys, -1);
  absl::flat_hash_map<int64_t, uint32_t> other;  // lookup-only
  auto add_key = [&](int64_t key) {
    keys_.push_back(key);
    key_write_begin_.push_back(0);
    key_read_begin_.push_back(0);
  };
  auto dense = [&](int64_t key) -> uint32_t {
    if (key >= 0 && key < kDirectKeys) {
      int32_t& d = direct[static_cast<size_t>(key)];
      if (d < 0) {
        d = static_cast<int32_t>(keys_.size());
        add_key(key);
      }
      return static_cast<uint32_t>(d);
    }
    auto [it, inserted] = other.try_emplace(key, static_cast<uint32_t>(keys_.size()));
    if (inserted) add_key(key);
    return it->second;
  };
  for (const Txn& t : h_.txns) {
    for (uint32_t m = t.mop_begin; m < t.mop_end; ++m) {
      const uint32_t key = dense(h_.mops[m].key);
      mop_key_[m] = key;
      if (IsWrite(h_.mops[m])) {
        ++key_write_begin_[key + 1];
      } else if (t.status == TxnStatus::kOk) {
        ++key_read_begin_[key + 1];
      }
    }
  }
  for (size_t k = 1; k <= keys_.size(); ++k) {
    key_write_begin_[k] += key_write_begin_[k - 1];
    key_read_begin_[k] += key_read_begin_[k - 1];
  }
}

absl::Status Inference::IndexWrites() {
  writes_.resize(key_write_begin_.back());
  std::vector<uint32_t> fill(key_write_begin_.begin(), key_write_begin_.end() - 1);
  for (uint32_t t = 0; t < h_.txns.size(); ++t) {
    const Txn& txn = h_.txns[t];
    for (uint32_t m = txn.mop_begin; m < txn.mop_end; ++m) {
      const TxnMop& mop = h_.mops[m];
      if (!IsWrite(mop)) continue;
      if (model_ == DataModel::kListAppend && mop.kind != MopKind::kAppend) {
        return absl::InvalidArgumentError(absl::StrCat("transaction :index ", txn.index,
                                                       " writes with :w in a list-append history"));
      }
      if (model_ == DataModel::kRwRegister && mop.kind != MopKind::kWrite) {
        return absl::InvalidArgumentError(
            absl::StrCat("transaction :index ", txn.index, " appends in a rw-register history"));
      }
      bool final = true;
      for (uint32_t later = m + 1; later < txn.mop_end; ++later) {
        if (IsWrite(h_.mops[later]) && mop_key_[later] == mop_key_[m]) final = false;
      }
      writes_[fill[mop_key_[m]]++] =
          WriteInfo{.value = mop.value, .txn = t, .mop = m, .final = final};
    }
  }
  auto by_value = [](const WriteInfo& a, const WriteInfo& b) { return a.value < b.value; };
  for (uint32_t k = 0; k < keys_.size(); ++k) {
    HC_ASSERT(fill[k] == key_write_begin_[k + 1]);
    WriteInfo* begin = writes_.data() + key_write_begin_[k];
    WriteInfo* end = writes_.data() + key_write_begin_[k + 1];
    // Stable: equal values stay in history order, so the first writer is found first. Values
    // usually grow along the history, so the sort is usually not needed.
    if (!std::is_sorted(begin, end, by_value)) std::stable_sort(begin, end, by_value);
    for (WriteInfo* w = begin; w + 1 < end; ++w) {
      if (w->value == w[1].value) w->ambiguous = w[1].ambiguous = true;
    }
  }
  return absl::OkStatus();
}

absl::Status Inference::IndexReads() {
  reads_.resize(key_read_begin_.back());
  txn_reads_.clear();
  txn_reads_.reserve(reads_.size());
  read_fill_.assign(key_read_begin_.begin(), key_read_begin_.end() - 1);
  txn_read_begin_.assign(h_.txns.size() + 1, 0);
  for (uint32_t t = 0; t < h_.txns.size(); ++t) {
    txn_read_begin_[t] = static_cast<uint32_t>(txn_reads_.size());
    const Txn& txn = h_.txns[t];
    if (txn.status != TxnStatus::kOk) continue;
    for (uint32_t m = txn.mop_begin; m < txn.mop_end; ++m) {
      const TxnMop& mop = h_.mops[m];
      if (mop.kind != MopKind::kRead) continue;
      if (model_ == DataModel::kListAppend && mop.form == ReadForm::kScalar) {
        return absl::InvalidArgumentError(absl::StrCat(
            "transaction :index ", txn.index, " reads a single value in a list-append history"));
      }
      if (model_ == DataModel::kRwRegister && mop.form == ReadForm::kList) {
        return absl::InvalidArgumentError(absl::StrCat("transaction :index ", txn.index,
                                                       " reads a list in a rw-register history"));
      }
    }
    if (model_ == DataModel::kListAppend) {
      ReadsOfListTxn(t);
    } else {
      ReadsOfRegisterTxn(t);
    }
  }
  txn_read_begin_[h_.txns.size()] = static_cast<uint32_t>(txn_reads_.size());
  HC_ASSERT(txn_reads_.size() == reads_.size());
  return absl::OkStatus();
}

void Inference::AddRead(const ReadRec& read) {
  const uint32_t slot = read_fill_[read.key]++;
  HC_ASSERT(slot < key_read_begin_[read.key + 1]);
  reads_[slot] = read;
  txn_reads_.push_back(slot);
}

// Reads of one committed list-append transaction: each later read of a key must equal the
// earlier one plus the transaction's own appends since (else "internal"); the first read's
// external part is what other transactions wrote.
void Inference::ReadsOfListTxn(uint32_t t) {
  const Txn& txn = h_.txns[t];
  for (uint32_t j = txn.mop_begin; j < txn.mop_end; ++j) {
    const TxnMop& mop = h_.mops[j];
    if (mop.kind != MopKind::kRead) continue;
    const uint32_t key = mop_key_[j];
    ReadRec rec{
        .txn = t, .mop = j, .key = key, .list_begin = mop.list_begin, .list_size = mop.list_size};
    uint32_t segment = txn.mop_begin;
    int64_t previous = -1;
    for (uint32_t i = j; i-- > txn.mop_begin;) {
      if (mop_key_[i] == key && h_.mops[i].kind == MopKind::kRead) {
        previous = i;
        segment = i + 1;
        break;
      }
    }
    scratch_.clear();
    if (previous >= 0) {
      const TxnMop& p = h_.mops[static_cast<uint32_t>(previous)];
      scratch_.assign(List(p), List(p) + p.list_size);
    }
    const size_t own_from = scratch_.size();
    for (uint32_t i = segment; i < j; ++i) {
      if (mop_key_[i] == key && h_.mops[i].kind == MopKind::kAppend) {
        scratch_.push_back(h_.mops[i].value);
      }
    }
    for (uint32_t i = txn.mop_begin; i < txn.mop_end; ++i) {
      if (mop_key_[i] == key && h_.mops[i].kind == MopKind::kAppend) rec.writes_key = true;
    }
    const int64_t* got = List(mop);
    const uint32_t size = mop.list_size;
    bool consistent;
    if (previous >= 0) {
      consistent = size == scratch_.size() && std::equal(got, got + size, scratch_.begin());
    } else {
      const size_t own = scratch_.size() - own_from;
      consistent = size >= own && std::equal(got + (size - own), got + size, scratch_.begin());
      if (consistent) {
        rec.external = true;
        rec.ext_size = static_cast<uint32_t>(size - own);
      }
    }
    if (!consistent) {
      Report("internal", {t},
             absl::StrCat(Key(key), " read ", ListText(h_, got, size), " but its own earlier ",
                          previous >= 0 ? "read and appends imply " : "appends must end it: ",
                          ListText(h_, scratch_.data(), static_cast<uint32_t>(scratch_.size()))));
    }
    AddRead(rec);
  }
}

// Reads of one committed register transaction: a read after the transaction's own write
// must return it; a repeated read must return the same value.
void Inference::ReadsOfRegisterTxn(uint32_t t) {
  const Txn& txn = h_.txns[t];
  for (uint32_t j = txn.mop_begin; j < txn.mop_end; ++j) {
    const TxnMop& mop = h_.mops[j];
    if (mop.kind != MopKind::kRead) continue;
    const uint32_t key = mop_key_[j];
    ReadRec rec{.txn = t, .mop = j, .key = key};
    for (uint32_t i = txn.mop_begin; i < txn.mop_end; ++i) {
      if (mop_key_[i] == key && IsWrite(h_.mops[i])) rec.writes_key = true;
    }
    int64_t previous = -1;
    for (uint32_t i = j; i-- > txn.mop_begin;) {
      if (mop_key_[i] == key) {
        previous = i;
        break;
      }
    }
    if (previous < 0) {
      rec.external = true;
    } else {
      const TxnMop& p = h_.mops[static_cast<uint32_t>(previous)];
      const bool expect_nil = p.kind == MopKind::kRead && p.form == ReadForm::kNil;
      const bool got_nil = mop.form == ReadForm::kNil;
      if (expect_nil != got_nil || (!got_nil && p.value != mop.value)) {
        Report("internal", {t},
               absl::StrCat(Key(key), " read ", got_nil ? "nil" : Value(mop.value),
                            " but the transaction's own earlier ",
                            p.kind == MopKind::kRead ? "read returned " : "write set ",
                            expect_nil ? "nil" : Value(p.value)));
      }
    }
    AddRead(rec);
  }
}

const std::vector<int64_t>* Inference::GivenOrder(uint32_t key) const {
  if (!version_order_.has_value()) return nullptr;
  auto it = given_order_.find(keys_[key]);
  return it == given_order_.end() ? &no_writes_ : &(*version_order_)[it->second].values;
}

void Inference::SetVersionOrder(uint32_t key, const int64_t* values, uint32_t size) {
  KeyState& ks = key_state_[key];
  ks.vo_begin = static_cast<uint32_t>(vo_values_.size());
  ks.vo_size = size;
  vo_values_.insert(vo_values_.end(), values, values + size);
  for (uint32_t i = 0; i < size; ++i) {
    WriteInfo* w = MutableWriter(key, values[i]);
    vo_writer_.push_back(w == nullptr ? kNoWrite : static_cast<uint32_t>(w - writes_.data()));
    if (w != nullptr && w->vo_position < 0) w->vo_position = static_cast<int32_t>(i);
  }
}

void Inference::CollectUnread(uint32_t key) {
  KeyState& ks = key_state_[key];
  ks.unread_begin = static_cast<uint32_t>(unread_.size());
  for (uint32_t i = key_write_begin_[key]; i < key_write_begin_[key + 1]; ++i) {
    if (writes_[i].vo_position < 0 && Committed(writes_[i])) unread_.push_back(i);
  }
  ks.unread_size = static_cast<uint32_t>(unread_.size()) - ks.unread_begin;
}

}  // namespace hindcast::properties::isolation_internal
