#include "properties/scenario.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "nodes/register/replica.h"
#include "sim/absl_compat.h"
#include "sim/assert.h"
#include "sim/random.h"

namespace hindcast::properties {
namespace {

// Limits on hand-written scenarios, so a typo cannot ask for a run that never ends.
constexpr uint32_t kClientsMax = 64;
constexpr uint32_t kOpsPerClientMax = 100'000;
constexpr uint32_t kAccountsMax = 4096;
constexpr uint32_t kLogReplicasMax = 7;
constexpr size_t kFaultActionsMax = 10'000;
constexpr int64_t kFaultTimeMaxNs = int64_t{3600} * 1'000'000'000;

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error.empty())
      error = absl::StrCat("line ", line + 1, " column ", column + 1, ": ", message);
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

const std::vector<BugInfo>& AllBugs() {
  static const std::vector<BugInfo> kBugs = {
      {"ack_before_replicate", "system=register faults=light",
       "the primary acknowledges a write before it is durable on a majority, so a crash of "
       "the primary loses acknowledged writes (the history stops being linearizable)."},
      {"rc_lost_update", "system=cluster workload=list-append isolation=rc mode=pessimistic",
       "read committed does not refresh a statement's snapshot after waiting for a row lock, "
       "so an update overwrites a commit it never saw (lost update)."},
      {"lock_forget_on_restart",
       "system=cluster workload=bank isolation=rc mode=pessimistic faults=heavy",
       "the lock service keeps its old bind after a restart, so the TN cannot reject commits "
       "whose locks were forgotten (lost update)."},
      {"workspace_spill_lost", "system=cluster workload=list-append spill=16",
       "a spilled part of a transaction's workspace is forgotten: invisible to the "
       "transaction and missing from its commit (internal anomaly, broken invariant)."},
      {"read_before_watermark", "system=cluster workload=profile isolation=si",
       "reads do not wait for the LogTail apply watermark to reach the snapshot (stale "
       "reads: a client misses its own update; with list-append, lost updates)."},
      {"hlc_no_update_on_receive", "system=cluster workload=profile",
       "clocks ignore the timestamps of received messages, so a snapshot can fall below a "
       "commit the session already saw (causal reverse: a client misses its own update)."},
      {"ack_before_quorum", "system=cluster workload=register faults=heavy",
       "the log service acknowledges an append before a quorum has synced it, so a crash "
       "loses committed transactions (durability)."},
      {"inventory_check_then_update", "system=cluster workload=inventory",
       "the application checks the stock in one transaction and takes it in another, so two "
       "clients both take the last units (oversold inventory)."},
  };
  return kBugs;
}

absl::StatusOr<sim::FaultPlan> FromProto(const FaultPlanProto& proto, int servers, int node_count) {
  if (static_cast<size_t>(proto.actions_size()) > kFaultActionsMax) {
    return absl::InvalidArgumentError(absl::StrCat("fault plan has ", proto.actions_size(),
                                                   " actions; the limit is ", kFaultActionsMax));
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
    if ((*type == sim::FaultType::kCrash || *type == sim::FaultType::kRestart) &&
        p.nodes(0) >= static_cast<uint32_t>(servers)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": node ", p.nodes(0),
                                                     " is a client; only servers (nodes 0..",
                                                     servers - 1, ") crash and restart"));
    }
    if (*type == sim::FaultType::kSwizzle) {
      for (int j = 0; j < p.nodes_size(); ++j) {
        if (std::find(p.nodes().begin(), p.nodes().begin() + j, p.nodes(j)) !=
            p.nodes().begin() + j) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": swizzle names node ", p.nodes(j), " twice"));
        }
      }
      // Its clogs last up to twice `duration` (sim::FaultExtent), within the network's limit.
      if (p.duration_ns() > kFaultTimeMaxNs / 2) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": a swizzle's duration_ns must be at most 1800 s"));
      }
    }
    if (p.jump_ns() < -kFaultTimeMaxNs || p.jump_ns() > kFaultTimeMaxNs) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": jump_ns must lie in [-3600 s, 3600 s]"));
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
  sim::SortByTime(&plan.actions);
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
        absl::StrCat("not a register scenario: \"", s.system(), "\""));
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
        absl::StrCat("unknown bug \"", s.bug(), "\" for system=register (see --bug=list)"));
  }
  if (s.clients() > kClientsMax || s.ops_per_client() > kOpsPerClientMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "clients must be at most ", kClientsMax, " and ops per client at most ", kOpsPerClientMax));
  }
  if (s.clients() != 0) r.clients = static_cast<int>(s.clients());
  if (s.ops_per_client() != 0) r.ops_per_client = static_cast<int>(s.ops_per_client());
  if (s.has_plan()) {
    absl::StatusOr<sim::FaultPlan> plan =
        FromProto(s.plan(), nodes::reg::kReplicas, nodes::reg::kReplicas + r.clients);
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

Scenario ToProto(const ClusterScenario& c) {
  Scenario s;
  s.set_system("cluster");
  s.set_seed(c.seed);
  s.set_faults(std::string(sim::FaultProfileName(c.faults)));
  const nodes::txn::ClusterBugs& b = c.bugs;
  s.set_bug(b.cn.rc_lost_update                 ? "rc_lost_update"
            : b.cn.workspace_spill_lost         ? "workspace_spill_lost"
            : b.cn.read_before_watermark        ? "read_before_watermark"
            : b.lock_forget_on_restart          ? "lock_forget_on_restart"
            : b.hlc_no_update_on_receive        ? "hlc_no_update_on_receive"
            : b.ack_before_quorum               ? "ack_before_quorum"
            : c.bug_inventory_check_then_update ? "inventory_check_then_update"
                                                : "none");
  s.set_workload(c.workload);
  s.set_isolation(c.isolation == nodes::txn::Isolation::kSnapshot ? "si" : "rc");
  s.set_mode(c.mode == nodes::txn::Mode::kPessimistic ? "pessimistic" : "optimistic");
  s.set_clients(static_cast<uint32_t>(c.clients));
  s.set_cns(static_cast<uint32_t>(c.cns));
  s.set_log_replicas(static_cast<uint32_t>(c.log_replicas));
  s.set_txns_per_client(static_cast<uint32_t>(c.txns_per_client));
  s.set_spill_threshold_bytes(c.spill_threshold_bytes);
  if (c.workload == "bank") s.set_accounts(static_cast<uint32_t>(c.accounts));
  s.set_late_copy_ppm(c.late_copy_ppm);
  s.set_random_knobs(c.random_knobs);
  if (c.plan.has_value()) *s.mutable_plan() = ToProto(*c.plan);
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
      c->expected_verdict() != "violation" && c->expected_verdict() != "unknown") {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(source_name), ": expected_verdict must be ok, violation or unknown, not \"",
                     c->expected_verdict(), "\""));
  }
  if (!c->expected_fingerprint().empty() &&
      (c->expected_fingerprint().size() != 16 ||
       c->expected_fingerprint().find_first_not_of("0123456789abcdef") != std::string::npos)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(source_name), ": expected_fingerprint must be 16 lowercase hex digits"));
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

