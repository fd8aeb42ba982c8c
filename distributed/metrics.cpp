// distributed/metrics.cpp — gather the parts, then measure them whole.
#include "metrics.hpp"

#include "collectives.hpp"

namespace humble::distributed {

metrics::CalibrationReport evaluate(const Context& context, const Tensor& logits, const Tensor& labels,
                                    double temperature, int64_t bins) {
  return metrics::evaluate(all_gather(context, logits), all_gather(context, labels), temperature, bins);
}

double fit_temperature(const Context& context, const Tensor& logits, const Tensor& labels) {
  return metrics::fit_temperature(all_gather(context, logits), all_gather(context, labels));
}

}  // namespace humble::distributed
