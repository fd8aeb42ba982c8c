// examples/mnist/distillation.cpp — the distillation experiment's report: student error, NLL and
// ECE against the distillation temperature for each teacher, against students of hard labels;
// and the "erasure" as numbers: the teachers' penultimate cluster tightness, how evenly they
// spread probability over the wrong classes, and the picture of both.
#include <algorithm>
#include <cmath>
#include <map>

#include "sections.hpp"

namespace study {
namespace {

using humble::plot::Bar;
using humble::plot::BarSeries;
using humble::plot::Chart;
using humble::plot::Figure;

struct Students {
  std::string teacher{};                         // the teacher group's label
  std::vector<const Summary*> by_temperature{};  // its students, by increasing T
};

const std::vector<std::string> kTeacherKeys = {"test_error", "test_nll", "ece", "cluster_tightness",
                                               "wrong_class_entropy"};
const std::vector<std::string> kStudentKeys = {"test_error", "test_nll", "ece"};

// The teacher the text compares with the unsmoothed one: the second (ε = 0.1), or the first alone.
const Summary* smooth_teacher_of(const std::vector<const Summary*>& teachers) {
  return teachers.size() > 1 ? teachers[1] : teachers.front();
}

}  // namespace

ExperimentReport distillation_report(const Context& ctx) {
  ExperimentReport report;
  std::vector<const Summary*> teachers, students;
  const Summary* hard = nullptr;
  std::vector<double> temperatures;
  for (const Summary& s : ctx.summaries) {
    if (s.group->method == "teacher") teachers.push_back(&s);
    if (s.group->method == "student-hard") hard = &s;
    if (s.group->method == "student") {
      students.push_back(&s);
      if (std::find(temperatures.begin(), temperatures.end(), s.spec().distill_temperature) == temperatures.end())
        temperatures.push_back(s.spec().distill_temperature);
    }
  }
  std::sort(temperatures.begin(), temperatures.end());
  std::vector<Students> series;  // per teacher, its students by temperature
  for (const Summary* t : teachers) {
    Students one{.teacher = t->group->label};
    for (const double temperature : temperatures)
      for (const Summary* s : students)
        if (s->spec().distill_temperature == temperature && s->spec().teacher->key() == t->spec().key())
          one.by_temperature.push_back(s);
    if (one.by_temperature.size() == temperatures.size()) series.push_back(one);
  }
  std::vector<const Summary*> student_rows = {hard};
  for (const double temperature : temperatures)
    for (const Students& one : series)
      for (const Summary* s : one.by_temperature)
        if (s->spec().distill_temperature == temperature) student_rows.push_back(s);
  report.console = "teachers (" + ctx.config.model + ")\n" + console_rows(teachers, kTeacherKeys, {.intervals = true}) +
                   "\nstudents (MLP 784-128-10)\n" +
                   console_rows(student_rows, kStudentKeys, {.intervals = true, .differences = true});

  // Students against T.
  Figure figure("Students (MLP 784-128-10) against the distillation temperature (mean ± std over " +
                    std::to_string(hard->runs.size()) + " seeds)",
                3);
  const auto chart = [&](const std::string& title, const std::string& y_label, const std::string& key, double scale) {
    std::vector<CurveSeries> curves;
    for (const Students& one : series)
      curves.push_back(
          {.label = "students of " + one.teacher, .key = key, .points = one.by_temperature, .scale = scale});
    Chart c = mean_std_chart(title, "distillation temperature T", y_label, temperatures, curves);
    c.reference({.label = "student of hard labels", .slope = 0, .intercept = scale * hard->mean(key)});
    c.legend(humble::plot::LegendCorner::Below);
    return c;
  };
  figure.add(chart("student test error", "test error (%)", "test_error", 100.0));
  figure.add(chart("student test NLL", "NLL (nats per image)", "test_nll", 1.0));
  figure.add(chart("student ECE", "ECE (fraction, 15 bins)", "ece", 1.0));
  save_figure(ctx, figure, "distillation.svg");

  const Summary* plain_teacher = teachers.front();
  {
    Section s{.title = "Students of a smoothed and of an unsmoothed teacher"};
    s.look_for =
        "Each student is trained on its teacher's soft targets softmax(z/T) alone (distillation_loss, T² · KL, no "
        "hard labels), on the same images. Compare the students of the two teachers at the same T: if smoothing "
        "erases what the teacher knows about which wrong classes look alike, the smoothed teacher's students should "
        "have the higher error. The dashed line is the same student trained on the hard labels instead.";
    s.literature =
        "Distillation transfers that knowledge: on MNIST a small net went from 146 test errors on hard labels to 74 "
        "when taught at T = 20 by a large one " +
        cite("hinton2015") +
        ". A teacher trained with smoothing distils "
        "worse; on MNIST its students had 0.91 % test error against 0.74 % for students of an unsmoothed teacher " +
        cite("muller2019") + " (§5).";
    int reproduced = 0, significant = 0,
        opposite = 0;  // smoothed teacher's students worse / beyond noise / better beyond noise
    std::string per_temperature;
    for (const Students& one : series) {
      if (one.teacher == plain_teacher->group->label) continue;
      for (const Summary* st : one.by_temperature) {
        const Summary* base = st->baseline;
        const double d = st->mean("test_error") - base->mean("test_error");
        if (d > 0) ++reproduced;
        if (d > 0 && beyond_noise(*st, "test_error")) ++significant;
        if (d < 0 && beyond_noise(*st, "test_error")) ++opposite;
        per_temperature += "at T = " + fixed(st->spec().distill_temperature, 0) + ", " +
                           percent(base->mean("test_error")) + " (" + plain_teacher->group->label + ") against " +
                           percent(st->mean("test_error")) + " (" + one.teacher + "), Δ error " +
                           difference_text(*st, "test_error") + "; ";
      }
      break;  // the first smoothed teacher (ε = 0.1) is the comparison of the text
    }
    const std::size_t compared = temperatures.size();
    s.this_run =
        "Student test error " + per_temperature + "hard labels alone: " + percent(hard->mean("test_error")) + ". " +
        (reproduced == static_cast<int>(compared) ? "This run reproduces Müller et al.'s direction at every temperature"
         : reproduced > 0 ? "This run reproduces Müller et al.'s direction at " + std::to_string(reproduced) + " of " +
                                std::to_string(compared) + " temperatures"
                          : "This run does not reproduce Müller et al.'s direction: the smoothed teacher's "
                            "students are no worse at any temperature, and better beyond test-set noise at " +
                                std::to_string(opposite) + " of " + std::to_string(compared)) +
        (reproduced > 0 ? ", beyond test-set noise at " + std::to_string(significant) + " of them" : std::string()) +
        ". The teachers themselves have test error " + percent(plain_teacher->mean("test_error")) + " (" +
        plain_teacher->group->label + ") and " + percent(smooth_teacher_of(teachers)->mean("test_error")) + " (" +
        smooth_teacher_of(teachers)->group->label + ")" +
        (smooth_teacher_of(teachers)->mean("test_error") < plain_teacher->mean("test_error")
             ? ": here smoothing made the teacher itself better, and a student inherits some of that"
             : std::string()) +
        ". Our setup differs from theirs — a " + (ctx.config.model == "cnn" ? "LeNet-style" : "784-512-256-10") +
        " teacher and a 784-128-10 student trained " + std::to_string(ctx.config.epochs) +
        " epochs with Adam, on soft targets only, at T up to 4 — so compare directions, not the last digit.";
    s.body = figure_html("distillation.svg",
                         "Student test error, NLL and ECE against T, for the students of each "
                         "teacher (bands: ± one std over the seeds) and for the student of hard "
                         "labels (dashed).") +
             html_rows(student_rows, kStudentKeys, {.intervals = true, .differences = true}) +
             "<p class=\"note\">Δ: the students of the unsmoothed teacher against the student of hard labels; the "
             "students of a smoothed teacher against the unsmoothed teacher's students at the same T.</p>\n";
    report.sections.push_back(s);
  }

  // The teachers: clusters and the wrong-class distribution of the most telling class.
  const std::size_t classes = ctx.class_names.size();
  const std::vector<double>& profile = plain_teacher->runs.front()->wrong_class_distribution;  // (C, C)
  std::size_t shown = 0;  // the class whose wrong-class distribution the unsmoothed teacher concentrates most
  double peak = 0;
  for (std::size_t k = 0; k < classes; ++k)
    for (std::size_t c = 0; c < classes; ++c)
      if (profile[k * classes + c] > peak) peak = profile[k * classes + c], shown = k;
  Figure pictures("Teachers: penultimate clusters and what their soft targets say (first seed)", 0);
  for (const Summary* t : teachers) {
    const Run& r = *t->runs.front();
    pictures.add(humble::plot::penultimate_projection(
        r.projection.points, r.projection.class_names,
        t->group->label + " (spread/distance " + fixed(r.clusters.ratio, 3) + ")"));
  }
  Chart bars("wrong-class probabilities for images of " + ctx.class_names[shown], "wrong class (index)",
             "share of the wrong-class probability");
  const double width = 0.8 / static_cast<double>(teachers.size());
  for (std::size_t i = 0; i < teachers.size(); ++i) {
    BarSeries one{.label = teachers[i]->group->label, .opacity = 0.85};
    const std::vector<double>& d = teachers[i]->runs.front()->wrong_class_distribution;
    for (std::size_t c = 0; c < classes; ++c) {
      if (c == shown) continue;
      const double left = static_cast<double>(c) - 0.4 + width * static_cast<double>(i);
      one.bars.push_back(Bar{.left = left, .right = left + width, .top = d[shown * classes + c]});
    }
    bars.bars(one);
  }
  bars.reference(
      {.label = "all wrong classes alike, 1/(C-1)", .slope = 0, .intercept = 1.0 / static_cast<double>(classes - 1)});
  bars.legend(humble::plot::LegendCorner::Below);
  pictures.add(bars);
  save_figure(ctx, pictures, "teachers.svg");
  {
    Section s{.title = "The erasure, measured: the teachers' clusters and soft targets"};
    s.look_for =
        "Two numbers per teacher. The spread of each class's penultimate activations over the distance "
        "between class centres (smaller: tighter clusters), and how evenly the teacher spreads its "
        "probability over the wrong classes (1: all alike, nothing for a student to learn about which "
        "classes resemble each other). The bar chart shows that spread for one class.";
    s.literature =
        "Smoothing makes each class a tight cluster equally far from all others and so erases the "
        "relative information in the logits that distillation transfers " +
        cite("muller2019") + ".";
    const Summary* smooth_teacher = smooth_teacher_of(teachers);
    if (smooth_teacher != plain_teacher) {
      const auto& d0 = plain_teacher->runs.front()->wrong_class_distribution;
      const auto& d1 = smooth_teacher->runs.front()->wrong_class_distribution;
      std::size_t top = shown == 0 ? 1 : 0;
      for (std::size_t c = 0; c < classes; ++c)
        if (c != shown && d0[shown * classes + c] > d0[shown * classes + top]) top = c;
      s.this_run = "Spread/distance " + mean_std_text(plain_teacher->stat("cluster_tightness"), 3) + " for " +
                   plain_teacher->group->label + " against " +
                   mean_std_text(smooth_teacher->stat("cluster_tightness"), 3) + " for " +
                   smooth_teacher->group->label + "; wrong-class entropy " +
                   mean_std_text(plain_teacher->stat("wrong_class_entropy"), 3) + " against " +
                   mean_std_text(smooth_teacher->stat("wrong_class_entropy"), 3) + ". For images of " +
                   ctx.class_names[shown] + " the unsmoothed teacher gives " + percent(d0[shown * classes + top], 1) +
                   " of its wrong-class probability to " + ctx.class_names[top] + ", the smoothed one " +
                   percent(d1[shown * classes + top], 1) + " (all alike would be " +
                   percent(1.0 / static_cast<double>(classes - 1), 1) + "). The smoothed teacher's clusters are " +
                   more_or_less(smooth_teacher->mean("cluster_tightness"), plain_teacher->mean("cluster_tightness"),
                                "looser", "tighter") +
                   " and its wrong classes " +
                   more_or_less(smooth_teacher->mean("wrong_class_entropy"), plain_teacher->mean("wrong_class_entropy"),
                                "more alike", "less alike") +
                   ": " +
                   (smooth_teacher->mean("cluster_tightness") < plain_teacher->mean("cluster_tightness") &&
                            smooth_teacher->mean("wrong_class_entropy") > plain_teacher->mean("wrong_class_entropy")
                        ? "the erasure Müller et al. describe, as numbers."
                        : "not the erasure Müller et al. describe.") +
                   " Teacher test error: " + percent(plain_teacher->mean("test_error")) + " and " +
                   percent(smooth_teacher->mean("test_error")) + ".";
    } else {
      s.this_run = "Only one teacher in this run.";
    }
    s.body = figure_html("teachers.svg",
                         "Left: each teacher's penultimate activations of three classes projected on "
                         "the plane of their templates. Right: for test images of " +
                             ctx.class_names[shown] +
                             ", the mean share of the wrong-class probability each teacher gives to "
                             "every other class (index = class number).") +
             html_rows(teachers, kTeacherKeys, {.intervals = true});
    report.sections.push_back(s);
  }
  return report;
}

}  // namespace study
