// examples/mnist/calibration.cpp — the default experiment's report: the side-by-side table (one
// column per ε), reliability diagrams, confidence histograms, training curves, logit gaps against
// their optimum, the penultimate-layer picture and, with several ε, the metrics against ε.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sections.hpp"

namespace study {
namespace {

using humble::plot::BandSeries;
using humble::plot::Chart;
using humble::plot::Figure;
using humble::plot::LineSeries;

// The metrics of today's table, one row each, then the three intervals.
const std::vector<std::string> kTableKeys = {"test_accuracy",
                                             "test_nll",
                                             "ece",
                                             "adaptive_ece",
                                             "mce",
                                             "brier",
                                             "signed_gap",
                                             "mean_confidence",
                                             "mean_confidence_correct",
                                             "mean_confidence_wrong",
                                             "frac_confidence_above_0_99",
                                             "mean_logit_gap",
                                             "optimal_logit_gap",
                                             "temperature",
                                             "test_nll_after_temperature",
                                             "ece_after_temperature",
                                             "adaptive_ece_after_temperature",
                                             "mce_after_temperature",
                                             "brier_after_temperature",
                                             "signed_gap_after_temperature",
                                             "mean_confidence_after_temperature",
                                             "frac_confidence_above_0_99_after_temperature",
                                             "seconds_per_epoch",
                                             "cluster_tightness",
                                             "wrong_class_entropy"};

// Metrics side by side, one column per group: "mean ± std" with several seeds.
std::string column_table(const std::vector<Summary>& summaries) {
  std::string table;
  char cell[96];
  const auto put = [&](const char* format, auto... values) {
    std::snprintf(cell, sizeof cell, format, values...);
    table += cell;
  };
  put("%-32s", "test set");
  for (const Summary& s : summaries) put("  %19s", s.group->label.c_str());
  table += "\n";
  for (const std::string& key : kTableKeys) {
    put("%-32s", metric(key).label);
    for (const Summary& s : summaries) {
      const humble::metrics::MeanStd m = s.stat(key);
      if (s.runs.size() > 1)
        put("  %10.4f ± %6.4f", m.mean, m.std);
      else
        put("  %19.4f", m.mean);
    }
    table += "\n";
  }
  const auto interval_row = [&](const char* label, auto interval) {
    put("%-32s", label);
    for (const Summary& s : summaries) put("  %19s", interval_text(interval(s), 4).c_str());
    table += "\n";
  };
  interval_row("accuracy 95% CI (test set)", [](const Summary& s) { return s.accuracy_ci; });
  interval_row("NLL 95% CI", [](const Summary& s) { return s.nll_ci; });
  interval_row("ECE 95% CI", [](const Summary& s) { return s.ece_ci; });
  return table;
}

Chart training_curves(const std::vector<Summary>& summaries, const std::string& what, const std::string& unit,
                      const std::function<double(const EpochRecord&)>& read, bool with_floor) {
  Chart chart(what + " per epoch", "epoch", what + unit);
  for (const Summary& s : summaries) {
    const Run& r = *s.runs.front();
    LineSeries series{.label = s.group->label, .markers = true};
    for (const EpochRecord& e : r.history) series.points.push_back({double(e.epoch), read(e)});
    chart.line(series);
    if (with_floor && r.history.front().loss_floor > 0) {
      LineSeries floor{.label = "floor H(q') at " + s.group->label};
      for (const EpochRecord& e : r.history) floor.points.push_back({double(e.epoch), e.loss_floor});
      chart.line(floor);
    }
  }
  return chart;
}

const Summary* unsmoothed_of(const std::vector<Summary>& summaries) {
  return find_summary(summaries,
                      [](const Summary& s) { return s.spec().final_eps() == 0 && s.spec().eps_schedule.empty(); });
}

// The smoothed group the text is about: ε = 0.1 when present, else the first smoothed one.
const Summary* smoothed_of(const std::vector<Summary>& summaries) {
  const Summary* s =
      find_summary(summaries, [](const Summary& s) { return s.spec().eps == 0.1 && s.spec().eps_schedule.empty(); });
  return s ? s : find_summary(summaries, [](const Summary& s) { return s.baseline != nullptr; });
}

std::string confidence_side(double signed_gap) {
  return signed_gap > 0.005 ? "overconfident" : signed_gap < -0.005 ? "underconfident" : "close to calibrated";
}

Section overview(const Context& ctx, const std::string& table) {
  Section section{.title = "Confidence and calibration at a glance"};
  section.look_for =
      "Accuracy barely moves between the columns; confidence does. With ε &gt; 0 the model is trained towards "
      "q′ = 1 − ε + ε/C on the true class, so its confidence stops near that ceiling (0.91 for ε = 0.1, C = 10) and "
      "the share of near-certain predictions (&gt; 0.99) collapses. Then compare ECE before and after temperature "
      "scaling: a model that is already accurate can become <i>under</i>confident when smoothed, and only after "
      "temperature scaling do the models meet on equal terms.";
  section.literature =
      "Label smoothing was introduced for Inception-v3 with ε = 0.1, improving ImageNet top-1 and top-5 error by "
      "about 0.2 points " +
      cite("szegedy2016") +
      ". Modern networks are overconfident, and temperature scaling — one "
      "scalar T fitted on held-out data — removes most of their miscalibration " +
      cite("guo2017") +
      ". Smoothing "
      "calibrates such networks too, to an ECE close to what temperature scaling reaches on CIFAR-100 and ImageNet " +
      cite("muller2019") + ".";
  const Summary* plain = unsmoothed_of(ctx.summaries);
  const Summary* smooth = smoothed_of(ctx.summaries);
  if (plain && smooth && smooth->baseline) {
    const std::string eps = smooth->group->label;
    const double gap0 = plain->mean("signed_gap"), gap1 = smooth->mean("signed_gap");
    const double ece0 = plain->mean("ece"), ece1 = smooth->mean("ece");
    section.this_run =
        "With " + eps + " the share of test predictions above 0.99 went from " +
        percent(plain->mean("frac_confidence_above_0_99"), 1) + " to " +
        percent(smooth->mean("frac_confidence_above_0_99"), 1) + " and the mean confidence from " +
        fixed(plain->mean("mean_confidence")) + " to " + fixed(smooth->mean("mean_confidence")) + " (ceiling " +
        fixed(smooth->mean("max_confidence")) + "), while accuracy went from " + fixed(plain->mean("test_accuracy")) +
        " to " + fixed(smooth->mean("test_accuracy")) + " (Δ " + difference_text(*smooth, "test_accuracy") +
        "). Confidence − accuracy is " + fixed(gap0) + " at ε = 0 (" + confidence_side(gap0) + ") and " + fixed(gap1) +
        " with " + eps + " (" + confidence_side(gap1) + "), so ECE is " + with_interval(*plain, "ece") + " against " +
        with_interval(*smooth, "ece") + " (Δ " + difference_text(*smooth, "ece") + "): here smoothing " +
        (ece1 < ece0 ? "improves" : "worsens") + " plain calibration" +
        (ece1 < ece0 ? ", as Müller et al. found for overconfident networks."
         : gap1 < 0  ? " — not a contradiction of Müller et al.: their networks started out overconfident, "
                       "this one starts " +
                          confidence_side(gap0) + ", and smoothing pushes it below the diagonal."
                    : ".") +
        " After temperature scaling (T = " + fixed(plain->mean("temperature"), 2) + " and " +
        fixed(smooth->mean("temperature"), 2) + ") ECE is " + fixed(plain->mean("ece_after_temperature")) + " and " +
        fixed(smooth->mean("ece_after_temperature")) + ", and NLL " + fixed(plain->mean("test_nll_after_temperature")) +
        " and " + fixed(smooth->mean("test_nll_after_temperature")) + ": the smoothed model is " +
        more_or_less(smooth->mean("test_nll_after_temperature"), plain->mean("test_nll_after_temperature"), "worse",
                     "better") +
        " once both are scaled.";
  } else {
    section.this_run = "This run has no ε = 0 column to compare with; the table lists each configuration on its own.";
  }
  section.body = "<pre>" + html_escape(table) + "</pre>\n";
  return section;
}

}  // namespace

ExperimentReport calibration_report(const Context& ctx) {
  using namespace humble::plot;
  ExperimentReport report;
  report.console = column_table(ctx.summaries);
  report.sections.push_back(overview(ctx, report.console));
  const std::string data = data_name(ctx.config);
  const Summary* plain = unsmoothed_of(ctx.summaries);
  const Summary* smooth = smoothed_of(ctx.summaries);

  // Reliability diagrams.
  save_figure(
      ctx,
      reliability_figure("Reliability diagrams on the " + data + " test set (first seed)", all_rows(ctx.summaries), 0),
      "reliability.svg");
  {
    Section s{.title = "Reliability diagrams"};
    s.look_for =
        "Each bar is the accuracy of the test predictions whose confidence falls in that bin; the dashed "
        "diagonal is perfect calibration. Bars below it mean overconfidence (the model claims more than it "
        "achieves), bars above it underconfidence. The outlined boxes are the gaps ECE adds up, weighted by "
        "the number written over each bar.";
    s.literature = "Reliability diagrams and the 15-bin ECE are the tools of " + cite("guo2017") +
                   ", whose deep ResNets sat below the diagonal while a 1998 LeNet sat on it.";
    s.this_run = each(all_rows(ctx.summaries), [](const Summary& g) {
      const humble::metrics::CalibrationReport& first = g.runs.front()->test;
      return g.group->label + ": ECE " + fixed(first.ece) + ", " + confidence_side(first.signed_gap) +
             " (confidence − accuracy " + fixed(first.signed_gap) + ")";
    });
    s.body = figure_html("reliability.svg",
                         "Reliability diagrams (15 bins; bar = accuracy, outline = gap to the bin's "
                         "mean confidence, number = test images in the bin).");
    report.sections.push_back(s);
  }

  // Confidence histograms.
  std::vector<std::pair<std::string, std::vector<double>>> groups;
  for (const Summary& g : ctx.summaries) groups.emplace_back(g.group->label, g.runs.front()->confidences);
  save_figure(ctx, Figure().add(confidence_histograms(groups, "Confidence (max softmax) on the test set")),
              "confidence_histograms.svg");
  {
    Section s{.title = "Confidence histograms"};
    s.look_for =
        "Without smoothing almost all the mass sits in the last bin, at confidence ≈ 1. With smoothing it "
        "piles up just below the ceiling 1 − ε + ε/C and nothing lies beyond it.";
    s.literature = "Guo et al. show the same histograms for overconfident networks " + cite("guo2017") +
                   "; Müller et al. note that smoothing keeps the logits from growing without bound " +
                   cite("muller2019") + ".";
    s.this_run = each(all_rows(ctx.summaries), [](const Summary& g) {
      const double ceiling = g.mean("max_confidence");
      const std::vector<double>& c = g.runs.front()->confidences;
      const auto above = std::count_if(c.begin(), c.end(), [&](double v) { return v > ceiling + 1e-3; });
      return g.group->label + ": " + percent(g.runs.front()->test.frac_confidence_above_0_99, 1) +
             " of predictions above 0.99" +
             (ceiling < 1
                  ? ", " + percent(static_cast<double>(above) / c.size(), 2) + " above the ceiling " + fixed(ceiling, 3)
                  : std::string());
    });
    s.body = figure_html("confidence_histograms.svg",
                         "Share of test predictions per confidence bin (20 bins), the configurations overlaid.");
    report.sections.push_back(s);
  }

  // Training curves.
  Figure curves("Training curves (first seed)", 2);
  curves.add(training_curves(
      ctx.summaries, "train loss", " (nats)", [](const EpochRecord& e) { return e.train_loss; }, true));
  curves.add(training_curves(
      ctx.summaries, "test NLL", " (nats)", [](const EpochRecord& e) { return e.test_nll; }, false));
  curves.add(training_curves(
      ctx.summaries, "test accuracy", " (fraction)", [](const EpochRecord& e) { return e.test_accuracy; }, false));
  curves.add(training_curves(
      ctx.summaries, "test mean confidence", " (fraction)", [](const EpochRecord& e) { return e.test_mean_confidence; },
      false));
  save_figure(ctx, curves, "training_curves.svg");
  {
    Section s{.title = "Training curves"};
    s.look_for =
        "The smoothed loss cannot reach zero: its floor is the entropy H(q′) of the smoothed target (0.50 "
        "nats for ε = 0.1, C = 10), drawn as a line. The unsmoothed loss keeps falling towards 0, which it "
        "can only do by growing the logits.";
    s.literature = "The smoothed loss is (1 − ε)·NLL + ε·CE(u, p) " + cite("szegedy2016") +
                   "; its minimum is reached at p = q′, not at a one-hot p " + cite("muller2019") + ".";
    s.this_run = each(all_rows(ctx.summaries), [](const Summary& g) {
      const EpochRecord& last = g.runs.front()->history.back();
      return g.group->label + ": final training loss " + fixed(last.train_loss) +
             (last.loss_floor > 0
                  ? ", " + fixed(last.train_loss - last.loss_floor) + " above its floor " + fixed(last.loss_floor)
                  : std::string());
    });
    s.body = figure_html("training_curves.svg",
                         "Training loss (with its floor H(q′)), test NLL, test accuracy and "
                         "test mean confidence after each epoch (first seed).");
    report.sections.push_back(s);
  }

  // Logit gaps.
  Figure gaps("Test logit gap (top logit - mean of the others) over training: median and quartiles");
  for (const Summary& g : ctx.summaries) {
    const Run& r = *g.runs.front();
    Chart chart(g.group->label, "epoch", "logit gap (logit units)");
    BandSeries band{.label = "quartiles"};
    LineSeries median{.label = "median", .markers = true};
    for (const EpochRecord& e : r.history) {
      band.x.push_back(e.epoch);
      band.lower.push_back(e.gap_q1);
      band.upper.push_back(e.gap_q3);
      median.points.push_back({double(e.epoch), e.gap_median});
    }
    chart.band(band).line(median);
    if (std::isfinite(r.optimal_logit_gap))
      chart.reference(
          {.label = "optimal gap " + fixed(r.optimal_logit_gap, 2), .slope = 0, .intercept = r.optimal_logit_gap});
    gaps.add(chart);
  }
  save_figure(ctx, gaps, "logit_gap.svg");
  {
    Section s{.title = "Logit gaps against their optimum"};
    s.look_for =
        "With smoothing the gap between the top logit and the others settles at log(1 + C(1 − ε)/ε) (4.51 "
        "for ε = 0.1), the dashed line; without it the gap has no optimum and keeps growing.";
    s.literature =
        "Müller et al. derive that smoothing drives the logit of the correct class and the others to a "
        "fixed distance set by ε, and that this is what bounds the confidence " +
        cite("muller2019") + ".";
    s.this_run = each(all_rows(ctx.summaries), [](const Summary& g) {
      const Run& r = *g.runs.front();
      return g.group->label + ": median gap " + fixed(r.history.front().gap_median, 2) + " after epoch 1, " +
             fixed(r.history.back().gap_median, 2) + " after epoch " + std::to_string(r.history.back().epoch) +
             (std::isfinite(r.optimal_logit_gap) ? " (optimum " + fixed(r.optimal_logit_gap, 2) + ")" : std::string());
    });
    s.body = figure_html("logit_gap.svg",
                         "Median and quartiles of the test logit gap after each epoch (first seed), "
                         "with the optimum log(1 + C(1 − ε)/ε) where ε > 0.");
    report.sections.push_back(s);
  }

  // Penultimate layer.
  Figure projection("Penultimate layer projected on the plane of three class templates (Mueller et al. 2019)");
  for (const Summary& g : ctx.summaries) {
    const Run& r = *g.runs.front();
    projection.add(penultimate_projection(r.projection.points, r.projection.class_names,
                                          g.group->label + " (spread/distance " + fixed(r.clusters.ratio, 3) + ")"));
  }
  save_figure(ctx, projection, "penultimate.svg");
  {
    Section s{.title = "The penultimate layer"};
    s.look_for =
        "Each dot is one test image's penultimate activations projected onto the plane through the "
        "final-layer templates of three classes. Smoothing should pull each class into a tighter cluster, "
        "its distance to the other clusters set by ε. The number in each title is the within-class spread "
        "over the between-class distance in the full penultimate space: smaller is tighter.";
    s.literature = "This is figure 1 of " + cite("muller2019") +
                   ": tight, equally spaced clusters with smoothing, broad ones without.";
    if (plain && smooth)
      s.this_run = "Spread/distance " + mean_std_text(plain->stat("cluster_tightness"), 3) + " at ε = 0 against " +
                   mean_std_text(smooth->stat("cluster_tightness"), 3) + " with " + smooth->group->label +
                   ": the smoothed "
                   "clusters are " +
                   more_or_less(smooth->mean("cluster_tightness"), plain->mean("cluster_tightness"),
                                "looser, unlike Müller et al.'s", "tighter, as Müller et al. found") +
                   ".";
    else
      s.this_run = "No ε = 0 column to compare with.";
    s.body = figure_html("penultimate.svg",
                         "Penultimate activations of about 100 test images each of three classes "
                         "(first seed), projected on the plane of their templates.");
    report.sections.push_back(s);
  }

  // Against ε, when there are several constant ε.
  std::vector<const Summary*> constant;
  for (const Summary& g : ctx.summaries)
    if (g.spec().eps_schedule.empty()) constant.push_back(&g);
  std::sort(constant.begin(), constant.end(),
            [](const Summary* a, const Summary* b) { return a->spec().eps < b->spec().eps; });
  if (constant.size() > 1) {
    Figure sweep("Metrics against eps (mean over seeds)", 2);
    std::vector<double> x;
    for (const Summary* g : constant) x.push_back(g->spec().eps);
    for (const auto& [key, unit] :
         std::vector<std::pair<std::string, std::string>>{{"test_accuracy", " (fraction)"},
                                                          {"test_nll", " (nats)"},
                                                          {"ece", " (fraction)"},
                                                          {"mean_confidence", " (fraction)"}}) {
      std::string label = metric(key).label;
      sweep.add(mean_std_chart(label + " against eps", "eps (label smoothing)", label + unit, x,
                               {{.label = label, .key = key, .points = constant}}));
    }
    save_figure(ctx, sweep, "sweep.svg");
    Section s{.title = "Against ε"};
    s.look_for =
        "How each number moves as ε grows (a band is ± one std over the seeds). The sweep experiment "
        "(<code>--experiment sweep</code>) does this on a finer grid, with the point where the model "
        "turns from over- to underconfident.";
    s.literature = "Szegedy et al. used ε = 0.1 " + cite("szegedy2016") +
                   "; Müller et al. show that smoothing calibrates "
                   "networks that were overconfident without it " +
                   cite("muller2019") +
                   ", so the best ε for calibration "
                   "depends on how overconfident the unsmoothed model is.";
    const Summary* best = *std::min_element(constant.begin(), constant.end(), [](const Summary* a, const Summary* b) {
      return a->mean("ece") < b->mean("ece");
    });
    s.this_run = "The lowest ECE here is at " + best->group->label + " (" + with_interval(*best, "ece") + ").";
    s.body = figure_html("sweep.svg", "Accuracy, NLL, ECE and mean confidence against ε (mean ± std over the seeds).");
    report.sections.push_back(s);
  }
  return report;
}

}  // namespace study
