// metrics/report_plots.hpp — the calibration study's charts, built on the SVG chart writer.
//
// Each function returns a Chart; put several in one Figure to compare ε side by side:
//   plot::Figure figure("MNIST: label smoothing and calibration");
//   figure.add(plot::reliability_diagram(metrics::reliability_bins(logits0, labels), "ε = 0"));
//   figure.add(plot::reliability_diagram(metrics::reliability_bins(logits1, labels), "ε = 0.1"));
//   figure.save("reliability.svg");
// Training curves need nothing special: a Chart with one LineSeries per run.
// References: reliability diagrams and confidence histograms as in Guo et al. 2017, "On
// Calibration of Modern Neural Networks" (arXiv:1706.04599), Fig. 1; the penultimate-layer
// projection as in Müller, Kornblith & Hinton 2019, "When Does Label Smoothing Help?"
// (arXiv:1906.02629), Fig. 1.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "calibration.hpp"
#include "svg.hpp"

namespace humble::plot {

// Per non-empty bin: a bar of accuracy over (lo, hi], the gap to the bin's mean confidence shaded
// above or below it (when show_gap), the bin's count written over it, and the diagonal y = x of
// perfect calibration. The title gets the bins' ECE appended.
Chart reliability_diagram(const metrics::ReliabilityBins& bins, const std::string& title, bool show_gap = true);

// One translucent histogram per (label, confidences) group, overlaid: the share of the group's
// predictions in each of `bins` equal-width bins over [0, 1]. Every group needs at least one value.
Chart confidence_histograms(const std::vector<std::pair<std::string, std::vector<double>>>& groups,
                            const std::string& title, int64_t bins = 20);

// A 2-D projection of penultimate-layer activations: one colour per class, points_per_class[k]
// named class_names[k] (both of one length).
Chart penultimate_projection(const std::vector<std::vector<Point>>& points_per_class,
                             const std::vector<std::string>& class_names, const std::string& title);

}  // namespace humble::plot
