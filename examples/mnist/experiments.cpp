// examples/mnist/experiments.cpp — the runs and groups of every experiment (see experiments.hpp).
#include "experiments.hpp"

#include <map>

namespace study {
namespace {

// Builds an experiment: each configuration is run once per seed and becomes a group.
class Planner {
 public:
  explicit Planner(const Config& config) : config_(config) {
    experiment_.name = config.experiment;
    training_ = {.model = config.model,
                 .epochs = config.epochs,
                 .batch_size = config.batch_size,
                 .optimizer = config.optimizer,
                 .lr = config.lr,
                 .reference_loss = config.reference_loss,
                 .profile = config.profile};
  }
  const Training& training() const { return training_; }

  // One run per seed of `base` (its seed field set to seed, seed + 1, ...); returns the group.
  std::size_t add(const std::string& label, const std::string& method, const RunSpec& base) {
    Group group{.label = label, .method = method};
    for (int k = 0; k < config_.seeds; ++k) {
      RunSpec spec = base;
      spec.seed = config_.seed + static_cast<uint64_t>(k);
      if (spec.teacher) {  // a student learns from the teacher of its own seed
        auto teacher = std::make_shared<RunSpec>(*spec.teacher);
        teacher->seed = spec.seed;
        spec.teacher = teacher;
      }
      group.runs.push_back(experiment_.runs.size());
      experiment_.runs.push_back(spec);
    }
    experiment_.groups.push_back(group);
    return experiment_.groups.size() - 1;
  }
  // The same runs read after temperature scaling.
  std::size_t add_scaled(std::size_t group, std::optional<std::size_t> baseline) {
    Group scaled = experiment_.groups[group];
    scaled.label += " + TS";
    scaled.method += "+ts";
    scaled.scaled = true;
    scaled.baseline = baseline;
    experiment_.groups.push_back(scaled);
    return experiment_.groups.size() - 1;
  }
  void compare(std::size_t group, std::size_t baseline) { experiment_.groups[group].baseline = baseline; }
  std::size_t groups() const { return experiment_.groups.size(); }

  RunSpec smoothed(double eps) const { return {.training = training_, .loss = "ce", .eps = eps}; }
  RunSpec scheduled() const { return {.training = training_, .loss = "ce", .eps_schedule = config_.eps_schedule}; }
  Experiment take() { return std::move(experiment_); }

