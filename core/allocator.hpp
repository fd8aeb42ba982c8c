// core/allocator.hpp — host memory for tensor storage, with a cache of large blocks.
//
// Every block is 64-byte aligned. Blocks of at least kCachedBlockMin bytes are not returned to the
// system when their tensor dies: they wait in a cache and serve the next request of the same
// rounded size. A training loop allocates the same large tensors every step (activations,
// gradients, a loss's gradient with respect to (N, C) logits); without the cache, each would be
// mapped afresh by the system and faulted in a page at a time, often costing more than the
// kernel that fills it. Large blocks are also offered to the system as transparent huge pages
// (madvise), so even a first touch takes one fault per 2 MiB instead of one per 4 KiB.
// The cache never holds more than its limit (1 GiB unless set); empty_cache() hands it all back.
#pragma once

#include <cstddef>

namespace humble {

inline constexpr std::size_t kCachedBlockMin = std::size_t{1} << 20;  // 1 MiB

void* allocate_block(std::size_t bytes);             // 64-byte aligned; throws std::bad_alloc
void release_block(void* block, std::size_t bytes);  // `bytes` as passed to allocate_block

struct CacheStats {
  std::size_t cached_bytes = 0, cached_blocks = 0;  // waiting in the cache now
  std::size_t hits = 0, misses = 0;                 // large requests served from it, or not, so far
  std::size_t live_blocks = 0, live_bytes = 0;      // handed out and not released: the storages alive now
};
CacheStats cache_stats();
void empty_cache();                       // frees every cached block
void set_cache_limit(std::size_t bytes);  // 0 turns caching off (and empties the cache)
std::size_t cache_limit();

}  // namespace humble
