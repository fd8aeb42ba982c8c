// examples/mnist/parallel.cpp — dealing an experiment's runs out to the processes of a job.
#include "parallel.hpp"

#include <algorithm>
#include <map>
#include <numeric>

namespace study {

std::vector<int> deal_runs(const std::vector<RunSpec>& plan, const std::vector<std::size_t>& chosen,
                           const std::vector<double>& seconds, int processes) {
  // Units: the runs that share a teacher (the teacher's own run among them), or one run alone.
  std::map<std::string, std::size_t> unit_of_key;
  std::vector<std::vector<std::size_t>> units;  // positions in `chosen`, in plan order
  std::vector<double> unit_seconds;
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    const RunSpec& spec = plan[chosen[k]];
    const std::string key = spec.teacher ? spec.teacher->key() : spec.key();
    const auto [found, added] = unit_of_key.try_emplace(key, units.size());
    if (added) {
      units.emplace_back();
      unit_seconds.push_back(0);
    }
    units[found->second].push_back(k);
    unit_seconds[found->second] += seconds[k];
  }
  // Longest first (ties in plan order), each to the least loaded process (ties: the lowest rank).
  std::vector<std::size_t> order(units.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return unit_seconds[a] > unit_seconds[b]; });
  std::vector<double> load(static_cast<std::size_t>(processes), 0.0);
  std::vector<int> owner(chosen.size(), 0);
  for (const std::size_t u : order) {
    const auto least = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    load[static_cast<std::size_t>(least)] += unit_seconds[u];
    for (const std::size_t k : units[u]) owner[k] = least;
  }
  return owner;
}

}  // namespace study
