// The `hindcast` subcommands. Each returns the process exit code: 0 when every property
// held, 1 on a violation (or a replay mismatch), 2 on bad usage or bad input.
#ifndef HINDCAST_CLI_COMMANDS_H_
#define HINDCAST_CLI_COMMANDS_H_

namespace hindcast::cli {

int RunCommand(int argc, char** argv);
int ReplayCommand(int argc, char** argv);
int SweepCommand(int argc, char** argv);
int ShrinkCommand(int argc, char** argv);
int CheckCommand(int argc, char** argv);

}  // namespace hindcast::cli

#endif  // HINDCAST_CLI_COMMANDS_H_