absl::StatusOr<ClusterScenario> ToClusterScenario(const Scenario& s) {
  if (s.system() != "cluster") {
    return absl::InvalidArgumentError(absl::StrCat("not a cluster scenario: \"", s.system(), "\""));
  }
  ClusterScenario c;
  c.seed = s.seed();
  const std::string faults = s.faults().empty() ? "light" : s.faults();
  const std::optional<sim::FaultProfile> profile = sim::ParseFaultProfile(faults);
  if (!profile.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown fault profile \"", faults, "\" (none, light, heavy)"));
  }
  c.faults = *profile;
  c.workload = s.workload().empty() ? "bank" : s.workload();
  if (!IsClusterWorkload(c.workload)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown workload \"", c.workload, "\" (",
                     absl::StrJoin(ClusterWorkloadNames(), ", ",
                                   [](std::string* out, std::string_view n) { out->append(n); }),
                     ")"));
  }
  if (s.isolation().empty() || s.isolation() == "si") {
    c.isolation = nodes::txn::Isolation::kSnapshot;
  } else if (s.isolation() == "rc") {
    c.isolation = nodes::txn::Isolation::kReadCommitted;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown isolation \"", s.isolation(), "\" (si, rc)"));
  }
  if (s.mode().empty() || s.mode() == "pessimistic") {
    c.mode = nodes::txn::Mode::kPessimistic;
  } else if (s.mode() == "optimistic") {
    c.mode = nodes::txn::Mode::kOptimistic;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown mode \"", s.mode(), "\" (pessimistic, optimistic)"));
  }
  const std::string& bug = s.bug();
  nodes::txn::ClusterBugs& b = c.bugs;
  if (bug == "rc_lost_update") {
    b.cn.rc_lost_update = true;
  } else if (bug == "workspace_spill_lost") {
    b.cn.workspace_spill_lost = true;
  } else if (bug == "read_before_watermark") {
    b.cn.read_before_watermark = true;
  } else if (bug == "lock_forget_on_restart") {
    b.lock_forget_on_restart = true;
  } else if (bug == "hlc_no_update_on_receive") {
    b.hlc_no_update_on_receive = true;
  } else if (bug == "ack_before_quorum") {
    b.ack_before_quorum = true;
  } else if (bug == "inventory_check_then_update") {
    if (c.workload != "inventory") {
      return absl::InvalidArgumentError(
          "bug inventory_check_then_update is in the inventory workload's client: use "
          "--workload=inventory");
    }
    c.bug_inventory_check_then_update = true;
  } else if (!bug.empty() && bug != "none") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown bug \"", bug, "\" for system=cluster (see --bug=list)"));
  }
  if (s.clients() > kClientsMax || s.cns() > kClientsMax ||
      s.txns_per_client() > kOpsPerClientMax) {
    return absl::InvalidArgumentError(absl::StrCat("clients and cns must be at most ", kClientsMax,
                                                   ", txns per client at most ", kOpsPerClientMax));
  }
  if (s.clients() != 0) c.clients = static_cast<int>(s.clients());
  if (s.cns() != 0) c.cns = static_cast<int>(s.cns());
  if (s.txns_per_client() != 0) c.txns_per_client = static_cast<int>(s.txns_per_client());
  if (s.spill_threshold_bytes() != 0) c.spill_threshold_bytes = s.spill_threshold_bytes();
  if (s.accounts() != 0) {
    if (c.workload != "bank") {
      return absl::InvalidArgumentError("accounts applies to the bank workload only");
    }
    if (s.accounts() < 2 || s.accounts() > kAccountsMax) {
      return absl::InvalidArgumentError(
          absl::StrCat("accounts must be between 2 and ", kAccountsMax));
    }
    c.accounts = static_cast<int>(s.accounts());
  }
  if (s.log_replicas() != 0) {
    if (s.log_replicas() % 2 == 0 || s.log_replicas() > kLogReplicasMax) {
      return absl::InvalidArgumentError(
          absl::StrCat("log replicas must be odd and at most ", kLogReplicasMax));
    }
    c.log_replicas = static_cast<int>(s.log_replicas());
  }
  if (s.late_copy_ppm() > sim::kPartsPerMillion) {
    return absl::InvalidArgumentError("late copies are parts per million, at most 1000000");
  }
  c.late_copy_ppm = s.late_copy_ppm();
  c.random_knobs = s.random_knobs();
  if (s.has_plan()) {
    const int servers = static_cast<int>(
        nodes::txn::ClusterLayout{.log_replicas = c.log_replicas}.first_cn() + c.cns);
    absl::StatusOr<sim::FaultPlan> plan = FromProto(s.plan(), servers, servers + c.clients);
    if (!plan.ok()) return plan.status();
    c.plan = *std::move(plan);
  }
  return c;
}

