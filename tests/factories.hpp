#pragma once
// Test factories with defaults, so that each test states only what it is about.
#include "kvplan/core/model/model.hpp"
#include "kvplan/io/catalog.hpp"

namespace kvplan::test {

// A small full-attention model; override what the test needs, then finalize().
inline ModelSpec new_model(std::uint64_t layers = 2, std::uint64_t heads = 4, std::uint64_t kv_heads = 2,
                           std::uint64_t head_dim = 16) {
  ModelSpec m;
  m.name = "test";
  m.hidden_size = heads * head_dim;
  m.num_hidden_layers = layers;
  m.num_attention_heads = heads;
  m.num_key_value_heads = kv_heads;
  m.head_dim = head_dim;
  m.intermediate_size = 4 * m.hidden_size;
  m.vocab_size = 1000;
  m.max_position_embeddings = 4096;
  m.torch_dtype = "fp16";
  finalize(m);
  return m;
}

// A shipped model, from the specs built into the binary.
inline ModelSpec shipped(const char* name) { return Catalog().model(name); }

}  // namespace kvplan::test
