// examples/mnist/experiments.hpp — each experiment as a list of independent runs, and how its
// results are grouped into table rows.
//
// plan(config) lists every run an experiment needs (a RunSpec each, with its own seed) and the
// groups its tables show; nothing in it depends on any run's result. Running the specs — all of
// them here, or any subset in any process — and handing the finished runs to the report stage
// (report.hpp) gives the same numbers: the report only gathers.
//
//   calibration   ε ∈ --eps (default 0, 0.1) × --seeds (default 1): today's default study
//   compare       CE, LS ε 0.05 / 0.1, confidence penalty β 0.1, focal γ 2, each also after
//                 temperature scaling; 5 seeds
//   sweep         ε ∈ {0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3} (or --eps) × 3 seeds
//   distillation  teachers (the study's model) with ε ∈ {0, 0.1}; students 784-128-10 trained on
//                 their soft targets at T ∈ {1, 2, 4}, and on the hard labels alone; 5 seeds
//   label-noise   symmetric noise {0, 0.2, 0.4} × {CE, LS 0.1, LS 0.2, forward correction}; 3 seeds
// --eps-schedule adds one smoothed configuration that follows the schedule to each of them.
// --quick trains on 10,000 images for 1 epoch (2 for distillation) with 2 seeds: the CI variant.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "study.hpp"

namespace study {

// A row of an experiment's tables: one configuration over its seeds, read before or after
// temperature scaling.
struct Group {
  std::string label{};                    // for people: "LS eps 0.1 + TS"
  std::string method{};                   // for metrics.json: ce, ls, ls+ts, confidence-penalty, focal, teacher, ...
  std::vector<std::size_t> runs{};        // indices into Experiment::runs, one per seed
  bool scaled = false;                    // predictions after temperature scaling
  std::optional<std::size_t> baseline{};  // the group it is compared with (paired differences), if any
};

struct Experiment {
  std::string name;
  std::vector<RunSpec> runs;  // independent; a teacher's run comes before its students'
  std::vector<Group> groups;
};

Experiment plan(const Config& config);  // ValueError for an unknown experiment name

// The seeds an experiment uses by default and in --quick, the epochs of --quick, and so on: the
// config with the experiment's defaults applied where the command line left them unset.
struct Given {
  bool epochs = false, seeds = false, eps = false, train_limit = false;
};
Config with_defaults(Config config, const Given& given);

}  // namespace study
