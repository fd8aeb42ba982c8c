// data/noise.hpp — symmetric label noise, injected into a dataset's labels under a seed.
//
// Symmetric (uniform) noise at rate r: each example, independently with probability r, has its
// label replaced by one of the other K − 1 classes chosen uniformly, so the labels' transition
// matrix is T = (1 − r)·I + r/(K − 1)·(11ᵀ − I) (Patrini et al. 2017, arXiv:1609.03683; the
// "symmetric noise" of Lukasik et al. 2020, arXiv:2003.02819, flips to another class).
// For each example in order the generator draws one uniform u and one offset s in [1, K) whatever
// the rate; the label becomes (y + s) mod K when u < r. So one seed gives coupled noise: the
// examples flipped at rate 0.2 are also flipped, to the same class, at rate 0.4.
#pragma once

#include <cstdint>

#include "../core/generator.hpp"
#include "dataset.hpp"

namespace humble::data {

struct NoisyDataset {
  Dataset dataset;      // same images, noisy labels
  int64_t flipped = 0;  // examples whose label changed
};

// rate in [0, 1]; K = dataset.num_classes() >= 2.
NoisyDataset with_symmetric_label_noise(const Dataset& dataset, double rate, Generator& gen);

}  // namespace humble::data