absl::Status ValidateScenario(const Scenario& s) {
  if (s.system().empty() || s.system() == "register") return ToRegisterScenario(s).status();
  if (s.system() == "cluster") return ToClusterScenario(s).status();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown system \"", s.system(), "\" (register, cluster)"));
}

RunSummary RunScenario(const Scenario& s, const RunOptions& options) {
  RunSummary out;
  if (s.system() == "cluster") {
    absl::StatusOr<ClusterScenario> c = ToClusterScenario(s);
    HC_ASSERT_MSG(c.ok(), "run an invalid scenario");
    const ClusterReport r = RunCluster(*c, options);
    out = {.seed = r.seed,
           .fingerprint = r.fingerprint,
           .verdict = r.verdict,
           .failure = r.failure,
           .explanation = r.explanation,
           .outcomes = absl::StrCat(r.committed, " committed, ", r.aborted, " aborted, ", r.unknown,
                                    " unknown"),
           .faults = r.faults,
           .end_time = r.end_time,
           .events = r.events,
           .steps = r.steps,
           .plan = r.plan,
           .anomalies = r.anomalies,
           .info = r.info,
           .knobs = r.knobs};
    return out;
  }
  absl::StatusOr<RegisterScenario> reg = ToRegisterScenario(s);
  HC_ASSERT_MSG(reg.ok(), "run an invalid scenario");
  const RunReport r = RunRegister(*reg, options);
  out = {.seed = r.seed,
         .fingerprint = r.fingerprint,
         .verdict = r.verdict,
         .failure = r.failure,
         .explanation = r.explanation,
         .outcomes = absl::StrCat(r.ops_ok, " ok, ", r.ops_fail, " fail, ", r.ops_info, " info"),
         .faults = r.faults,
         .end_time = r.end_time,
         .events = r.events,
         .steps = r.steps,
         .plan = r.plan};
  return out;
}

