// distributed/metrics.hpp — calibration metrics over the rows every rank holds a part of.
//
// Each rank passes the logits (N_r, C) and labels (N_r) of its part of an evaluation set; the
// parts are gathered in rank order and measured whole on every rank, so the result is exactly
// what one process computes on all the rows in that order (with the same logits: parts cut at the
// same batch boundaries as one process's evaluation give the same logits bit for bit). Gathering
// costs C numbers per row — what the forward pass has just produced.
#pragma once

#include "../metrics/calibration.hpp"
#include "context.hpp"

namespace humble::distributed {

metrics::CalibrationReport evaluate(const Context& context, const Tensor& logits, const Tensor& labels,
                                    double temperature = 1.0, int64_t bins = metrics::kDefaultBins);
double fit_temperature(const Context& context, const Tensor& logits, const Tensor& labels);

}  // namespace humble::distributed
