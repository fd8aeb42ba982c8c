// humble.hpp — the umbrella header: #include <humble/humble.hpp> brings in the whole library.
#pragma once

#include "autograd/gradcheck.hpp"
#include "autograd/graph.hpp"
#include "autograd/ops.hpp"
#include "core/error.hpp"
#include "core/factories.hpp"
#include "core/generator.hpp"
#include "core/parallel.hpp"
#include "core/tensor.hpp"
#include "losses/cross_entropy.hpp"
#include "losses/family.hpp"
#include "losses/smoothing.hpp"
