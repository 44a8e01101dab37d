#include "nodes/logservice/raft_log.h"

#include <utility>

#include "sim/assert.h"

namespace hindcast::nodes::logservice {

RaftLog::RaftLog(uint64_t start_index, uint64_t start_term, std::vector<Entry> entries)
    : start_index_(start_index), start_term_(start_term) {
  for (Entry& e : entries) Append(std::move(e));
}

std::optional<uint64_t> RaftLog::TermAt(uint64_t index) const {
  if (index == start_index_) return start_term_;
  if (!Contains(index)) return std::nullopt;
  return At(index).term();
}

const Entry& RaftLog::At(uint64_t index) const {
  HC_ASSERT_MSG(Contains(index), "log index outside the log");
  const Entry& e = entries_[index - start_index_ - 1];
  HC_ASSERT(e.index() == index);
  return e;
}

std::vector<Entry> RaftLog::Slice(uint64_t from, uint64_t to) const {
  std::vector<Entry> out;
  if (from <= start_index_) from = start_index_ + 1;
  if (to > last_index()) to = last_index();
  for (uint64_t i = from; i <= to; ++i) out.push_back(At(i));
  return out;
}

uint64_t RaftLog::FirstIndexOfTermAt(uint64_t index) const {
  const uint64_t term = At(index).term();
  uint64_t first = index;
  while (first - 1 > start_index_ && At(first - 1).term() == term) --first;
  return first;
}

void RaftLog::Append(Entry entry) {
  HC_ASSERT_MSG(entry.index() == last_index() + 1, "log entries must be consecutive");
  HC_ASSERT_MSG(entry.term() >= last_term(), "log terms must not decrease");
  if (entry.kind() == Entry::DATA) {
    const bool inserted =
        client_entries_.insert({entry.client_id(), entry.seq(), entry.index()}).second;
    HC_ASSERT(inserted);
  }
  entries_.push_back(std::move(entry));
}

void RaftLog::Unindex(const Entry& entry) {
  if (entry.kind() != Entry::DATA) return;
  const size_t erased = client_entries_.erase({entry.client_id(), entry.seq(), entry.index()});
  HC_ASSERT(erased == 1);
}

void RaftLog::TruncateSuffix(uint64_t from_index) {
  HC_ASSERT(from_index > start_index_);
  while (last_index() >= from_index) {
    Unindex(entries_.back());
    entries_.pop_back();
  }
  HC_ASSERT(last_index() < from_index);
}

void RaftLog::CompactTo(uint64_t index, uint64_t term) {
  HC_ASSERT_MSG(index >= start_index_, "the compaction point never moves back");
  const std::optional<uint64_t> have = TermAt(index);
  if (have.has_value() && *have == term) {
    while (start_index_ < index) {
      Unindex(entries_.front());
      entries_.pop_front();
      ++start_index_;
    }
  } else {
    for (const Entry& e : entries_) Unindex(e);
    entries_.clear();
    start_index_ = index;
  }
  start_term_ = term;
  HC_ASSERT(entries_.empty() || entries_.front().index() == start_index_ + 1);
  HC_ASSERT(entries_.empty() || entries_.front().term() >= start_term_);
}

std::optional<uint64_t> RaftLog::FindClientEntry(uint64_t client_id, uint64_t seq) const {
  auto it = client_entries_.lower_bound({client_id, seq, 0});
  if (it == client_entries_.end() || std::get<0>(*it) != client_id || std::get<1>(*it) != seq) {
    return std::nullopt;
  }
  return std::get<2>(*it);
}

}  // namespace hindcast::nodes::logservice
