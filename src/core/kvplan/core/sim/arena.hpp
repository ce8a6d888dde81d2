#pragma once
// First-fit placement of contiguous reservations in a fixed arena of slots. The free list is a
// std::map offset -> length kept sorted and coalesced, with a multiset of hole sizes beside it so
// that "does anything fit?" and "largest hole" are O(log n). First fit walks the holes in address
// order (never the slots) and stops at the first hole that is large enough.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace kvplan {

class FirstFitArena {
 public:
  explicit FirstFitArena(std::uint64_t capacity);

  // Lowest-offset hole of at least `length` slots (length >= 1); nullopt when none.
  std::optional<std::uint64_t> allocate(std::uint64_t length);
  // Returns [offset, offset + length) to the free list, merging with neighbours. Throws Error
  // when the range is outside the arena or overlaps free space (a double free).
  void release(std::uint64_t offset, std::uint64_t length);

  std::uint64_t capacity() const { return capacity_; }
  std::uint64_t free_slots() const { return free_; }
  std::uint64_t largest_hole() const { return sizes_.empty() ? 0 : *sizes_.rbegin(); }
  std::size_t holes() const { return holes_.size(); }
  const std::map<std::uint64_t, std::uint64_t>& free_list() const { return holes_; }

 private:
  void add_hole(std::uint64_t offset, std::uint64_t length);
  void remove_hole(std::map<std::uint64_t, std::uint64_t>::iterator it);

  std::uint64_t capacity_ = 0;
  std::uint64_t free_ = 0;
  std::map<std::uint64_t, std::uint64_t> holes_;  // offset -> length, disjoint, never adjacent
  std::multiset<std::uint64_t> sizes_;             // lengths of holes_
};

// Binary buddy placement (Knuth, TAOCP 2.5), as the vLLM paper assumes Orca allocates its KV
// cache: every reservation takes a block of the next power of two of its length, split from the
// smallest free block that holds it (the lowest address among those), and a freed block merges
// with its buddy while the buddy is free. A pool that is not a power of two is a row of top-level
// blocks, its binary digits from the largest down (15,728 = 8,192 + 4,096 + 2,048 + ...); no block
// crosses from one to the next.
class BuddyArena {
 public:
  explicit BuddyArena(std::uint64_t capacity);
  static std::uint64_t block_for(std::uint64_t length);  // the power of two a reservation takes

  // Offset of a block of block_for(length) slots; nullopt when no free block is large enough.
  std::optional<std::uint64_t> allocate(std::uint64_t length);
  // Frees the block allocate(length) returned at `offset`. Throws Error on a double free.
  void release(std::uint64_t offset, std::uint64_t length);

  std::uint64_t capacity() const { return capacity_; }
  std::uint64_t free_slots() const { return free_; }
  std::uint64_t largest_hole() const;       // the largest free block
  std::uint64_t largest_block() const { return largest_block_; }  // the largest block there is

 private:
  struct Region {
    std::uint64_t base = 0;
    unsigned order = 0;
  };
  const Region& region_of(std::uint64_t offset) const;
  std::uint64_t capacity_ = 0;
  std::uint64_t free_ = 0;
  std::uint64_t largest_block_ = 0;
  std::vector<Region> regions_;                  // by base
  std::vector<std::set<std::uint64_t>> blocks_;  // free block offsets by order
};

}  // namespace kvplan
