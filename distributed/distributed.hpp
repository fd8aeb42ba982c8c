// distributed/distributed.hpp — the umbrella header of humble's MPI layer (the CMake target
// humble::distributed): #include <humble/distributed/distributed.hpp>.
#pragma once

#include "checkpoint.hpp"
#include "collectives.hpp"
#include "context.hpp"
#include "data_parallel.hpp"
#include "metrics.hpp"
