// hindcast: run, sweep and replay deterministic simulations (see README.md).
#include <cstdio>
#include <string_view>

#include "cli/commands.h"

namespace {

void PrintUsage(FILE* out) {
  std::fprintf(
      out,
      "usage: hindcast <command> [flags]   (hindcast <command> --help for details)\n\n"
      "commands:\n"
      "  run      run one scenario; ends with fingerprint=<16 hex> verdict=<ok|violation>\n"
      "  sweep    run many seeds (--seeds=A..B --shard=K/N --jobs=N); one JSON line per "
      "failing seed\n"
      "  replay   replay a seed file and check it reproduces its fingerprint and verdict\n"
      "  shrink   shrink a failing scenario (faults, transactions, clients) to a seed file\n"
      "  check    check a Jepsen/Elle history file (EDN) for isolation anomalies\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  const std::string_view command = argv[1];
  if (command == "run") return hindcast::cli::RunCommand(argc, argv);
  if (command == "sweep") return hindcast::cli::SweepCommand(argc, argv);
  if (command == "replay") return hindcast::cli::ReplayCommand(argc, argv);
  if (command == "shrink") return hindcast::cli::ShrinkCommand(argc, argv);
  if (command == "check") return hindcast::cli::CheckCommand(argc, argv);
  if (command == "--help" || command == "-h" || command == "help") {
    PrintUsage(stdout);
    return 0;
  }
  std::fprintf(stderr, "hindcast: unknown command '%s' (see hindcast --help)\n", argv[1]);
  return 2;
}
