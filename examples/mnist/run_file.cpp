// examples/mnist/run_file.cpp — a Run as JSON (see run_file.hpp). Every field of Run is written
// except its spec, which the plan already holds (the file keeps its key to check against), and
// the optimal logit gap, which follows from the spec (and is +inf, which JSON cannot hold, at ε = 0).
#include "run_file.hpp"

#include <cmath>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

namespace humble::metrics {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CalibrationReport, count, temperature, accuracy, nll, ece, adaptive_ece, mce, brier,
                                   signed_gap, mean_confidence, mean_confidence_correct, mean_confidence_wrong,
                                   frac_confidence_above_0_99, mean_logit_gap)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Predictions, confidence, nll, correct)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ReliabilityBin, lo, hi, count, mean_confidence, accuracy)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ClusterTightness, within_class_spread, between_class_distance, ratio, classes)
}  // namespace humble::metrics

namespace humble::plot {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Point, x, y)
}  // namespace humble::plot

namespace study {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EpochRecord, epoch, train_loss, loss_floor, train_nll, test_nll, test_accuracy,
                                   test_mean_confidence, gap_q1, gap_median, gap_q3, seconds)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Projection, class_names, points)

std::filesystem::path run_file(const std::filesystem::path& dir, std::size_t index) {
  return dir / ("run-" + std::to_string(index) + ".json");
}

std::string run_text(const Run& run) {
  const nlohmann::json doc = {{"key", run.spec.key()},
                              {"test", run.test},
                              {"test_scaled", run.test_scaled},
                              {"predictions", run.predictions},
                              {"predictions_scaled", run.predictions_scaled},
                              {"temperature", run.temperature},
                              {"validation_nll", run.validation_nll},
                              {"validation_nll_scaled", run.validation_nll_scaled},
                              {"bins", run.bins},
                              {"bins_scaled", run.bins_scaled},
                              {"confidences", run.confidences},
                              {"history", run.history},
                              {"projection", run.projection},
                              {"clusters", run.clusters},
                              {"wrong_class_entropy", run.wrong_class_entropy},
                              {"wrong_class_distribution", run.wrong_class_distribution},
                              {"flipped_share", run.flipped_share},
                              {"seconds_per_epoch", run.seconds_per_epoch},
                              {"seconds", run.seconds}};
  return doc.dump();
}

Run run_from_text(const std::string& text, const RunSpec& spec, const std::string& source) {
  try {
    const nlohmann::json doc = nlohmann::json::parse(text);
    if (doc.at("key") != spec.key())
      throw humble::IoError("[mnist_smoothing] " + source + " holds the run '" + doc.at("key").get<std::string>() +
                            "', but this plan's run there is '" + spec.key() + "'");
    Run run;
    run.spec = spec;
    doc.at("test").get_to(run.test);
    doc.at("test_scaled").get_to(run.test_scaled);
    doc.at("predictions").get_to(run.predictions);
    doc.at("predictions_scaled").get_to(run.predictions_scaled);
    doc.at("temperature").get_to(run.temperature);
    doc.at("validation_nll").get_to(run.validation_nll);
    doc.at("validation_nll_scaled").get_to(run.validation_nll_scaled);
    doc.at("bins").get_to(run.bins);
    doc.at("bins_scaled").get_to(run.bins_scaled);
    doc.at("confidences").get_to(run.confidences);
    doc.at("history").get_to(run.history);
    doc.at("projection").get_to(run.projection);
    doc.at("clusters").get_to(run.clusters);
    doc.at("wrong_class_entropy").get_to(run.wrong_class_entropy);
    doc.at("wrong_class_distribution").get_to(run.wrong_class_distribution);
    doc.at("flipped_share").get_to(run.flipped_share);
    doc.at("seconds_per_epoch").get_to(run.seconds_per_epoch);
    doc.at("seconds").get_to(run.seconds);
    run.optimal_logit_gap = optimal_logit_gap_of(spec);
    return run;
  } catch (const nlohmann::json::exception& e) {
    throw humble::IoError("[mnist_smoothing] " + source + " is not a saved run: " + e.what());
  }
}

void save_run(const Run& run, const std::filesystem::path& path) {
  humble::write_file_atomically(path.string(), run_text(run) + "\n", "mnist_smoothing");
}

std::optional<Run> load_run(const std::filesystem::path& path, const RunSpec& spec) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return run_from_text(text, spec, path.string());
}

}  // namespace study
