#pragma once
// Shared by the libFuzzer targets: the sizing that runs on whatever a loader returns, so a spec
// that loads but breaks the arithmetic (a division by zero, a wrapped product) is found too.
// The only acceptable failure anywhere is kvplan::Error (InputError included).
#include <cstdint>

#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/model/model.hpp"
#include "kvplan/core/sizing/sizing.hpp"

namespace kvplan::fuzz {

// A small batch under each policy, and the per-token figure: cheap (linear in the layers).
inline void size_small(const ModelSpec& model) {
  const KvDtypes fp16 = kv_dtypes(dtype_by_name("fp16"));
  (void)bytes_per_token(model, fp16);
  Policy paged;
  paged.kind = PolicyKind::paged;
  (void)size_batch(model, fp16, 4, 1000, paged);
  Policy contiguous;
  contiguous.kind = PolicyKind::contiguous;
  contiguous.max_model_len = 4096;
  (void)size_batch(model, fp16, 2, 3000, contiguous);
  (void)size_batch(model, kv_dtypes(dtype_by_name("q8_0")), 1, 513, Policy{});
}

}  // namespace kvplan::fuzz
