#include "properties/scenario.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/absl_compat.h"

namespace hindcast::properties {
namespace {

// Limits on hand-written scenarios, so a typo cannot ask for a run that never ends.
constexpr uint32_t kClientsMax = 64;
constexpr uint32_t kOpsPerClientMax = 100'000;
constexpr size_t kFaultActionsMax = 10'000;
constexpr int64_t kFaultTimeMaxNs = int64_t{3600} * 1'000'000'000;

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error.empty()) error = absl::StrCat("line ", line + 1, " column ", column + 1, ": ", message);
  }
  std::string error;
};

template <typename M>
absl::StatusOr<M> ParseText(std::string_view text, std::string_view source_name) {
  M message;
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &message)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(source_name), ": malformed textproto: ", errors.error));
  }
  return message;
}

}  // namespace

const std::vector<BugInfo>& RegisterBugs() {
  static const std::vector<BugInfo> kBugs = {
      {"ack_before_replicate", "system=register faults=light",
       "the primary acknowledges a write before it is durable on a majority, so a crash of "
       "the primary loses acknowledged writes (the history stops being linearizable)."},
  };
  return kBugs;
}

absl::StatusOr<sim::FaultPlan> FromProto(const FaultPlanProto& proto, int node_count) {
  if (static_cast<size_t>(proto.actions_size()) > kFaultActionsMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("fault plan has ", proto.actions_size(), " actions; the limit is ",
                     kFaultActionsMax));
  }
  sim::FaultPlan plan;
  for (int i = 0; i < proto.actions_size(); ++i) {
    const FaultActionProto& p = proto.actions(i);
    const std::string where = absl::StrCat("fault action ", i + 1);
    const std::optional<sim::FaultType> type = sim::ParseFaultType(p.type());
    if (!type.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown type \"", p.type(),
                       "\" (crash, restart, partition, block_one_way, heal, clog, swizzle, "
                       "clock_jump, disk_faults)"));
    }
    if (p.at_ns() < 0 || p.at_ns() > kFaultTimeMaxNs || p.duration_ns() < 0 ||
        p.duration_ns() > kFaultTimeMaxNs) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": at_ns and duration_ns must lie in [0, 3600 s]"));
    }
    for (uint32_t n : p.nodes()) {
      if (n >= static_cast<uint32_t>(node_count)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": no node ", n));
      }
    }
    for (uint32_t n : p.others()) {
      if (n >= static_cast<uint32_t>(node_count)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": no node ", n));
      }
    }
    const bool needs_node = *type != sim::FaultType::kHeal;
    const bool needs_other =
        *type == sim::FaultType::kPartition || *type == sim::FaultType::kBlockOneWay;
    if ((needs_node && p.nodes().empty()) || (needs_other && p.others().empty())) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", p.type(), " needs nodes", needs_other ? " and others" : ""));
    }
    if (*type == sim::FaultType::kPartition) {
      for (uint32_t n : p.nodes()) {
        if (std::find(p.others().begin(), p.others().end(), n) != p.others().end()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": node ", n, " is on both sides of the partition"));
        }
      }
    }
    if (*type == sim::FaultType::kBlockOneWay && p.nodes(0) == p.others(0)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": a node cannot block itself"));
    }
    if (p.read_corrupt_ppm() > 1'000'000 || p.write_corrupt_ppm() > 1'000'000 ||
        p.misdirect_ppm() > 1'000'000) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": rates are at most 1000000 ppm"));
    }
    sim::FaultAction a{.at = sim::Duration::Nanos(p.at_ns()),
                       .type = *type,
                       .nodes = {p.nodes().begin(), p.nodes().end()},
                       .others = {p.others().begin(), p.others().end()},
                       .duration = sim::Duration::Nanos(p.duration_ns()),
                       .jump_ns = p.jump_ns(),
                       .disk = {.read_corrupt_ppm = p.read_corrupt_ppm(),
                                .write_corrupt_ppm = p.write_corrupt_ppm(),
                                .misdirect_ppm = p.misdirect_ppm()}};
    plan.actions.push_back(std::move(a));
  }
  std::stable_sort(plan.actions.begin(), plan.actions.end(),
                   [](const sim::FaultAction& x, const sim::FaultAction& y) { return x.at < y.at; });
  return plan;
}

