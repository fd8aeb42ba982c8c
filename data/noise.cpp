// data/noise.cpp — symmetric label noise (see noise.hpp).
#include "noise.hpp"

#include <cmath>
#include <vector>

#include "../core/error.hpp"

namespace humble::data {

NoisyDataset with_symmetric_label_noise(const Dataset& dataset, double rate, Generator& gen) {
  if (!(rate >= 0.0 && rate <= 1.0))
    throw ValueError(str_cat("[with_symmetric_label_noise] rate must be in [0, 1], got ", rate));
  const int64_t classes = dataset.num_classes();
  if (classes < 2) throw ValueError(str_cat("[with_symmetric_label_noise] needs at least 2 classes, got ", classes));
  std::vector<int64_t> labels(static_cast<std::size_t>(dataset.size()));  // (N)
  int64_t flipped = 0;
  for (int64_t i = 0; i < dataset.size(); ++i) {
    const double u = gen.uniform();
    const int64_t offset = gen.uniform_int(1, classes);
    const int64_t label = dataset.label(i);
    labels[i] = u < rate ? (label + offset) % classes : label;
    flipped += labels[i] != label;
  }
  return {dataset.with_labels(std::move(labels)), flipped};
}

}  // namespace humble::data
