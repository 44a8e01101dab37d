// Strict command-line parsing for `hindcast` subcommands over Abseil flags.
//
// Abseil's own parser exits with status 1 on a bad flag; Hindcast promises exit code 2 and a
// one-line error for every usage mistake, and each subcommand accepts only its own flags.
// So the parser here looks each `--name=value` up in Abseil's registry, checks that the
// subcommand allows it, and parses the value with the flag's own parser.
//
//   ParsedArgs args;
//   if (!ParseArgs(argc, argv, kRunSpec, &args)) return 2;  // error already printed
#ifndef HINDCAST_CLI_FLAGS_H_
#define HINDCAST_CLI_FLAGS_H_

#include <string>
#include <vector>

namespace hindcast::cli {

struct CommandSpec {
  const char* name;
  const char* usage;        // e.g. "hindcast run [flags]"
  const char* description;  // One paragraph.
  std::vector<std::string> flags;
  int positional_min = 0;
  int positional_max = 0;
};

struct ParsedArgs {
  std::vector<std::string> positional;
  bool help = false;
};

// Parses argv[first..argc). Prints a one-line error to stderr and returns false on any
// usage mistake; prints the subcommand's help and sets `help` on --help.
bool ParseArgs(int argc, char** argv, int first, const CommandSpec& spec, ParsedArgs* out);
void PrintHelp(const CommandSpec& spec);
// Prints "hindcast: <message>" to stderr and returns 2, the usage-error exit code.
int UsageError(const std::string& message);

}  // namespace hindcast::cli

#endif  // HINDCAST_CLI_FLAGS_H_