FaultPlanProto ToProto(const sim::FaultPlan& plan) {
  FaultPlanProto proto;
  for (const sim::FaultAction& a : plan.actions) {
    FaultActionProto* p = proto.add_actions();
    p->set_at_ns(a.at.ns());
    p->set_type(std::string(sim::FaultTypeName(a.type)));
    for (sim::NodeId n : a.nodes) p->add_nodes(n);
    for (sim::NodeId n : a.others) p->add_others(n);
    p->set_duration_ns(a.duration.ns());
    p->set_jump_ns(a.jump_ns);
    p->set_read_corrupt_ppm(a.disk.read_corrupt_ppm);
    p->set_write_corrupt_ppm(a.disk.write_corrupt_ppm);
    p->set_misdirect_ppm(a.disk.misdirect_ppm);
  }
  return proto;
}

absl::StatusOr<RegisterScenario> ToRegisterScenario(const Scenario& s) {
  if (!s.system().empty() && s.system() != "register") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown system \"", s.system(), "\" (this build has: register)"));
  }
  RegisterScenario r;
  r.seed = s.seed();
  const std::string faults = s.faults().empty() ? "light" : s.faults();
  const std::optional<sim::FaultProfile> profile = sim::ParseFaultProfile(faults);
  if (!profile.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown fault profile \"", faults, "\" (none, light, heavy)"));
  }
  r.faults = *profile;
  if (s.bug() == "ack_before_replicate") {
    r.bug_ack_before_replicate = true;
  } else if (!s.bug().empty() && s.bug() != "none") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown bug \"", s.bug(), "\" (see --bug=list)"));
  }
  if (s.clients() > kClientsMax || s.ops_per_client() > kOpsPerClientMax) {
    return absl::InvalidArgumentError(absl::StrCat("clients must be at most ", kClientsMax,
                                                   " and ops per client at most ",
                                                   kOpsPerClientMax));
  }
  if (s.clients() != 0) r.clients = static_cast<int>(s.clients());
  if (s.ops_per_client() != 0) r.ops_per_client = static_cast<int>(s.ops_per_client());
  if (s.has_plan()) {
    const int node_count = 3 + r.clients;
    absl::StatusOr<sim::FaultPlan> plan = FromProto(s.plan(), node_count);
    if (!plan.ok()) return plan.status();
    r.plan = *std::move(plan);
  }
  return r;
}

Scenario ToProto(const RegisterScenario& r) {
  Scenario s;
  s.set_system("register");
  s.set_seed(r.seed);
  s.set_faults(std::string(sim::FaultProfileName(r.faults)));
  s.set_bug(r.bug_ack_before_replicate ? "ack_before_replicate" : "none");
  s.set_clients(r.clients);
  s.set_ops_per_client(r.ops_per_client);
  if (r.plan.has_value()) {
    *s.mutable_plan() = ToProto(*r.plan);
  }
  return s;
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return buffer.str();
}

absl::StatusOr<SeedCase> ParseSeedCase(std::string_view text, std::string_view source_name) {
  absl::StatusOr<SeedCase> c = ParseText<SeedCase>(text, source_name);
  if (!c.ok()) return c.status();
  if (!c->expected_verdict().empty() && c->expected_verdict() != "ok" &&
      c->expected_verdict() != "violation") {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(source_name), ": expected_verdict must be ok or violation, not \"",
        c->expected_verdict(), "\""));
  }
  if (!c->expected_fingerprint().empty() &&
      (c->expected_fingerprint().size() != 16 ||
       c->expected_fingerprint().find_first_not_of("0123456789abcdef") != std::string::npos)) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(source_name), ": expected_fingerprint must be 16 lowercase hex digits"));
  }
  return c;
}

absl::StatusOr<SeedCase> ReadSeedCaseFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) return text.status();
  return ParseSeedCase(*text, path);
}

absl::StatusOr<FaultPlanProto> ReadFaultPlanFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) return text.status();
  return ParseText<FaultPlanProto>(*text, path);
}

std::string ToTextproto(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::TextFormat::PrintToString(message, &out);
  return out;
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot write"));
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) {
      std::remove(temp.c_str());
      return absl::DataLossError(absl::StrCat(path, ": write failed"));
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot rename into place"));
  }
  return absl::OkStatus();
}

std::string FingerprintHex(uint64_t fingerprint) { return absl::StrFormat("%016x", fingerprint); }

std::string ReplayCommand(const RegisterScenario& s) {
  return absl::StrCat("hindcast run --system=register --faults=",
                      Sv(sim::FaultProfileName(s.faults)),
                      " --bug=", s.bug_ack_before_replicate ? "ack_before_replicate" : "none",
                      " --clients=", s.clients, " --ops=", s.ops_per_client,
                      " --seed=", s.seed);
}

}  // namespace hindcast::properties
