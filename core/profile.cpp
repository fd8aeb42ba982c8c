// core/profile.cpp — the profiler's bookkeeping (contract in core/profile.hpp).
//
// Each thread keeps its open frames and the time of its last event; totals since the process
// started live in one table under a mutex, and a Session's report is the difference between the
// table at its start and now.
#include "profile.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

#include "parallel.hpp"

namespace humble::profile {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct Totals {
  std::mutex mutex;
  Report report;  // since the process started; wall_seconds unused
};
Totals& totals() {
  static Totals t;
  return t;
}

// Recording is on since this moment (the first live session's start), in steady-clock ticks.
std::atomic<Clock::rep> recording_since{0};

// GEMMs run inside parallel tasks (e.g. a convolution's tiles) on every thread at once: each adds
// its seconds divided by the thread count (its wall-time share) to this running total, in ns,
// which the op or frame running on the calling thread takes its share of.
std::atomic<int64_t> task_gemm_ns{0};
double task_gemm_now() { return static_cast<double>(task_gemm_ns.load(std::memory_order_relaxed)) * 1e-9; }

struct OpenFrame {
  std::string name;
  Clock::time_point begin;
  double task_gemm_begin = 0;  // task_gemm_now() when it opened
  double inner = 0;            // seconds taken by frames inside this one
  double inner_task_gemm = 0;  // task GEMM seconds inside those frames
  double gemm = 0;             // GEMM seconds in this frame's own time
};

struct ThreadState {
  std::vector<OpenFrame> frames;
  Clock::time_point last_event{};
  double pending_gemm = 0;    // GEMM seconds since the last event, outside any frame
  double task_gemm_mark = 0;  // task_gemm_now() at the last event
};
thread_local ThreadState state;

void charge(const std::string& name, double seconds, double gemm_seconds) {
  Totals& t = totals();
  std::lock_guard lock(t.mutex);
  Entry& e = t.report.ops[name];
  ++e.calls;
  e.seconds += seconds;
  e.gemm_seconds += gemm_seconds;
}

Report snapshot() {
  Totals& t = totals();
  std::lock_guard lock(t.mutex);
  return t.report;
}

// Prints the table of the whole run to stderr at exit when HUMBLE_PROFILE=1.
struct EnvironmentSession {
  std::optional<Session> session;
  EnvironmentSession() {
    const char* flag = std::getenv("HUMBLE_PROFILE");
    if (flag && std::string_view(flag) != "0" && !std::string_view(flag).empty()) {
      totals();  // built first, so destroyed after this object
      session.emplace();
    }
  }
  ~EnvironmentSession() {
    if (session) std::fprintf(stderr, "%s", session->report().table().c_str());
  }
} environment_session;

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

namespace detail {

std::atomic<int> sessions{0};

void forward_op(const char* name) {
  if (!state.frames.empty()) return;  // inside a frame (a backward, a step): the frame's time
  const Clock::time_point now = Clock::now();
  const Clock::time_point since(Clock::duration(recording_since.load(std::memory_order_relaxed)));
  const double task_gemm = task_gemm_now();
  charge(name, seconds_between(std::max(state.last_event, since), now),
         state.pending_gemm + std::max(0.0, task_gemm - state.task_gemm_mark));
  state.pending_gemm = 0;
  state.task_gemm_mark = task_gemm;
  state.last_event = now;
}

}  // namespace detail

Report& Report::operator+=(const Report& other) {
  for (const auto& [name, e] : other.ops) {
    Entry& mine = ops[name];
    mine.calls += e.calls;
    mine.seconds += e.seconds;
    mine.gemm_seconds += e.gemm_seconds;
  }
  wall_seconds += other.wall_seconds;
  gemm_seconds += other.gemm_seconds;
  gemm_calls += other.gemm_calls;
  return *this;
}

std::string Report::table() const {
  std::vector<std::pair<std::string, Entry>> rows(ops.begin(), ops.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
  double accounted = 0;
  for (const auto& [_, e] : rows) accounted += e.seconds;
  const auto share = [&](double s) { return wall_seconds > 0 ? 100 * s / wall_seconds : 0.0; };
  std::ostringstream out;
  char line[160];
  std::snprintf(line, sizeof line, "humble profile: %.3f s recorded; GEMM %.3f s (%.1f %%) in %lld calls\n",
                wall_seconds, gemm_seconds, share(gemm_seconds), static_cast<long long>(gemm_calls));
  out << line;
  std::snprintf(line, sizeof line, "%-32s %9s %10s %7s %10s\n", "op", "calls", "seconds", "share", "GEMM s");
  out << line;
  for (const auto& [name, e] : rows) {
    std::snprintf(line, sizeof line, "%-32s %9lld %10.4f %6.1f%% %10.4f\n", name.c_str(),
                  static_cast<long long>(e.calls), e.seconds, share(e.seconds), e.gemm_seconds);
    out << line;
  }
  std::snprintf(line, sizeof line, "%-32s %9s %10.4f %6.1f%%\n", "(other)", "", wall_seconds - accounted,
                share(wall_seconds - accounted));
  out << line;
  return out.str();
}

std::string Report::json() const {
  std::ostringstream out;
  out.precision(9);
  out << "{\"ops\": {";
  bool first = true;
  for (const auto& [name, e] : ops) {
    out << (first ? "" : ", ") << json_string(name) << ": {\"calls\": " << e.calls << ", \"seconds\": " << e.seconds
        << ", \"gemm_seconds\": " << e.gemm_seconds << "}";
    first = false;
  }
  out << "}, \"gemm_share\": " << gemm_share() << ", \"wall_seconds\": " << wall_seconds
      << ", \"gemm_seconds\": " << gemm_seconds << "}";
  return out.str();
}

Session::Session() {
  begin_ = Clock::now();
  if (detail::sessions.fetch_add(1) == 0) recording_since.store(begin_.time_since_epoch().count());
  start_ = snapshot();
}

Session::~Session() { detail::sessions.fetch_sub(1); }

Report Session::report() const {
  Report now = snapshot(), diff;
  for (const auto& [name, e] : now.ops) {
    const auto before = start_.ops.find(name);
    const Entry base = before == start_.ops.end() ? Entry{} : before->second;
    if (e.calls == base.calls) continue;
    diff.ops[name] = {e.calls - base.calls, e.seconds - base.seconds, e.gemm_seconds - base.gemm_seconds};
  }
  diff.gemm_seconds = now.gemm_seconds - start_.gemm_seconds;
  diff.gemm_calls = now.gemm_calls - start_.gemm_calls;
  diff.wall_seconds = seconds_between(begin_, Clock::now());
  return diff;
}

void Frame::open(std::string_view name, std::string_view suffix) {
  if (state.frames.empty()) state.pending_gemm = 0;  // GEMMs outside ops and frames count only in the total
  std::string full(name);
  full += suffix;
  state.frames.push_back({std::move(full), Clock::now(), task_gemm_now()});
  open_ = true;
}

void Frame::close() {
  const Clock::time_point now = Clock::now();
  OpenFrame frame = std::move(state.frames.back());
  state.frames.pop_back();
  const double total = seconds_between(frame.begin, now), task_gemm = task_gemm_now() - frame.task_gemm_begin;
  charge(frame.name, total - frame.inner, frame.gemm + task_gemm - frame.inner_task_gemm);
  if (state.frames.empty()) {
    state.last_event = now;
    state.task_gemm_mark = task_gemm_now();
  } else {
    state.frames.back().inner += total;
    state.frames.back().inner_task_gemm += task_gemm;
  }
}

void GemmTimer::stop() {
  double seconds = seconds_between(begin_, Clock::now());
  if (in_parallel_task()) seconds /= get_num_threads();  // its share of the wall time
  {
    Totals& t = totals();
    std::lock_guard lock(t.mutex);
    t.report.gemm_seconds += seconds;
    ++t.report.gemm_calls;
  }
  if (in_parallel_task())
    task_gemm_ns.fetch_add(static_cast<int64_t>(seconds * 1e9), std::memory_order_relaxed);
  else if (state.frames.empty())
    state.pending_gemm += seconds;
  else
    state.frames.back().gemm += seconds;
}

}  // namespace humble::profile
