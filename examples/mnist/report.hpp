// examples/mnist/report.hpp — writing the study's results. `groups` holds, per ε, the runs of
// every seed; tables and metrics.json show their mean (± std with several seeds), the pictures
// show the first seed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "study.hpp"

namespace study {

std::string format_table(const std::vector<std::vector<Run>>& groups);  // metrics side by side, one column per ε
void write_metrics_json(const Config& config, const std::vector<std::vector<Run>>& groups,
                        const std::filesystem::path& path);
void write_history_csv(const std::vector<std::vector<Run>>& groups, const std::filesystem::path& path);
// Writes the SVG files into `dir` and returns their names.
std::vector<std::string> write_pictures(const Config& config, const std::vector<std::vector<Run>>& groups,
                                        const std::filesystem::path& dir);
// OUT/profile.json for --profile: the runs' profiles together, with their mean epoch time.
void write_profile_json(const std::vector<std::vector<Run>>& groups, const std::filesystem::path& path);
void write_report_html(const Config& config, const std::vector<std::string>& pictures, const std::string& table,
                       const std::filesystem::path& path);

}  // namespace study
