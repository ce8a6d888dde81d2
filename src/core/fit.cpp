#include "kvplan/core/fit.hpp"

#include <algorithm>
#include <limits>

#include "kvplan/core/checked.hpp"
#include "kvplan/core/error.hpp"

namespace kvplan {
namespace {

std::int64_t signed_difference(std::uint64_t a, std::uint64_t b) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (a >= b) {
    if (a - b > kMax) throw Error("headroom does not fit in 63 bits");
    return static_cast<std::int64_t>(a - b);
  }
  if (b - a > kMax) throw Error("shortfall does not fit in 63 bits");
  return -static_cast<std::int64_t>(b - a);
}

PolicyFit evaluate(const ModelSpec& model, const FitRequest& req, const Scenario& s, const Policy& policy,
                   std::uint64_t fixed_bytes) {
  PolicyFit f;
  f.policy = policy;
  const SizeResult size = size_batch(model, req.kv, s.sequences, s.tokens(), policy);
  f.kv_bytes = size.bytes_reserved;
  f.kv_bytes_needed = size.bytes_needed;
  std::uint64_t slots = 0;
  for (const auto& row : size.layers) slots = std::max(slots, row.token_slots);
  f.token_slots = checked_mul(slots, s.sequences, "token slots");
  f.total_bytes = checked_add(fixed_bytes, f.kv_bytes, "total memory");
  f.fits = f.total_bytes <= req.capacity_bytes;
  f.headroom_bytes = signed_difference(req.capacity_bytes, f.total_bytes);
  return f;
}

}  // namespace

std::uint64_t resolve_max_model_len(const ModelSpec& model, std::uint64_t requested) {
  if (requested == 0) return model.max_position_embeddings;
  if (requested > model.max_position_embeddings)
    throw Error("--max-model-len " + std::to_string(requested) + " exceeds " + model.name +
                "'s max_position_embeddings (" + std::to_string(model.max_position_embeddings) + ")");
  return requested;
}

FitResult plan_fit(const ModelSpec& model, const FitRequest& req) {
  if (req.capacity_bytes == 0) throw Error("GPU memory must be greater than zero");
  if (req.block_size == 0) throw Error("--block-size must be at least 1");
  if (req.scenarios.empty()) throw Error("no scenario given (e.g. 32x500)");
  FitResult r;
  r.model_name = model.name;
  r.gpu_label = req.gpu_label;
  r.capacity_bytes = req.capacity_bytes;
  r.params = count_params(model);
  if (req.weights_as_stored && model.file_weights) {
    r.weight_dtype = "as stored in the file";
    r.weight_bytes = model.file_weights->bytes;
  } else {
    r.weight_dtype = req.weight_dtype.name;
    r.weight_bytes = weight_bytes(r.params, req.weight_dtype);
  }
  r.overhead_bytes = req.overhead_bytes;
  r.max_model_len = resolve_max_model_len(model, req.max_model_len);
  r.block_size = req.block_size;
  r.bytes_per_token = bytes_per_token(model, req.kv);
  r.kv_dtype = req.kv.k.name == req.kv.v.name ? req.kv.k.name : req.kv.k.name + "/" + req.kv.v.name;
  r.deciding_policy = req.deciding_policy;
  const std::uint64_t fixed = checked_add(r.weight_bytes, r.overhead_bytes, "weights + overhead");

  Policy contiguous{PolicyKind::contiguous, req.block_size, r.max_model_len, Reservation::max_model_len};
  Policy paged{PolicyKind::paged, req.block_size, r.max_model_len, Reservation::max_model_len};
  r.all_fit = true;
  for (const Scenario& s : req.scenarios) {
    ScenarioFit sf;
    sf.scenario = s;
    sf.exceeds_max_model_len = s.tokens() > r.max_model_len;
    if (sf.exceeds_max_model_len) {
      // The engine would refuse such a request outright; price it at its own length so the
      // report still shows what it would take.
      Policy own = contiguous;
      own.reservation = Reservation::exact;
      sf.contiguous = evaluate(model, req, s, own, fixed);
      sf.contiguous.fits = false;
    } else {
      sf.contiguous = evaluate(model, req, s, contiguous, fixed);
    }
    sf.paged = evaluate(model, req, s, paged, fixed);
    if (sf.exceeds_max_model_len) sf.paged.fits = false;
    sf.fits = req.deciding_policy == PolicyKind::contiguous ? sf.contiguous.fits : sf.paged.fits;
    r.all_fit = r.all_fit && sf.fits;
    r.scenarios.push_back(sf);
  }
  return r;
}

}  // namespace kvplan
