// examples/mnist/run_file.hpp — a finished run written to a file and read back, bit for bit.
//
// What lets the runs of one experiment be executed in several processes (or on several machines)
// and gathered by another: `mnist_smoothing --runs 0,1,2 --save-runs DIR` writes DIR/run-0.json …,
// and `mnist_smoothing --load-runs DIR` takes every run it finds there instead of executing it.
// A file names its run by RunSpec::key(); loading it for another spec is an error. Doubles are
// written with the digits that round-trip, so a loaded run gives the numbers of the executed one.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "study.hpp"

namespace study {

// The run as one line of JSON, and back: `source` names where the text came from, for errors.
std::string run_text(const Run& run);
Run run_from_text(const std::string& text, const RunSpec& spec, const std::string& source);

std::filesystem::path run_file(const std::filesystem::path& dir, std::size_t index);  // DIR/run-<index>.json
void save_run(const Run& run, const std::filesystem::path& path);                     // atomic
// The run in `path`, which must be `spec`'s (IoError naming the file otherwise); nullopt when there is no file.
std::optional<Run> load_run(const std::filesystem::path& path, const RunSpec& spec);

}  // namespace study
