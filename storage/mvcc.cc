#include "storage/mvcc.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "sim/assert.h"

namespace hindcast::storage {

VersionedTable::VersionedTable(const VersionedTable& other) { *this = other; }

VersionedTable& VersionedTable::operator=(const VersionedTable& other) {
  if (this == &other) return *this;
  store_.clear();
  chains_.clear();
  for (const auto& [key, chain] : other.chains_) FindOrAdd(key) = *chain;
  version_count_ = other.version_count_;
  truncated_below_ = other.truncated_below_;
  return *this;
}

VersionedTable::Chain& VersionedTable::FindOrAdd(std::string_view key) {
  const auto [it, added] = store_.try_emplace(key);
  if (added) chains_.emplace(std::string_view(it->first), &it->second);
  return it->second;
}

VersionedTable::Ordered::iterator VersionedTable::Erase(Ordered::iterator it) {
  HC_ASSERT(it->second->empty());
  const auto stored = store_.find(it->first);
  HC_ASSERT(stored != store_.end() && &stored->second == it->second);
  it = chains_.erase(it);  // Before the key's storage goes.
  store_.erase(stored);
  return it;
}

void VersionedTable::Apply(std::string_view key, Timestamp commit_ts,
                           std::optional<std::string_view> value) {
  Append(FindOrAdd(key), commit_ts, value);
}

bool VersionedTable::ApplyIfNewer(std::string_view key, Timestamp commit_ts,
                                  std::optional<std::string_view> value) {
  Chain& chain = FindOrAdd(key);
  if (!chain.empty() && chain.back().commit_ts >= commit_ts) return false;
  Append(chain, commit_ts, value);
  return true;
}

void VersionedTable::Append(Chain& chain, Timestamp commit_ts,
                            std::optional<std::string_view> value) {
  HC_ASSERT_MSG(commit_ts.IsCommittable(), "commit ts must lie strictly between Min and Max");
  HC_ASSERT_MSG(commit_ts >= truncated_below_, "apply below the truncation point");
  HC_ASSERT_MSG(chain.empty() || chain.back().commit_ts < commit_ts,
                "versions of a key must be applied in strictly increasing commit ts");
  Version version{commit_ts, std::nullopt};
  if (value.has_value()) version.value.emplace(*value);
  chain.push_back(std::move(version));
  ++version_count_;
  HC_ASSERT(!chain.empty() && chain.back().commit_ts == commit_ts);
}

const VersionedTable::Chain* VersionedTable::Find(std::string_view key) const {
  const auto it = store_.find(key);
  if (it == store_.end()) return nullptr;
  HC_ASSERT_MSG(!it->second.empty(), "a key with no versions was left in the table");
  return &it->second;
}

size_t VersionedTable::FirstAtOrAbove(const Chain& chain, Timestamp ts) {
  const auto it = std::partition_point(chain.begin(), chain.end(),
                                       [ts](const Version& v) { return v.commit_ts < ts; });
  const size_t index = static_cast<size_t>(it - chain.begin());
  HC_ASSERT(index == chain.size() || chain[index].commit_ts >= ts);
  HC_ASSERT(index == 0 || chain[index - 1].commit_ts < ts);
  return index;
}

const Version* VersionedTable::VisibleVersion(std::string_view key, Timestamp snapshot) const {
  const Chain* chain = Find(key);
  if (chain == nullptr) return nullptr;
  const size_t above = FirstAtOrAbove(*chain, snapshot);
  if (above == 0) return nullptr;
  const Version& visible = (*chain)[above - 1];
  HC_ASSERT_MSG(visible.commit_ts < snapshot, "read returned a version at or above its snapshot");
  HC_ASSERT(above < 2 || (*chain)[above - 2].commit_ts < visible.commit_ts);
  return &visible;
}

std::optional<Version> VersionedTable::ReadVersion(std::string_view key, Timestamp snapshot) const {
  const Version* visible = VisibleVersion(key, snapshot);
  if (visible == nullptr) return std::nullopt;
  return *visible;
}

std::optional<std::string> VersionedTable::Read(std::string_view key, Timestamp snapshot) const {
  const Version* version = VisibleVersion(key, snapshot);
  if (version == nullptr) return std::nullopt;
  return version->value;
}

std::vector<Row> VersionedTable::Scan(const KeyRange& range, Timestamp snapshot) const {
  std::vector<Row> rows;
  std::optional<std::string_view> previous_key;
  for (auto it = chains_.lower_bound(range.begin); it != chains_.end(); ++it) {
    if (range.IsPastEnd(it->first)) break;
    HC_ASSERT(range.Contains(it->first));
    HC_ASSERT(!previous_key.has_value() || *previous_key < it->first);
    previous_key = it->first;
    const Chain& chain = *it->second;
    HC_ASSERT(!chain.empty());
    const size_t above = FirstAtOrAbove(chain, snapshot);
    if (above == 0 || chain[above - 1].is_tombstone()) continue;
    rows.push_back(Row{std::string(it->first), *chain[above - 1].value});
  }
  return rows;
}

std::optional<Timestamp> VersionedTable::NewestCommitTs(std::string_view key) const {
  const Chain* chain = Find(key);
  if (chain == nullptr) return std::nullopt;
  return chain->back().commit_ts;
}

bool VersionedTable::HasWriteIn(std::string_view key, Timestamp after_exclusive,
                                Timestamp upto_inclusive) const {
  HC_ASSERT_MSG(after_exclusive <= upto_inclusive, "write window ends before it starts");
  const Chain* chain = Find(key);
  if (chain == nullptr) return false;
  // The newest version at or below upto is the only candidate that matters.
  const auto it = std::partition_point(
      chain->begin(), chain->end(),
      [upto_inclusive](const Version& v) { return v.commit_ts <= upto_inclusive; });
  if (it == chain->begin()) return false;
  return std::prev(it)->commit_ts > after_exclusive;
}

bool VersionedTable::HasWriteUnseenBy(std::string_view key, Timestamp snapshot,
                                      Timestamp upto_inclusive) const {
  if (upto_inclusive < snapshot) return false;  // An empty window: [snapshot, upto].
  const Chain* chain = Find(key);
  if (chain == nullptr) return false;
  const size_t first_unseen = FirstAtOrAbove(*chain, snapshot);
  return first_unseen < chain->size() && (*chain)[first_unseen].commit_ts <= upto_inclusive;
}

size_t VersionedTable::GarbageCollect(Timestamp horizon) {
  size_t dropped = 0;
  for (auto& [key, chain_ptr] : chains_) {
    Chain& chain = *chain_ptr;
    HC_ASSERT(!chain.empty());
    const size_t below = FirstAtOrAbove(chain, horizon);
    // chain[below - 1] is the newest version below the horizon and stays.
    if (below < 2) continue;
    const Timestamp kept = chain[below - 1].commit_ts;
    chain.erase(chain.begin(), chain.begin() + static_cast<ptrdiff_t>(below - 1));
    dropped += below - 1;
    HC_ASSERT(chain.front().commit_ts == kept && kept < horizon);
  }
  HC_ASSERT(dropped <= version_count_);
  version_count_ -= dropped;
  return dropped;
}

size_t VersionedTable::Truncate(Timestamp below) {
  size_t dropped = 0;
  for (auto it = chains_.begin(); it != chains_.end();) {
    Chain& chain = *it->second;
    const size_t count = FirstAtOrAbove(chain, below);
    chain.erase(chain.begin(), chain.begin() + static_cast<ptrdiff_t>(count));
    dropped += count;
    HC_ASSERT(chain.empty() || chain.front().commit_ts >= below);
    it = chain.empty() ? Erase(it) : std::next(it);
  }
  HC_ASSERT(dropped <= version_count_);
  version_count_ -= dropped;
  truncated_below_ = std::max(truncated_below_, below);
  return dropped;
}

size_t VersionedTable::MoveBelow(Timestamp below, VersionedTable* older) {
  HC_ASSERT(older != nullptr && older != this);
  size_t moved = 0;
  for (auto it = chains_.begin(); it != chains_.end();) {
    Chain& chain = *it->second;
    const size_t count = FirstAtOrAbove(chain, below);
    if (count > 0) {
      Chain& target = older->FindOrAdd(it->first);
      HC_ASSERT_MSG(target.empty() || target.back().commit_ts < chain.front().commit_ts,
                    "moved versions must be newer than the older table's");
      HC_ASSERT(chain.front().commit_ts >= older->truncated_below_);
      target.insert(target.end(), std::make_move_iterator(chain.begin()),
                    std::make_move_iterator(chain.begin() + static_cast<ptrdiff_t>(count)));
      chain.erase(chain.begin(), chain.begin() + static_cast<ptrdiff_t>(count));
      older->version_count_ += count;
      moved += count;
    }
    it = chain.empty() ? Erase(it) : std::next(it);
  }
  HC_ASSERT(moved <= version_count_);
  version_count_ -= moved;
  truncated_below_ = std::max(truncated_below_, below);
  return moved;
}

void VersionedTable::ForEachVersion(
    absl::FunctionRef<void(std::string_view key, const Version&)> fn) const {
  ForEachVersionIn(Timestamp::Min(), Timestamp::Max(), fn);
}

void VersionedTable::ForEachVersionIn(
    Timestamp from_inclusive, Timestamp to_exclusive,
    absl::FunctionRef<void(std::string_view key, const Version&)> fn) const {
  HC_ASSERT_MSG(from_inclusive <= to_exclusive, "version window ends before it starts");
  for (const auto& [key, chain_ptr] : chains_) {
    const Chain& chain = *chain_ptr;
    HC_ASSERT(!chain.empty());
    const size_t begin = FirstAtOrAbove(chain, from_inclusive);
    const size_t end = FirstAtOrAbove(chain, to_exclusive);
    for (size_t i = end; i > begin; --i) fn(key, chain[i - 1]);
  }
}

void VersionedTable::CheckInvariants() const {
  size_t versions = 0;
  HC_ASSERT_MSG(store_.size() == chains_.size(), "the key index and the key order disagree");
  for (const auto& [key, chain_ptr] : chains_) {
    const Chain& chain = *chain_ptr;
    HC_ASSERT(Find(key) == chain_ptr);
    HC_ASSERT_MSG(!chain.empty(), "a key with no versions was left in the table");
    for (size_t i = 0; i < chain.size(); ++i) {
      HC_ASSERT(chain[i].commit_ts.IsCommittable());
      HC_ASSERT(chain[i].commit_ts >= truncated_below_);
      HC_ASSERT_MSG(i == 0 || chain[i - 1].commit_ts < chain[i].commit_ts,
                    "versions of a key out of commit ts order");
    }
    versions += chain.size();
  }
  HC_ASSERT_MSG(versions == version_count_, "version_count() disagrees with the versions held");
}

}  // namespace hindcast::storage
