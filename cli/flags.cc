#include "cli/flags.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "sim/absl_compat.h"

namespace hindcast::cli {

int UsageError(const std::string& message) {
  std::fprintf(stderr, "hindcast: %s\n", message.c_str());
  return 2;
}

void PrintHelp(const CommandSpec& spec) {
  std::printf("usage: %s\n\n%s\n\nflags:\n", spec.usage, spec.description);
  for (const std::string& name : spec.flags) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    std::string shown = name;
    std::replace(shown.begin(), shown.end(), '_', '-');
    std::printf("  --%s (default: %s)\n      %s\n", shown.c_str(),
                std::string(flag->DefaultValue()).c_str(), std::string(flag->Help()).c_str());
  }
}

bool ParseArgs(int argc, char** argv, int first, const CommandSpec& spec, ParsedArgs* out) {
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "help") {
      PrintHelp(spec);
      out->help = true;
      return true;
    }
    if (arg.size() < 2 || arg.substr(0, 2) != "--") {
      out->positional.emplace_back(arg);
      continue;
    }
    arg.remove_prefix(2);
    const size_t eq = arg.find('=');
    std::string name(arg.substr(0, eq));
    std::replace(name.begin(), name.end(), '-', '_');
    const bool has_value = eq != std::string_view::npos;
    std::string value = has_value ? std::string(arg.substr(eq + 1)) : std::string();

    bool allowed = std::find(spec.flags.begin(), spec.flags.end(), name) != spec.flags.end();
    bool negated = false;
    if (!allowed && !has_value && name.rfind("no", 0) == 0) {
      const std::string positive = name.substr(2);
      if (std::find(spec.flags.begin(), spec.flags.end(), positive) != spec.flags.end()) {
        name = positive;
        allowed = negated = true;
      }
    }
    absl::CommandLineFlag* flag = allowed ? absl::FindCommandLineFlag(name) : nullptr;
    if (flag == nullptr) {
      UsageError(std::string("unknown flag --") + std::string(arg.substr(0, eq)) + " for '" +
                 spec.name + "' (see hindcast " + spec.name + " --help)");
      return false;
    }
    if (!has_value) {
      if (!flag->IsOfType<bool>()) {
        UsageError("flag --" + name + " needs a value (--" + name + "=...)");
        return false;
      }
      value = negated ? "false" : "true";
    }
    std::string error;
    if (!flag->ParseFrom(Sv(value), &error)) {
      UsageError("bad value for --" + name + ": " + error);
      return false;
    }
  }
  const int n = static_cast<int>(out->positional.size());
  if (n < spec.positional_min || n > spec.positional_max) {
    UsageError(std::string("'") + spec.name + "' takes " +
               (spec.positional_max == 0 ? std::string("no arguments")
                                         : std::to_string(spec.positional_min) + " to " +
                                               std::to_string(spec.positional_max) + " arguments") +
               ", got " + std::to_string(n) + (n > 0 ? " (\"" + out->positional[0] + "\")" : ""));
    return false;
  }
  return true;
}

}  // namespace hindcast::cli
