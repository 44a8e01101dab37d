#include "properties/edn.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "sim/absl_compat.h"

namespace hindcast::properties {
namespace {

// Nesting deeper than this is rejected rather than recursed into, so no input can exhaust
// the stack.
constexpr int kMaxDepth = 128;

// Character classes, by table: the scanner asks about every byte of the file.
constexpr uint8_t kSpace = 1;
constexpr uint8_t kDelimiter = 2;

constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> c{};
  for (unsigned char ch : {' ', ',', '\n', '\t', '\r', '\f', '\v'}) c[ch] = kSpace | kDelimiter;
  for (unsigned char ch : {'[', ']', '(', ')', '{', '}', '"', ';'}) c[ch] = kDelimiter;
  return c;
}
constexpr std::array<uint8_t, 256> kClasses = MakeClasses();

inline bool IsSpace(char c) { return kClasses[static_cast<unsigned char>(c)] & kSpace; }
inline bool IsDelimiter(char c) { return kClasses[static_cast<unsigned char>(c)] & kDelimiter; }

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

enum class ProcessKind : uint8_t { kMissing, kInteger, kOther };

// The fields of one operation map that the checker uses.
struct OpFields {
  bool has_type = false;
  OpType type = OpType::kInvoke;
  ProcessKind process_kind = ProcessKind::kMissing;
  int64_t process = 0;
  bool has_index = false;
  int64_t index = 0;
  bool has_value = false;
  std::string value_error;  // Set when :value is present but not a list of micro-ops.
};

struct InFlight {
  uint32_t txn = 0;
  size_t offset = 0;  // Where the invocation starts in the text, for error messages.
};

class EdnParser {
 public:
  explicit EdnParser(std::string_view text)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()) {}

  absl::StatusOr<TxnHistory> Parse() {
    // One operation per line is the common layout: size the arrays once rather than grow
    // them by copying (which costs as much as the scan for large files).
    const size_t lines = static_cast<size_t>(std::count(begin_, end_, '\n')) + 1;
    out_.txns.reserve(lines / 2 + 1);
    out_.mops.reserve(lines * 2);
    out_.elements.reserve(static_cast<size_t>(end_ - begin_) / 32);
    SkipSpace();
    bool in_vector = false;
    if (p_ < end_ && *p_ == '[') {
      in_vector = true;
      ++p_;
    }
    while (true) {
      SkipSpace();
      op_start_ = p_;
      if (p_ == end_) {
        if (in_vector) return Error("the history vector has no closing ']'");
        break;
      }
      if (in_vector && *p_ == ']') {
        ++p_;
        SkipSpace();
        if (p_ != end_) return Error("unexpected text after the history vector");
        break;
      }
      if (*p_ != '{') return Error("expected an operation map '{...}'");
      absl::Status status = ParseOp();
      if (!status.ok()) return status;
    }
    return std::move(out_);
  }

 private:
  absl::Status Error(std::string_view message) const { return ErrorAt(op_start_, message); }

  absl::Status ErrorAt(const char* at, std::string_view message) const {
    const size_t line = 1 + static_cast<size_t>(std::count(begin_, at, '\n'));
    return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", Sv(message)));
  }

  void SkipSpace() {
    while (p_ < end_) {
      const char c = *p_;
      if (IsSpace(c)) {
        ++p_;
      } else if (c == ';') {
        const void* nl = std::memchr(p_, '\n', static_cast<size_t>(end_ - p_));
        p_ = nl == nullptr ? end_ : static_cast<const char*>(nl) + 1;
      } else {
        return;
      }
    }
  }

  std::string_view Token() {
    const char* start = p_;
    while (p_ < end_ && !IsDelimiter(*p_)) ++p_;
    return std::string_view(start, static_cast<size_t>(p_ - start));
  }

  // Skips a string literal starting at the opening quote; false when unterminated.
  bool SkipString() {
    ++p_;
    while (p_ < end_) {
      if (*p_ == '\\') {
        p_ += 2;
        continue;
      }
      if (*p_++ == '"') return true;
    }
    p_ = end_;
    return false;
  }

