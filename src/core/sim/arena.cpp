#include "kvplan/core/sim/arena.hpp"

#include <algorithm>
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

namespace {
unsigned order_of(std::uint64_t block) {  // block is a power of two
  unsigned k = 0;
  while ((std::uint64_t{1} << k) < block) ++k;
  return k;
}
}  // namespace

BuddyArena::BuddyArena(std::uint64_t capacity) : capacity_(capacity), blocks_(64) {
  std::uint64_t base = 0;
  for (int k = 63; k >= 0; --k) {
    const std::uint64_t size = std::uint64_t{1} << k;
    if (!(capacity & size)) continue;
    regions_.push_back({base, static_cast<unsigned>(k)});
    blocks_[static_cast<std::size_t>(k)].insert(base);
    largest_block_ = std::max(largest_block_, size);
    base += size;
  }
  free_ = capacity;
}

std::uint64_t BuddyArena::block_for(std::uint64_t length) {
  if (length == 0) throw Error("arena: cannot allocate 0 slots");
  if (length > (std::uint64_t{1} << 62)) throw Error("arena: a reservation of " + std::to_string(length) + " slots");
  std::uint64_t b = 1;
  while (b < length) b <<= 1;
  return b;
}

std::uint64_t BuddyArena::largest_hole() const {
  for (int k = 63; k >= 0; --k)
    if (!blocks_[static_cast<std::size_t>(k)].empty()) return std::uint64_t{1} << k;
  return 0;
}

const BuddyArena::Region& BuddyArena::region_of(std::uint64_t offset) const {
  auto it = std::upper_bound(regions_.begin(), regions_.end(), offset,
                             [](std::uint64_t o, const Region& r) { return o < r.base; });
  if (it == regions_.begin()) throw Error("arena: slot " + std::to_string(offset) + " is outside the arena");
  return *std::prev(it);
}

std::optional<std::uint64_t> BuddyArena::allocate(std::uint64_t length) {
  const unsigned k = order_of(block_for(length));
  unsigned j = k;
  while (j < 64 && blocks_[j].empty()) ++j;
  if (j >= 64) return std::nullopt;
  const std::uint64_t offset = *blocks_[j].begin();
  blocks_[j].erase(blocks_[j].begin());
  while (j > k) {  // split: keep the lower half, free the upper
    --j;
    blocks_[j].insert(offset + (std::uint64_t{1} << j));
  }
  free_ -= std::uint64_t{1} << k;
  return offset;
}

void BuddyArena::release(std::uint64_t offset, std::uint64_t length) {
  unsigned k = order_of(block_for(length));
  const Region& r = region_of(offset);
  if (k > r.order || ((offset - r.base) & ((std::uint64_t{1} << k) - 1)) != 0)
    throw Error("arena: release of [" + std::to_string(offset) + ", +" + std::to_string(length) + ") is not a block");
  for (unsigned j = k; j <= r.order; ++j)  // free already, alone or inside a merged block
    if (blocks_[j].count(r.base + ((offset - r.base) & ~((std::uint64_t{1} << j) - 1))))
      throw Error("arena: double free at slot " + std::to_string(offset));
  free_ += std::uint64_t{1} << k;
  std::uint64_t at = offset;
  while (k < r.order) {
    const std::uint64_t buddy = r.base + ((at - r.base) ^ (std::uint64_t{1} << k));
    auto it = blocks_[k].find(buddy);
    if (it == blocks_[k].end()) break;
    blocks_[k].erase(it);
    at = std::min(at, buddy);
    ++k;
  }
  blocks_[k].insert(at);
}

}  // namespace kvplan
