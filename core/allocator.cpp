// core/allocator.cpp — aligned blocks, and the cache of large ones (contract in the header).
//
// A large request is rounded up to whole 64 KiB (whole 2 MiB, the huge-page size, from 2 MiB on:
// aligned_alloc wants a multiple of the alignment), so that tensors whose sizes differ by a few
// elements share blocks, and looked up by that size; at most `limit` bytes wait in the cache, the
// blocks beyond it are freed at once. One mutex guards the cache: only large blocks take it, and
// each of those is followed by far more work than the lock costs.
#include "allocator.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace humble {
namespace {

constexpr std::size_t kAlign = 64;
constexpr std::size_t kLargeGranule = std::size_t{64} << 10;  // 64 KiB
constexpr std::size_t kHugePage = std::size_t{2} << 20;       // 2 MiB

std::size_t round_up(std::size_t bytes, std::size_t unit) { return (bytes + unit - 1) / unit * unit; }

bool is_large(std::size_t bytes) { return bytes >= kCachedBlockMin; }

// The size a large request is served with, and cached under.
std::size_t large_size(std::size_t bytes) { return round_up(bytes, bytes >= kHugePage ? kHugePage : kLargeGranule); }

// A fresh block from the system; large ones start on a huge-page boundary and ask for huge pages.
void* system_block(std::size_t rounded) {
  const std::size_t align = rounded >= kHugePage ? kHugePage : kAlign;
  void* block = std::aligned_alloc(align, rounded);
  if (block == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (align == kHugePage) madvise(block, rounded, MADV_HUGEPAGE);  // advice only: failure changes nothing
#endif
  return block;
}

struct Cache {
  std::mutex mutex;
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks;  // rounded size → blocks
  std::size_t limit = std::size_t{1} << 30;
  CacheStats stats;

  void free_all() {  // with the mutex held
    for (auto& [bytes, blocks] : free_blocks)
      for (void* block : blocks) std::free(block);
    free_blocks.clear();
    stats.cached_bytes = stats.cached_blocks = 0;
  }
};

// Blocks (and their bytes, as asked for) handed out and not yet released, for any size: counted
// outside the mutex, which small blocks never take.
std::atomic<std::size_t> live_blocks{0}, live_bytes{0};

// Never destroyed: storages that outlive static destruction may still release into it.
Cache& cache() {
  static Cache* instance = new Cache;
  return *instance;
}

void* cached_or_system_block(std::size_t bytes) {
  if (!is_large(bytes)) {
    void* block = std::aligned_alloc(kAlign, round_up(std::max<std::size_t>(bytes, 1), kAlign));
    if (block == nullptr) throw std::bad_alloc();
    return block;
  }
  const std::size_t rounded = large_size(bytes);
  {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    auto found = c.free_blocks.find(rounded);
    if (found != c.free_blocks.end() && !found->second.empty()) {
      void* block = found->second.back();
      found->second.pop_back();
      c.stats.cached_bytes -= rounded;
      --c.stats.cached_blocks;
      ++c.stats.hits;
      return block;
    }
    ++c.stats.misses;
  }
  return system_block(rounded);
}

}  // namespace

void* allocate_block(std::size_t bytes) {
  void* block = cached_or_system_block(bytes);  // (may throw: then nothing is counted)
  live_blocks.fetch_add(1, std::memory_order_relaxed);
  live_bytes.fetch_add(bytes, std::memory_order_relaxed);
  return block;
}

void release_block(void* block, std::size_t bytes) {
  if (block == nullptr) return;
  live_blocks.fetch_sub(1, std::memory_order_relaxed);
  live_bytes.fetch_sub(bytes, std::memory_order_relaxed);
  if (is_large(bytes)) {
    const std::size_t rounded = large_size(bytes);
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    if (c.stats.cached_bytes + rounded <= c.limit) {
      c.free_blocks[rounded].push_back(block);
      c.stats.cached_bytes += rounded;
      ++c.stats.cached_blocks;
      return;
    }
  }
  std::free(block);
}

CacheStats cache_stats() {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  CacheStats stats = c.stats;
  stats.live_blocks = live_blocks.load(std::memory_order_relaxed);
  stats.live_bytes = live_bytes.load(std::memory_order_relaxed);
  return stats;
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  c.free_all();
}

void set_cache_limit(std::size_t bytes) {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  c.limit = bytes;
  if (c.stats.cached_bytes > bytes) c.free_all();
}

std::size_t cache_limit() {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  return c.limit;
}

}  // namespace humble
