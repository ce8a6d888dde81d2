#pragma once
// First-fit placement of contiguous reservations in a fixed arena of slots. The free list is a
// std::map offset -> length kept sorted and coalesced, with a multiset of hole sizes beside it so
// that "does anything fit?" and "largest hole" are O(log n). First fit walks the holes in address
// order (never the slots) and stops at the first hole that is large enough.
#include <cstdint>
#include <map>
#include <optional>
#include <set>

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

}  // namespace kvplan
