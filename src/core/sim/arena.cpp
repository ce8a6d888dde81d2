#include "kvplan/core/sim/arena.hpp"

#include <string>

#include "kvplan/core/numbers/error.hpp"

namespace kvplan {

FirstFitArena::FirstFitArena(std::uint64_t capacity) : capacity_(capacity) {
  if (capacity > 0) add_hole(0, capacity);
}

void FirstFitArena::add_hole(std::uint64_t offset, std::uint64_t length) {
  holes_.emplace(offset, length);
  sizes_.insert(length);
  free_ += length;
}

void FirstFitArena::remove_hole(std::map<std::uint64_t, std::uint64_t>::iterator it) {
  sizes_.erase(sizes_.find(it->second));
  free_ -= it->second;
  holes_.erase(it);
}

std::optional<std::uint64_t> FirstFitArena::allocate(std::uint64_t length) {
  if (length == 0) throw Error("arena: cannot allocate 0 slots");
  if (largest_hole() < length) return std::nullopt;  // O(1): the common refusal under load
  for (auto it = holes_.begin(); it != holes_.end(); ++it) {
    if (it->second < length) continue;
    const std::uint64_t offset = it->first;
    const std::uint64_t rest = it->second - length;
    remove_hole(it);
    if (rest > 0) add_hole(offset + length, rest);
    return offset;
  }
  return std::nullopt;  // unreachable: largest_hole() >= length guarantees a hole
}

void FirstFitArena::release(std::uint64_t offset, std::uint64_t length) {
  if (length == 0 || offset > capacity_ || length > capacity_ - offset)
    throw Error("arena: release of [" + std::to_string(offset) + ", +" + std::to_string(length) +
                ") is outside the arena of " + std::to_string(capacity_) + " slots");
  std::uint64_t start = offset;
  std::uint64_t end = offset + length;
  auto next = holes_.lower_bound(offset);
  if (next != holes_.end() && next->first < end) throw Error("arena: double free at slot " + std::to_string(next->first));
  if (next != holes_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second > start) throw Error("arena: double free at slot " + std::to_string(start));
    if (prev->first + prev->second == start) {
      start = prev->first;
      remove_hole(prev);
    }
  }
  if (next != holes_.end() && next->first == end) {
    end += next->second;
    remove_hole(next);
  }
  add_hole(start, end - start);
}

}  // namespace kvplan
