// examples/mnist/cli.hpp — mnist_smoothing's command line: every flag checked before anything runs.
//
// parse_command_line() turns argv into a Config, or into the text to print and the exit status:
// the usage for --help (status 0), or what is wrong with the first bad argument (status 1 or
// more), e.g. "--lr: expected a finite number > 0, got 'nan'". Numbers are read whole and
// strictly (no "1e400", "nan", "-1" for a count, "0,,0.1" or trailing characters), so nothing is
// taken silently and nothing fails later, after set-up. It writes nothing and never exits: the
// fuzz target tests/fuzz/fuzz_study_args.cpp calls it with arbitrary arguments.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "experiments.hpp"
#include "study.hpp"

namespace study {

struct CommandLine {
  std::optional<Config> config;  // set when the arguments are good
  Given given;                   // the flags given, for with_defaults()
  bool list_runs = false;        // --list-runs: print the plan and exit
  bool parallel_given = false;   // --parallel was given (under mpirun the default is data)
  int exit_status = 0;
  std::string message;  // the usage (--help) or the error, with a hint to run --help
};

CommandLine parse_command_line(int argc, const char* const* argv);

const std::vector<std::string>& experiment_names();  // what --experiment takes (plan() knows each)

}  // namespace study