  // Skips one EDN form of any kind; false when malformed.
  bool SkipForm(int depth) {
    if (depth > kMaxDepth) return false;
    SkipSpace();
    if (p_ == end_) return false;
    char close = 0;
    switch (*p_) {
      case '[':
        close = ']';
        break;
      case '(':
        close = ')';
        break;
      case '{':
        close = '}';
        break;
      case '"':
        return SkipString();
      case '#':
        ++p_;
        if (p_ < end_ && *p_ == '{') {
          close = '}';
          break;
        }
        if (p_ < end_ && *p_ == '_') {
          ++p_;
          if (!SkipForm(depth + 1)) return false;
          return SkipForm(depth + 1);
        }
        if (Token().empty()) return false;  // A tag such as #inst, then its form.
        return SkipForm(depth + 1);
      case '\\':
        ++p_;
        if (p_ == end_) return false;
        ++p_;
        Token();
        return true;
      case ']':
      case ')':
      case '}':
        return false;
      default:
        return !Token().empty();
    }
    ++p_;
    while (true) {
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == close) {
        ++p_;
        return true;
      }
      if (*p_ == ']' || *p_ == ')' || *p_ == '}') return false;
      if (!SkipForm(depth + 1)) return false;
    }
  }

  // Parses an integer token at p_. Returns false (p_ unchanged) when the token is not one.
  bool ParseInteger(int64_t* out) {
    const char* q = p_;
    bool negative = false;
    if (q < end_ && (*q == '-' || *q == '+')) {
      negative = *q == '-';
      ++q;
    }
    if (q == end_ || !IsDigit(*q)) return false;
    // Accumulate as a negative number so INT64_MIN parses.
    int64_t v = 0;
    while (q < end_ && IsDigit(*q)) {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, *q - '0', &v)) {
        return false;
      }
      ++q;
    }
    if (q < end_ && *q == 'N') ++q;
    if (q < end_ && !IsDelimiter(*q)) return false;
    if (!negative && __builtin_mul_overflow(v, -1, &v)) return false;
    *out = v;
    p_ = q;
    return true;
  }

  // A key or value: an integer, keyword, string or symbol (interned). nil, true and false are
  // not scalars.
  bool ParseScalar(int64_t* out) {
    if (p_ == end_) return false;
    const char c = *p_;
    if (IsDigit(c) || ((c == '-' || c == '+') && p_ + 1 < end_ && IsDigit(p_[1]))) {
      if (!ParseInteger(out)) return false;
      return !NameTable::IsName(*out);
    }
    if (c == '"') {
      const char* start = p_;
      if (!SkipString()) return false;
      *out = out_.names.Intern(std::string_view(start, static_cast<size_t>(p_ - start)));
      return true;
    }
    if (IsDelimiter(c) || c == '#' || c == '\\') return false;
    const std::string_view token = Token();
    if (token == "nil" || token == "true" || token == "false" || token == ":") return false;
    *out = out_.names.Intern(token);
    return true;
  }

  bool Fail(std::string* error, std::string message) {
    *error = std::move(message);
    return false;
  }

  // Parses `[[:append k v] [:r k [..]] ...]` into scratch_mops_ / scratch_elements_.
  bool ParseMops(std::string* error) {
    scratch_mops_.clear();
    scratch_elements_.clear();
    if (p_ == end_ || (*p_ != '[' && *p_ != '(')) {
      return Fail(error, ":value is not a vector of micro-operations");
    }
    const char close = *p_ == '[' ? ']' : ')';
    ++p_;
    while (true) {
      SkipSpace();
      if (p_ == end_) return Fail(error, "unterminated :value");
      if (*p_ == close) {
        ++p_;
        return true;
      }
      if (!ParseMop(error)) return false;
    }
  }

  bool ParseMop(std::string* error) {
    if (*p_ != '[' && *p_ != '(') return Fail(error, "a micro-operation is not a vector");
    const char close = *p_ == '[' ? ']' : ')';
    ++p_;
    SkipSpace();
    const std::string_view f = Token();
    TxnMop mop;
    if (f == ":append") {
      mop.kind = MopKind::kAppend;
    } else if (f == ":r") {
      mop.kind = MopKind::kRead;
    } else if (f == ":w") {
      mop.kind = MopKind::kWrite;
    } else {
      return Fail(error, absl::StrCat("unknown micro-operation '", Sv(f),
                                      "' (expected :append, :r or :w)"));
    }
    SkipSpace();
    if (!ParseScalar(&mop.key)) {
      return Fail(error, "a micro-operation's key is not an integer or keyword");
    }
    SkipSpace();
    if (p_ == end_) return Fail(error, "unterminated micro-operation");
    if (mop.kind == MopKind::kRead) {
      if (*p_ == '[' || *p_ == '(') {
        if (!ParseList(error)) return false;
        mop.form = ReadForm::kList;
        mop.list_begin = list_begin_;
        mop.list_size = static_cast<uint32_t>(scratch_elements_.size() - list_begin_);
      } else {
        const char* token_start = p_;
        if (Token() == "nil") {
          mop.form = ReadForm::kNil;
        } else {
          p_ = token_start;
          if (!ParseScalar(&mop.value)) {
            return Fail(error, "a read's value is not nil, a list, an integer or a keyword");
          }
          mop.form = ReadForm::kScalar;
        }
      }
    } else if (!ParseScalar(&mop.value)) {
      return Fail(error, "a write's value is not an integer or keyword");
    }
    return CloseMop(mop, error, close);
  }

  bool CloseMop(const TxnMop& mop, std::string* error, char close) {
    SkipSpace();
    if (p_ == end_ || *p_ != close) return Fail(error, "a micro-operation has extra elements");
    ++p_;
    scratch_mops_.push_back(mop);
    return true;
  }

  bool ParseList(std::string* error) {
    const char close = *p_ == '[' ? ']' : ')';
    ++p_;
    list_begin_ = static_cast<uint32_t>(scratch_elements_.size());
    while (true) {
      SkipSpace();
      if (p_ == end_) return Fail(error, "unterminated list in a read");
      if (*p_ == close) {
        ++p_;
        return true;
      }
      int64_t v = 0;
      if (!ParseScalar(&v)) return Fail(error, "a list element is not an integer or keyword");
      scratch_elements_.push_back(v);
    }
  }

  absl::Status ParseType(OpFields* f) {
    const std::string_view t = Token();
    if (t == ":invoke") {
      f->type = OpType::kInvoke;
    } else if (t == ":ok") {
      f->type = OpType::kOk;
    } else if (t == ":fail") {
      f->type = OpType::kFail;
    } else if (t == ":info") {
      f->type = OpType::kInfo;
    } else {
      return Error(
          absl::StrCat("unknown :type '", Sv(t), "' (expected :invoke, :ok, :fail, :info)"));
    }
    f->has_type = true;
    return absl::OkStatus();
  }

  absl::Status ParseOp() {
    ++p_;  // '{'
    OpFields f;
    while (true) {
      SkipSpace();
      if (p_ == end_) return Error("the operation map has no closing '}'");
      if (*p_ == '}') {
        ++p_;
        break;
      }
      std::string_view key;
      if (*p_ == ':') {
        key = Token();
      } else if (!SkipForm(0)) {
        return Error("malformed map key");
      }
      SkipSpace();
      if (p_ == end_ || *p_ == '}') return Error("a map key has no value");
      if (key == ":type") {
        absl::Status s = ParseType(&f);
        if (!s.ok()) return s;
      } else if (key == ":process") {
        if (ParseInteger(&f.process)) {
          f.process_kind = ProcessKind::kInteger;
        } else {
          f.process_kind = ProcessKind::kOther;
          if (!SkipForm(0)) return Error("malformed :process");
        }
      } else if (key == ":index") {
        if (!ParseInteger(&f.index)) return Error(":index is not an integer");
        f.has_index = true;
      } else if (key == ":value") {
        const char* start = p_;
        f.has_value = true;
        if (!ParseMops(&f.value_error)) {
          if (f.value_error.empty()) f.value_error = "malformed :value";
          p_ = start;
          if (!SkipForm(0)) return Error(f.value_error);
        }
      } else if (!SkipForm(0)) {
        return Error(absl::StrCat("malformed value for key ", Sv(key)));
      }
    }
    return AddOp(f);
  }

  uint32_t CopyScratchMops() {
    const uint32_t base = static_cast<uint32_t>(out_.elements.size());
    out_.elements.insert(out_.elements.end(), scratch_elements_.begin(), scratch_elements_.end());
    const uint32_t begin = static_cast<uint32_t>(out_.mops.size());
    for (TxnMop m : scratch_mops_) {
      if (m.form == ReadForm::kList) m.list_begin += base;
      out_.mops.push_back(m);
    }
    return begin;
  }

  absl::Status AddOp(const OpFields& f) {
    if (f.process_kind == ProcessKind::kOther) return absl::OkStatus();  // e.g. :nemesis
    if (!f.has_type) return Error("the operation has no :type");
    if (!f.has_value) return Error("the operation has no :value");
    if (!f.value_error.empty()) return Error(f.value_error);
    if (position_ == kNoPosition - 1) return Error("too many operations");
    if (out_.elements.size() + scratch_elements_.size() >= kNoPosition ||
        out_.mops.size() + scratch_mops_.size() >= kNoPosition) {
      return Error("too many micro-operations");
    }
    const uint32_t position = position_++;
    const int64_t process = f.process_kind == ProcessKind::kInteger ? f.process : kNoProcess;
    const size_t offset = static_cast<size_t>(op_start_ - begin_);
    if (f.type == OpType::kInvoke) {
      auto [it, inserted] = in_flight_.try_emplace(process);
      if (!inserted) {
        const size_t line =
            1 + static_cast<size_t>(std::count(begin_, begin_ + it->second.offset, '\n'));
        return Error(absl::StrCat(
            "process ", process == kNoProcess ? "(none)" : absl::StrCat(process),
            " invoked an operation while its invocation at line ", line, " was still in flight"));
      }
      if (out_.txns.size() >= (uint32_t{1} << 31)) return Error("too many transactions");
      Txn t{.process = process,
            .index = f.has_index ? f.index : static_cast<int64_t>(position),
            .invoke_position = position};
      t.mop_begin = CopyScratchMops();
      t.mop_end = static_cast<uint32_t>(out_.mops.size());
      it->second = InFlight{.txn = static_cast<uint32_t>(out_.txns.size()), .offset = offset};
      out_.txns.push_back(t);
      return absl::OkStatus();
    }
    auto it = in_flight_.find(process);
    if (it == in_flight_.end()) {
      return Error(absl::StrCat("a completion for process ",
                                process == kNoProcess ? "(none)" : absl::StrCat(process),
                                " that has no invocation in flight"));
    }
    Txn& t = out_.txns[it->second.txn];
    in_flight_.erase(it);
    t.complete_index = f.has_index ? f.index : static_cast<int64_t>(position);
    if (f.type == OpType::kFail) {
      t.status = TxnStatus::kFail;
    } else if (f.type == OpType::kInfo) {
      t.status = TxnStatus::kInfo;
    } else {
      t.status = TxnStatus::kOk;
      t.complete_position = position;
      // The completion carries what the reads returned; it replaces the invocation's mops,
      // in place when the shapes agree.
      if (scratch_mops_.size() == t.mop_end - t.mop_begin) {
        const uint32_t base = static_cast<uint32_t>(out_.elements.size());
        out_.elements.insert(out_.elements.end(), scratch_elements_.begin(),
                             scratch_elements_.end());
        for (size_t i = 0; i < scratch_mops_.size(); ++i) {
          TxnMop m = scratch_mops_[i];
          if (m.form == ReadForm::kList) m.list_begin += base;
          out_.mops[t.mop_begin + i] = m;
        }
      } else {
        t.mop_begin = CopyScratchMops();
        t.mop_end = static_cast<uint32_t>(out_.mops.size());
      }
    }
    return absl::OkStatus();
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  const char* op_start_ = nullptr;
  uint32_t position_ = 0;
  uint32_t list_begin_ = 0;
  std::vector<TxnMop> scratch_mops_;
  std::vector<int64_t> scratch_elements_;
  absl::flat_hash_map<int64_t, InFlight> in_flight_;  // lookup-only
  TxnHistory out_;
};

}  // namespace

absl::StatusOr<TxnHistory> ParseEdnHistory(std::string_view text) {
  EdnParser parser(text);
  return parser.Parse();
}

}  // namespace hindcast::properties
