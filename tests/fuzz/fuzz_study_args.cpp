// tests/fuzz/fuzz_study_args.cpp — mnist_smoothing's command line (examples/mnist/cli.hpp).
//
// The input is the argument list, items separated by NUL bytes. parse_command_line must return
// (never throw, print or exit): a Config, or a message and a non-zero status (0 only for --help).
// A Config must hold nothing out of range, and every number it took must be the decimal the
// argument spells (read here independently with std::from_chars): "--epochs 010" is 10, not 8.
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "../../examples/mnist/cli.hpp"
#include "fuzz_input.hpp"

namespace {

using humble::fuzz::expect;

// The value given to `flag` ("--flag V" or "--flag=V"), the last one when repeated.
std::optional<std::string> value_of(const std::vector<std::string>& args, const std::string& flag) {
  std::optional<std::string> value;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == flag && i + 1 < args.size()) value = args[i + 1];
    if (args[i].starts_with(flag + "=")) value = args[i].substr(flag.size() + 1);
  }
  return value;
}

template <class T>
void expect_decimal(const std::vector<std::string>& args, const std::string& flag, T taken) {
  const std::optional<std::string> text = value_of(args, flag);
  if (!text) return;
  T value{};
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  expect(error == std::errc() && end == text->data() + text->size() && value == taken,
         flag + " '" + *text + "' was taken as " + std::to_string(taken));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::vector<std::string> args{"mnist_smoothing"};
  std::string current;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(current);
      current.clear();
    } else {
      current += static_cast<char>(data[i]);
    }
  }
  if (!current.empty()) args.push_back(current);
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());

  const study::CommandLine result = study::parse_command_line(static_cast<int>(argv.size()), argv.data());
  if (!result.config) {
    expect(!result.message.empty(), "no config and no message");
    return 0;
  }
  const study::Config& c = *result.config;
  expect(result.exit_status == 0, "a config with a non-zero status");
  expect(c.epochs >= 1 && c.epochs <= 1000 && c.batch_size >= 1 && c.batch_size <= 60000,
         "epochs or batch size out of range");
  expect(c.seeds >= 1 && c.seeds <= 100 && c.threads >= 1 && c.threads <= 256 && c.train_limit >= 0,
         "a count out of range");
  expect(std::isfinite(c.lr) && c.lr > 0, "an lr that is not finite and > 0");
  expect(!c.eps.empty(), "no eps");
  for (double eps : c.eps) expect(std::isfinite(eps) && eps >= 0 && eps <= 1, "an eps outside [0, 1]");
  expect(c.seed <= UINT64_MAX - static_cast<uint64_t>(c.seeds - 1), "seeds that pass 2^64 - 1");
  expect(!c.out.empty(), "an empty --out");
  expect(c.bootstrap_resamples >= 1000 && c.bootstrap_resamples <= 100000, "--bootstrap out of range");
  for (int run : c.only_runs) expect(run >= 0, "a negative run index");
  expect_decimal(args, "--epochs", c.epochs);
  expect_decimal(args, "--batch-size", c.batch_size);
  expect_decimal(args, "--seed", c.seed);
  expect_decimal(args, "--seeds", c.seeds);
  expect_decimal(args, "--threads", c.threads);
  expect_decimal(args, "--train-limit", c.train_limit);
  expect_decimal(args, "--bootstrap", c.bootstrap_resamples);
  expect_decimal(args, "--lr", c.lr);
  return 0;
}