std::string DescribeScenario(const Scenario& s) {
  if (s.system() == "cluster") {
    const ClusterScenario c = *ToClusterScenario(s);
    return absl::StrCat(
        "system=cluster workload=", c.workload,
        " isolation=", c.isolation == nodes::txn::Isolation::kSnapshot ? "si" : "rc",
        " mode=", c.mode == nodes::txn::Mode::kPessimistic ? "pessimistic" : "optimistic",
        " faults=", Sv(sim::FaultProfileName(c.faults)),
        " bug=", s.bug().empty() ? "none" : s.bug(), " cns=", c.cns,
        c.log_replicas == 3 ? "" : absl::StrCat(" log-replicas=", c.log_replicas),
        c.late_copy_ppm == 0 ? "" : absl::StrCat(" late-copy-ppm=", c.late_copy_ppm),
        c.random_knobs ? " knobs=random" : "", " clients=", c.clients, " txns=", c.txns_per_client,
        c.workload == "bank" ? absl::StrCat(" accounts=", c.accounts) : "",
        " spill=", c.spill_threshold_bytes, " seed=", c.seed);
  }
  const RegisterScenario r = *ToRegisterScenario(s);
  return absl::StrCat("system=register faults=", Sv(sim::FaultProfileName(r.faults)),
                      " bug=", r.bug_ack_before_replicate ? "ack_before_replicate" : "none",
                      " clients=", r.clients, " ops=", r.ops_per_client, " seed=", r.seed);
}

std::string ReplayCommand(const Scenario& s) {
  if (s.system() != "cluster") return ReplayCommand(*ToRegisterScenario(s));
  std::string out = absl::StrCat("hindcast run");
  for (absl::string_view word : absl::StrSplit(DescribeScenario(s), ' ')) {
    absl::StrAppend(&out, " --", word);
  }
  return out;
}

std::string FingerprintHex(uint64_t fingerprint) { return absl::StrFormat("%016x", fingerprint); }

std::string ReplayCommand(const RegisterScenario& s) {
  return absl::StrCat(
      "hindcast run --system=register --faults=", Sv(sim::FaultProfileName(s.faults)),
      " --bug=", s.bug_ack_before_replicate ? "ack_before_replicate" : "none",
      " --clients=", s.clients, " --ops=", s.ops_per_client, " --seed=", s.seed);
}

}  // namespace hindcast::properties