 private:
  const Config& config_;
  Training training_;
  Experiment experiment_;
};

std::string eps_label(double eps) { return "eps " + shortest_text(eps); }
std::string smoothing_method(double eps) { return eps > 0 ? "ls" : "ce"; }

// One configuration per ε (and the schedule), every other one compared with ε = 0: the
// calibration study with `loss`, and the sweep with cross-entropy.
Experiment smoothing_grid(const Config& config, const std::string& loss) {
  Planner p(config);
  std::optional<std::size_t> unsmoothed;
  for (const double eps : config.eps) {
    RunSpec spec = p.smoothed(eps);
    spec.loss = loss;
    const std::size_t g = p.add(eps_label(eps), loss == "ce" ? smoothing_method(eps) : loss, spec);
    if (eps == 0.0 && !unsmoothed) unsmoothed = g;
  }
  if (!config.eps_schedule.empty()) p.add("eps " + config.eps_schedule, "ls", p.scheduled());
  if (unsmoothed)
    for (std::size_t g = 0; g < p.groups(); ++g)
      if (g != *unsmoothed) p.compare(g, *unsmoothed);
  return p.take();
}

Experiment compare(const Config& config) {
  Planner p(config);
  const std::size_t ce = p.add("CE", "ce", p.smoothed(0.0));
  const std::size_t ce_ts = p.add_scaled(ce, ce);
  std::vector<std::size_t> trained;
  for (const double eps : {0.05, 0.1}) trained.push_back(p.add("LS eps " + shortest_text(eps), "ls", p.smoothed(eps)));
  if (!config.eps_schedule.empty()) trained.push_back(p.add("LS " + config.eps_schedule, "ls", p.scheduled()));
  RunSpec penalty = p.smoothed(0.0), focal = p.smoothed(0.0);
  penalty.loss = "confidence-penalty";
  focal.loss = "focal";
  trained.push_back(p.add("confidence penalty beta 0.1", "confidence-penalty", penalty));
  trained.push_back(p.add("focal gamma 2", "focal", focal));
  // Each method against CE as trained; after scaling, against CE after scaling: the fair pairs.
  for (const std::size_t g : trained) {
    p.compare(g, ce);
    p.add_scaled(g, ce_ts);
  }
  return p.take();
}

Experiment distillation(const Config& config) {
  Planner p(config);
  std::vector<std::pair<std::string, RunSpec>> teachers = {{"0", p.smoothed(0.0)}, {"0.1", p.smoothed(0.1)}};
  if (!config.eps_schedule.empty()) teachers.push_back({config.eps_schedule, p.scheduled()});
  for (const auto& [name, spec] : teachers) p.add("teacher eps " + name, "teacher", spec);

  RunSpec hard{.training = p.training(), .loss = "ce"};
  hard.training.model = "student";
  const std::size_t baseline = p.add("student, hard labels", "student-hard", hard);
  std::map<double, std::size_t> unsmoothed_teacher;  // T → the group of students of the ε = 0 teacher
  for (const double temperature : {1.0, 2.0, 4.0}) {
    for (const auto& [name, spec] : teachers) {
      RunSpec student = hard;
      student.loss = "distillation";
      student.teacher = std::make_shared<RunSpec>(spec);
      student.distill_temperature = temperature;
      const std::size_t g =
          p.add("student of teacher eps " + name + ", T " + shortest_text(temperature), "student", student);
      // Students of the unsmoothed teacher against hard labels; of a smoothed teacher, against
      // the unsmoothed teacher's students at the same T (Müller et al.'s comparison).
      if (name == "0") {
        unsmoothed_teacher[temperature] = g;
        p.compare(g, baseline);
      } else {
        p.compare(g, unsmoothed_teacher.at(temperature));
      }
    }
  }
  return p.take();
}

Experiment label_noise(const Config& config) {
  Planner p(config);
  for (const double rate : {0.0, 0.2, 0.4}) {
    const std::string at = ", noise " + shortest_text(rate);
    RunSpec ce = p.smoothed(0.0);
    ce.label_noise = rate;
    const std::size_t baseline = p.add("CE" + at, "ce", ce);
    std::vector<std::pair<std::string, RunSpec>> others;
    for (const double eps : {0.1, 0.2}) {
      RunSpec ls = ce;
      ls.eps = eps;
      others.push_back({"LS eps " + shortest_text(eps) + at, ls});
    }
    if (!config.eps_schedule.empty()) {
      RunSpec scheduled = p.scheduled();
      scheduled.label_noise = rate;
      others.push_back({"LS " + config.eps_schedule + at, scheduled});
    }
    RunSpec corrected = ce;
    corrected.loss = "forward-correction";
    others.push_back({"forward correction" + at, corrected});
    for (const auto& [label, spec] : others)
      p.compare(p.add(label, spec.loss == "forward-correction" ? "forward-correction" : "ls", spec), baseline);
  }
  return p.take();
}

}  // namespace

Experiment plan(const Config& config) {
  if (config.experiment == "calibration") return smoothing_grid(config, config.loss);
  if (config.experiment == "compare") return compare(config);
  if (config.experiment == "sweep") return smoothing_grid(config, "ce");
  if (config.experiment == "distillation") return distillation(config);
  if (config.experiment == "label-noise") return label_noise(config);
  throw humble::ValueError("[mnist_smoothing] unknown experiment '" + config.experiment +
                           "'; expected calibration, compare, sweep, distillation or label-noise");
}

Config with_defaults(Config config, const Given& given) {
  const std::map<std::string, int> seeds = {
      {"calibration", 1}, {"compare", 5}, {"sweep", 3}, {"distillation", 5}, {"label-noise", 3}};
  if (!given.seeds) config.seeds = config.quick && config.experiment != "calibration" ? 2 : seeds.at(config.experiment);
  if (config.experiment == "sweep" && !given.eps) config.eps = {0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3};
  if (config.quick) {
    if (!given.train_limit) config.train_limit = 10000;
    if (!given.epochs) config.epochs = config.experiment == "distillation" ? 2 : 1;
  }
  return config;
}

}  // namespace study
