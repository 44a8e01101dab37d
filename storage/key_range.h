// A range of string keys, [begin, end), for scans over storage/ structures.
//
//   KeyRange users = KeyRange::Prefix("user/");  // ["user/", "user0")
//   users.Contains("user/7");                    // true
//   KeyRange::All().Contains("");                 // true: every key, the empty one included.
//
// Keys compare as byte strings (std::string's order, bytes unsigned), the order every ordered
// container in storage/ uses.
#ifndef HINDCAST_STORAGE_KEY_RANGE_H_
#define HINDCAST_STORAGE_KEY_RANGE_H_

#include <optional>
#include <string>
#include <string_view>

namespace hindcast::storage {

struct KeyRange {
  std::string begin;               // Inclusive.
  std::optional<std::string> end;  // Exclusive; nullopt means no upper bound.

  static KeyRange All() { return {}; }
  static KeyRange Between(std::string_view begin, std::string_view end) {
    return {std::string(begin), std::string(end)};
  }
  // Every key that starts with `prefix`. The end is the prefix with trailing 0xff bytes
  // dropped and the last remaining byte incremented; a prefix of only 0xff bytes (or the
  // empty prefix) has no upper bound.
  static KeyRange Prefix(std::string_view prefix) {
    KeyRange range{std::string(prefix), std::nullopt};
    std::string end(prefix);
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
    if (!end.empty()) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      range.end = std::move(end);
    }
    return range;
  }

  bool Contains(std::string_view key) const {
    return std::string_view(begin) <= key && (!end.has_value() || key < std::string_view(*end));
  }
  // True when `key` is at or past the end, so an ascending scan can stop.
  bool IsPastEnd(std::string_view key) const {
    return end.has_value() && std::string_view(*end) <= key;
  }

  bool operator==(const KeyRange&) const = default;
};

}  // namespace hindcast::storage

#endif  // HINDCAST_STORAGE_KEY_RANGE_H_
