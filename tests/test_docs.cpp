// tests/test_docs.cpp — the documentation quotes the code as it is.
//
// A ```cpp block of a doc page whose first line names a source file ("// losses/cross_entropy.cpp,
// reference_row()") quotes that file: each of its other lines, leading spaces aside, must be a line
// of the file. A quote left behind by a change to the code fails here.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace test_docs {

namespace {

std::string trimmed(const std::string& line) {
  const auto first = line.find_first_not_of(' ');
  return first == std::string::npos ? "" : line.substr(first);
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open ", path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct Quote {
  std::string file;                // the source file the block names
  std::vector<std::string> lines;  // its other non-empty lines
};

// The ```cpp blocks of a markdown page whose first line is "// <file>.cpp…".
std::vector<Quote> quotes_in(const std::string& page) {
  std::vector<std::vector<std::string>> blocks;
  bool in_block = false;
  for (const std::string& line : lines_of(page)) {
    if (line == "```cpp" || (in_block && line == "```")) {
      in_block = !in_block;
      if (in_block) blocks.emplace_back();
    } else if (in_block) {
      blocks.back().push_back(line);
    }
  }
  std::vector<Quote> quotes;
  for (const auto& block : blocks) {
    if (block.empty() || !block[0].starts_with("// ") || block[0].find(".cpp") == std::string::npos) continue;
    Quote q{block[0].substr(3, block[0].find(".cpp") + 1), {}};
    for (std::size_t i = 1; i < block.size(); ++i)
      if (!trimmed(block[i]).empty()) q.lines.push_back(block[i]);
    quotes.push_back(q);
  }
  return quotes;
}

}  // namespace

TEST_CASE("docs: every quoted line of docs/label-smoothing.md stands in the file it names") {
  const std::vector<Quote> quotes = quotes_in(HUMBLE_SOURCE_DIR "/docs/label-smoothing.md");
  CHECK(quotes.size() >= 4);  // q′, the max-shifted lse, the loss, the gradient
  for (const Quote& q : quotes) {
    CAPTURE(q.file);
    std::set<std::string> source;
    for (const std::string& line : lines_of(HUMBLE_SOURCE_DIR "/" + q.file)) source.insert(trimmed(line));
    for (const std::string& line : q.lines)
      CHECK_MESSAGE(source.count(trimmed(line)) == 1, "not in ", q.file, ": ", line);
  }
}

}  // namespace test_docs
