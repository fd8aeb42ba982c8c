// examples/mnist/label_noise.cpp — the label-noise experiment's report: clean test accuracy, NLL
// and ECE against the rate of symmetric noise in the training labels, for cross-entropy, label
// smoothing at two ε and forward correction with the true noise matrix.
#include <algorithm>
#include <cmath>
#include <map>

#include "sections.hpp"

namespace study {
namespace {

using humble::plot::Figure;

const std::vector<std::string> kKeys = {"test_accuracy", "test_nll", "ece", "signed_gap", "flipped_label_share"};

// The method of a group without its noise rate: "LS eps 0.1, noise 0.2" → "LS eps 0.1".
std::string method_label(const Summary& s) { return s.group->label.substr(0, s.group->label.rfind(", noise")); }

}  // namespace

ExperimentReport label_noise_report(const Context& ctx) {
  ExperimentReport report;
  std::vector<double> rates;
  std::vector<std::string> methods;
  std::map<std::string, std::vector<const Summary*>> by_method;  // by rate
  for (const Summary& s : ctx.summaries) {
    const double rate = s.spec().label_noise;
    if (std::find(rates.begin(), rates.end(), rate) == rates.end()) rates.push_back(rate);
    const std::string m = method_label(s);
    if (!by_method.count(m)) methods.push_back(m);
    by_method[m].push_back(&s);
  }
  std::vector<CurveSeries> curves;
  for (const std::string& m : methods)
    if (by_method[m].size() == rates.size()) curves.push_back({.label = m, .points = by_method[m]});
  report.console = console_rows(all_rows(ctx.summaries), kKeys, {.intervals = true, .differences = true});

  const auto chart = [&](const std::string& title, const std::string& y_label, const std::string& key, double scale) {
    std::vector<CurveSeries> keyed = curves;
    for (CurveSeries& c : keyed) c.key = key, c.scale = scale;
    humble::plot::Chart c = mean_std_chart(title, "symmetric noise rate of the training labels", y_label, rates, keyed);
    c.legend(humble::plot::LegendCorner::Below);
    return c;
  };
  Figure figure("Clean " + data_name(ctx.config) + " test set against label noise in training (mean ± std over " +
                    std::to_string(ctx.summaries.front().runs.size()) + " seeds)",
                3);
  figure.add(chart("clean test accuracy", "accuracy (%)", "test_accuracy", 100.0));
  figure.add(chart("clean test NLL", "NLL (nats per image)", "test_nll", 1.0));
  figure.add(chart("clean test ECE", "ECE (fraction, 15 bins)", "ece", 1.0));
  save_figure(ctx, figure, "label_noise.svg");

  const double worst = rates.back();
  std::vector<const Summary*> at_worst;
  for (const Summary& s : ctx.summaries)
    if (s.spec().label_noise == worst) at_worst.push_back(&s);
  const Summary* ce_clean = find_summary(
      ctx.summaries, [](const Summary& s) { return s.group->method == "ce" && s.spec().label_noise == 0; });
  const Summary* ce_worst = find_summary(
      ctx.summaries, [&](const Summary& s) { return s.group->method == "ce" && s.spec().label_noise == worst; });
  {
    Section s{.title = "Clean accuracy under noisy training labels"};
    s.look_for =
        "A share of the training labels (the rate on the x axis) is replaced by a random other class; the "
        "test labels stay clean. Every method loses accuracy as the rate grows; the question is how much. "
        "Forward correction is told the true noise matrix, which a real data set would not give away: it "
        "is the informed baseline smoothing is measured against.";
    s.literature =
        "Label smoothing is competitive with loss-correction methods under symmetric label noise, and "
        "can be read as a form of loss correction itself " +
        cite("lukasik2020") +
        "; forward correction trains through the "
        "noise matrix so that the model's own probabilities estimate the clean label " +
        cite("patrini2017") + ".";
    const Summary* best = highest(at_worst, "test_accuracy");
    std::string at_rate;
    for (const Summary* r : at_worst)
      if (r != ce_worst) at_rate += method_label(*r) + " " + difference_text(*r, "test_accuracy") + "; ";
    std::string beyond;  // the methods whose accuracy differs from CE's beyond test-set noise at that rate
    for (const Summary* r : at_worst)
      if (r != ce_worst && beyond_noise(*r, "test_accuracy"))
        beyond += (beyond.empty() ? "" : ", ") + method_label(*r) +
                  (r->mean("test_accuracy") > ce_worst->mean("test_accuracy") ? " above" : " below");
    const std::string best_method = method_label(*best);
    const std::string verdict =
        beyond.empty() ? "No method's accuracy differs from CE's beyond test-set noise at this rate, so smoothing is "
                         "competitive with forward correction here only in the sense that all of them are equal within "
                         "noise: trained for " +
                             std::to_string(ctx.config.epochs) + " epochs, CE loses " +
                             percent(ce_clean->mean("test_accuracy") - ce_worst->mean("test_accuracy")) +
                             " of accuracy to the noise, which leaves little for any method to win back."
                       : "Beyond test-set noise against CE: " + beyond + ". " +
                             (best_method.rfind("LS", 0) == 0 && beyond_noise(*best, "test_accuracy")
                                  ? "Smoothing comes out ahead, in line with Lukasik et al."
                              : best->group->method == "forward-correction" && beyond_noise(*best, "test_accuracy")
                                  ? "Forward correction, given the true noise matrix, comes out ahead of smoothing."
                                  : "The most accurate method is not ahead of CE beyond noise.");
    s.this_run = "Cross-entropy goes from " + with_interval(*ce_clean, "test_accuracy") + " without noise to " +
                 with_interval(*ce_worst, "test_accuracy") + " at rate " + fixed(worst, 1) +
                 ". At that rate, against "
                 "CE: " +
                 at_rate + "the most accurate is " + method_label(*best) + " (" + fixed(best->mean("test_accuracy")) +
                 "). " + verdict;
    s.body = figure_html("label_noise.svg",
                         "Clean test accuracy, NLL and ECE against the noise rate of the training "
                         "labels, per method (bands: ± one std over the seeds).") +
             html_rows(all_rows(ctx.summaries), kKeys, {.intervals = true, .differences = true}) +
             "<p class=\"note\">Δ: each method against cross-entropy at the same noise rate. The noise is drawn per "
             "seed; one seed flips the same images, to the same classes, for every method. The 5,000 validation "
             "images (for T only) keep clean labels.</p>\n";
    report.sections.push_back(s);
  }
  {
    Section s{.title = "Calibration under noisy training labels"};
    s.look_for =
        "Noisy labels teach a model that it is often wrong, so its confidence falls; against clean test "
        "labels it can become underconfident. Compare the NLL and ECE curves with the accuracy ones.";
    s.literature =
        "Lukasik et al. study accuracy; calibration under label noise is this run's addition — the "
        "same metrics as " +
        cite("guo2017") + ".";
    const double ce_confidence = ce_worst->mean("mean_confidence");
    const bool learned_noise = std::abs(ce_confidence - (1 - worst)) <= 0.05;
    s.this_run = "At rate " + fixed(worst, 1) + " the lowest clean NLL is " +
                 method_label(*lowest(at_worst, "test_nll")) + "'s (" +
                 fixed(lowest(at_worst, "test_nll")->mean("test_nll")) + ") and the lowest ECE " +
                 method_label(*lowest(at_worst, "ece")) + "'s (" + with_interval(*lowest(at_worst, "ece"), "ece") +
                 "). CE's confidence − accuracy moves from " + fixed(ce_clean->mean("signed_gap")) + " to " +
                 fixed(ce_worst->mean("signed_gap")) + ": its mean confidence at rate " + fixed(worst, 1) + " is " +
                 fixed(ce_confidence, 3) +
                 (learned_noise ? ", near 1 − rate = " + fixed(1 - worst, 1) +
                                      ", how often a training label is right: it has learned the noisy labels' "
                                      "distribution instead of the clean one."
                                : " against 1 − rate = " + fixed(1 - worst, 1) +
                                      ", the confidence of a model that had learned the noisy labels' "
                                      "distribution exactly.");
    const Summary* corrected_worst = find_summary(ctx.summaries, [&](const Summary& x) {
      return x.group->method == "forward-correction" && x.spec().label_noise == worst;
    });
    if (corrected_worst)
      s.this_run += " Forward correction, which trains through the noise matrix, has confidence − accuracy " +
                    fixed(corrected_worst->mean("signed_gap")) + " at that rate.";
    report.sections.push_back(s);
  }
  return report;
}

}  // namespace study
