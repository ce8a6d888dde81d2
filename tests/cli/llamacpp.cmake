# kvplan fit --engine llamacpp: llama.cpp's flags (including -np, -ctk, -ctv, -ub, -fa, -kvu) and
# llama.cpp's own log line. The expected lines are what the real llama.cpp printed for the same
# file and flags (tests/fixtures/llamacpp; case 36 is the same context with --kv-unified).
function(kvplan_llamacpp_test name)
  kvplan_cli_test(${name} ${ARGN})
  set_tests_properties(cli.${name} PROPERTIES FIXTURES_REQUIRED gguf_files)
endfunction()
set(G ${KVPLAN_GGUF_DIR})

kvplan_llamacpp_test(llamacpp_fit_gemma3 EXIT 0
  MATCH "llama_kv_cache: size =   24[.]50 MiB [(]  8192 cells,   1 layers,  4/4 seqs[)], K [(]q8_0[)]:    8[.]50 MiB, V [(]f16[)]:   16[.]00 MiB"
  ARGS fit --engine llamacpp --model ${G}/tiny-gemma3.gguf --gpu rtx-4090 -c 32768 -np 4 -ctk q8_0)
kvplan_llamacpp_test(llamacpp_fit_gemma3_swa EXIT 0
  MATCH "llama_kv_cache: size =   21[.]44 MiB [(]  1024 cells,   7 layers,  4/4 seqs[)]"
  ARGS fit --engine llamacpp --model ${G}/tiny-gemma3.gguf --gpu rtx-4090 -c 32768 -np 4 -ctk q8_0)
kvplan_llamacpp_test(llamacpp_fit_weights EXIT 0 MATCH "weights +6,996,992 +6[.]67 MiB +exact"
  ARGS fit --engine llamacpp --model ${G}/tiny-gemma3.gguf --gpu rtx-4090 -c 32768 -np 4 -ctk q8_0)
kvplan_llamacpp_test(llamacpp_fit_compute EXIT 0 MATCH "compute buffer .* estimate"
  ARGS fit --engine llamacpp --model ${G}/tiny-gemma3.gguf --gpu rtx-4090 -c 32768 -np 4 -ctk q8_0)
kvplan_llamacpp_test(llamacpp_unified_alias EXIT 0 MATCH "size =   13[.]40 MiB [(]  2560 cells,   7 layers,  4/1 seqs[)]"
  ARGS fit --engine llamacpp -m ${G}/tiny-gemma3.gguf -c 16384 -np 4 -ctk q8_0 -kvu)
kvplan_llamacpp_test(llamacpp_long_flags EXIT 0 MATCH "n_ctx = 1536, n_ctx_seq = 512"
  ARGS fit --engine llamacpp -m ${G}/tiny-llama.gguf --ctx-size 1000 --parallel 3 --ubatch-size 256 --flash-attn off)
kvplan_llamacpp_test(llamacpp_json EXIT 0 MATCH "\"kv_bytes\": 48168960"
  ARGS fit --engine llamacpp -m ${G}/tiny-gemma3.gguf -c 32768 -np 4 -ctk q8_0 --format json)
kvplan_llamacpp_test(llamacpp_deci_v_padding EXIT 0 MATCH "padding V cache to 256"
  ARGS fit --engine llamacpp -m ${G}/tiny-deci.gguf -c 1000 -fa off)
# Llama-3-8B (fp16 weights, 14.96 GiB) with 131,072 f16 cells (16 GiB) cannot fit a 24 GB card.
kvplan_cli_test(llamacpp_does_not_fit EXIT 1 MATCH "does not fit, short by"
  ARGS fit --engine llamacpp -m llama-3-8b --gpu rtx-4090 -c 131072)

# What llama.cpp refuses, with llama.cpp's reason; exit 2.
kvplan_llamacpp_test(llamacpp_quantized_v_without_fa EXIT 2 MATCH "quantized V cache requires flash_attn to be enabled"
  ARGS fit --engine llamacpp -m ${G}/tiny-llama.gguf -ctv q8_0 -fa off)
kvplan_llamacpp_test(llamacpp_block_head_dim EXIT 2
  MATCH "K cache type q8_0 with block size 32 does not divide n_embd_head_k=80"
  ARGS fit --engine llamacpp -m ${G}/tiny-llama-hd80.gguf -ctk q8_0 -fa on)
kvplan_llamacpp_test(llamacpp_mla_mixed_types EXIT 2 MATCH "does not support different K [(]q8_0[)] and V [(]f16[)]"
  ARGS fit --engine llamacpp -m ${G}/tiny-deepseek2.gguf -ctk q8_0)
kvplan_llamacpp_test(llamacpp_bad_type EXIT 2 MATCH "-ctk: llama.cpp has no cache type 'fp8_e4m3'"
  ARGS fit --engine llamacpp -m ${G}/tiny-llama.gguf -ctk fp8)
kvplan_llamacpp_test(llamacpp_no_scenarios EXIT 2 MATCH "give them or scenarios [(]NxT = -np N -c N[*]T[)], not both"
  ARGS fit --engine llamacpp -m ${G}/tiny-llama.gguf -c 4096 4x1000)
kvplan_llamacpp_test(llamacpp_bad_fa EXIT 2 MATCH "--flash-attn: expected on, off or auto"
  ARGS fit --engine llamacpp -m ${G}/tiny-llama.gguf -fa maybe)
# -c 0 is the model's trained context (tiny-qwen3: 40,960 -> padded to 40,960).
kvplan_llamacpp_test(llamacpp_ctx_zero EXIT 0 MATCH "size =  120[.]00 MiB [(] 40960 cells"
  ARGS fit --engine llamacpp -m ${G}/tiny-qwen3.gguf -c 0)
# The CUDA context is the llama.cpp engine profile's stated figure unless given.
kvplan_llamacpp_test(llamacpp_cuda_context EXIT 0 MATCH "overhead +536,870,912 +512[.]00 MiB +CUDA context, non-torch: stated default"
  ARGS fit --engine llamacpp -m ${G}/tiny-llama.gguf -c 4096)
kvplan_llamacpp_test(llamacpp_overhead_given EXIT 0 MATCH "overhead +1,610,612,736 +1[.]50 GiB +CUDA context, non-torch: stated default .* [+] overhead: given [(]--overhead[)]"
  ARGS fit --engine llamacpp -m ${G}/tiny-llama.gguf -c 4096 --overhead 1GiB)
# -c 0 and no scenario: llama.cpp mode on the trained context (not the planner's default scenarios).
kvplan_llamacpp_test(llamacpp_no_flags EXIT 0 MATCH "size = +8[.]00 MiB [(]  4096 cells,   4 layers,  1/1 seqs[)]"
  ARGS fit --engine llama.cpp -m ${G}/tiny-llama.gguf)
