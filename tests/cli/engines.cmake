# One model of each engine (issue 11): every defect of the issue as a user typed it.
set(G ${KVPLAN_GGUF_DIR})

# vLLM plans sliding-window layers as vLLM does: 385 blocks a request, not 2,048 (full attention).
kvplan_cli_test(engine_vllm_sliding_window EXIT 0
  MATCH "a request of max-model-len takes 385 blocks"
  NOMATCH "counted as full attention"
  ARGS fit --engine vllm --model mistral-7b-v0.1 --gpu l4 --max-model-len 32768 4x32768)
kvplan_cli_test(engine_vllm_sliding_window_blocks EXIT 0 MATCH "4x32768 +4 +1,540 "
  ARGS fit --engine vllm --model mistral-7b-v0.1 --gpu l4 --max-model-len 32768 4x32768)
# Gemma-3-27B 8x32768 on an H200: fits under vLLM (was refused at 124 GiB of KV).
kvplan_cli_test(engine_vllm_gemma3_hybrid EXIT 0 MATCH "8x32768 +8 +44,080 +53[.]81 GiB .* yes"
  ARGS fit --engine vllm --model gemma-3-27b --gpu h200 8x32768)
# `size` prices the same vLLM request with the same groups (8 empty slots included).
kvplan_cli_test(engine_size_vllm_groups EXIT 0
  MATCH "3,206 block id[(]s[)] per sequence from one pool, 1,310,720 B each [(]7 KV cache groups of 10 layers"
  ARGS size --model gemma-3-27b --tokens 32768 --batch 8)
# Jamba: planned with vLLM's Mamba alignment, not refused.
kvplan_cli_test(engine_vllm_jamba EXIT 0 MATCH "raises the attention block size from 16 to 80 tokens"
  ARGS fit --engine vllm --model jamba-v0.1 --gpu h100-sxm --tp 2 4x8192)
kvplan_cli_test(engine_sglang_jamba_refused EXIT 2 MATCH "SGLang's state pool is not modelled"
  ARGS fit --engine sglang --model jamba-v0.1 --gpu h100-sxm --tp 2 4x8192)

# llama.cpp: a scenario NxT is -np N -c N*T, the same context as llama.cpp's own flags.
kvplan_cli_test(engine_llamacpp_scenario_log EXIT 0
  MATCH "llama_kv_cache: size = +21[.]44 MiB [(]  1024 cells,   7 layers,  4/4 seqs[)], K [(]q8_0[)]: +7[.]44 MiB"
  ARGS fit --engine llamacpp --model ${G}/tiny-gemma3.gguf --gpu rtx-4090 -ctk q8_0 4x8192)
kvplan_cli_test(engine_llamacpp_flags_log EXIT 0
  MATCH "llama_kv_cache: size = +21[.]44 MiB [(]  1024 cells,   7 layers,  4/4 seqs[)], K [(]q8_0[)]: +7[.]44 MiB"
  ARGS fit --engine llamacpp --model ${G}/tiny-gemma3.gguf --gpu rtx-4090 -ctk q8_0 -c 32768 -np 4)
kvplan_cli_test(engine_llamacpp_scenario_weights EXIT 0 MATCH "weights +6[.]67 MiB +6,996,992 +exact"
  ARGS fit --engine llamacpp --model ${G}/tiny-gemma3.gguf --gpu rtx-4090 -ctk q8_0 4x8192)
# Every spelling of the engine behaves the same; llama.cpp's flags without it are refused.
kvplan_cli_test(engine_llamacpp_spelling EXIT 0 MATCH "llama_kv_cache: size = +8[.]00 MiB [(]  4096 cells"
  ARGS fit --engine llama-cpp --model ${G}/tiny-llama.gguf -c 4096)
kvplan_cli_test(engine_llamacpp_flags_need_engine EXIT 2 MATCH "are llama.cpp's options; with --engine vllm they would be ignored"
  ARGS fit --engine vllm --model llama-3-8b -c 4096 -np 2)
kvplan_cli_test(engine_llamacpp_flags_generic EXIT 2 MATCH "are llama.cpp's options; with --engine generic"
  ARGS fit --model llama-3-8b -np 2)
kvplan_cli_test(engine_llamacpp_max_seq EXIT 1 MATCH "n_seq_max must be <= 256"
  ARGS fit --engine llamacpp --model llama-2-7b --gpu h200 257x16)
foreach(t engine_llamacpp_scenario_log engine_llamacpp_flags_log engine_llamacpp_scenario_weights engine_llamacpp_spelling)
  set_tests_properties(cli.${t} PROPERTIES FIXTURES_REQUIRED gguf_files)
endforeach()

# Sizes need a unit everywhere.
kvplan_cli_test(engine_size_unit_gpu_memory EXIT 2 MATCH "--gpu-memory: size '80' needs a unit: 80GiB"
  ARGS fit --gpu-memory 80)
kvplan_cli_test(engine_size_unit_overhead EXIT 2 MATCH "--overhead: size '2' needs a unit"
  ARGS fit --overhead 2)

# simulate takes its budget from the same plan: a GGUF file's exact weights.
kvplan_cli_test(engine_simulate_gguf_weights EXIT 0 MATCH "KV budget 1021[.]25 MiB = 2[.]00 GiB − weights 2[.]75 MiB"
  ARGS simulate --model ${G}/tiny-llama.gguf --gpu-memory 2GiB --synthetic fixed --requests 50 --max-model-len 1024)
set_tests_properties(cli.engine_simulate_gguf_weights PROPERTIES FIXTURES_REQUIRED gguf_files)

# --dtype reaches an auto KV cache dtype (vLLM's auto follows the served dtype).
kvplan_cli_test(engine_dtype_reaches_auto_kv EXIT 0 MATCH "524,288 B per token [(]bf16[)]"
  ARGS fit --engine vllm --model llama-2-7b --dtype bf16 1x100)
# llama.cpp's cache is f16 unless -ctk/-ctv say otherwise, in fit and in check alike.
kvplan_cli_test(engine_check_llamacpp_f16 EXIT 0 MATCH "K [(]f16[)]: +512[.]00 MiB"
  ARGS check ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/deploy/llamacpp-8b.yaml --format json)
kvplan_cli_test(engine_llamacpp_no_kv_cache_dtype EXIT 2 MATCH "--kv-cache-dtype is vLLM's option; with --engine llamacpp use -ctk and -ctv"
  ARGS fit --engine llamacpp --model llama-3-8b --kv-cache-dtype q8_0 1x100)

# --engine generic, typed, is always the planner; options the engine does not use are refused.
kvplan_cli_test(engine_generic_typed_is_planner EXIT 0 MATCH "engine generic"
  ARGS fit --engine generic --model llama-3-8b --gpu h100-sxm 1x100)
kvplan_cli_test(engine_unused_option_refused EXIT 2 MATCH "--max-num-seqs sizes the activation estimate of vLLM, TensorRT-LLM and HF; generic does not use it"
  ARGS fit --model llama-3-8b --max-num-seqs 256 1x100)
kvplan_cli_test(engine_size_gpu_needs_engine EXIT 2 MATCH "--gpu and --gpu-memory choose the GPU whose defaults an engine takes; give --engine"
  ARGS size --model llama-3-8b --gpu h100-sxm)
# size --engine vllm: the side-by-side vLLM rule takes the plan's batch default (8,192 on an H200), one answer.
kvplan_cli_test(engine_size_vllm_same_config EXIT 0
  MATCH "8 sequence[(]s[)]: 57,776,537,600 B"
  ARGS size --model gemma-3-27b --tokens 32768 --batch 8 --engine vllm --gpu h200)
kvplan_cli_test(engine_size_vllm_same_batch_default EXIT 0
  MATCH "vLLM v1 +57,776,537,600 B .*max_num_batched_tokens 8,192"
  ARGS size --model gemma-3-27b --tokens 32768 --batch 8 --engine vllm --gpu h200)
kvplan_cli_test(engine_size_llamacpp_flags EXIT 0 MATCH "-np 2 -c 16,000: 16,384 cells in all"
  ARGS size --model mistral-7b-v0.1 --engine llamacpp --tokens 8000 --batch 2)

# fit without --engine is the generic engine's plan: Mistral's windows priced as `fit --engine generic`
# prices them (4 x 32 layers x 257 blocks = 32,896 units of 64 KiB), not counted as full attention.
kvplan_cli_test(engine_default_fit_is_generic EXIT 0 MATCH "paged +16,448 +2[.]01 GiB"
  ARGS fit --model mistral-7b-v0.1 --gpu l4 --max-model-len 32768 4x32768)
kvplan_cli_test(engine_generic_windows EXIT 0 MATCH "4x32768 +4 +32,896 +2[.]01 GiB .* yes"
  NOMATCH "counted as full attention"
  ARGS fit --engine generic --model mistral-7b-v0.1 --gpu l4 --max-model-len 32768 4x32768)
# The generic engine is no server: a 1x100 workload fits though max-model-len 131,072 does not.
kvplan_cli_test(engine_generic_refuses_nothing EXIT 0 MATCH "not one sequence of max-model-len 131,072 fits"
  ARGS fit --engine generic --model llama-3.1-8b --gpu l4 1x100)
# Jamba's Mamba state is priced by the generic engine too (one state per sequence), not left out.
kvplan_cli_test(engine_generic_recurrent EXIT 0 MATCH "28 recurrent layers x 19 units a state"
  NOMATCH "not counted in the generic"
  ARGS fit --engine generic --model jamba-v0.1 --gpu h100-sxm --tp 2 4x8192)
# HF StaticCache (transformers >= 4.56) sizes sliding layers at min(window, max_cache_len).
kvplan_cli_test(engine_hf_sliding EXIT 0 MATCH "2x32768 +2 +761,856 +5[.]81 GiB"
  NOMATCH "counted as full attention"
  ARGS fit --engine hf --model gemma-3-27b --gpu h200 --max-model-len 32768 2x32768)
# SGLang and TensorRT-LLM really keep every layer whole for these models: said with the source.
kvplan_cli_test(engine_sglang_windows_whole EXIT 0 MATCH "SGLang keeps every layer for the whole context here"
  ARGS fit --engine sglang --model gemma-3-27b --gpu h200 2x8000)
kvplan_cli_test(engine_trtllm_windows_whole EXIT 0 MATCH "TensorRT-LLM sizes every layer for the whole context unless"
  ARGS fit --engine trtllm --model mistral-7b-v0.1 --gpu h100-sxm 2x8000)
# --policy decides the contiguous/paged table only; with the planner it is refused, not ignored.
kvplan_cli_test(engine_policy_with_planner EXIT 2 MATCH "--policy picks the verdict of the contiguous/paged table"
  ARGS fit --engine vllm --model llama-3-8b --policy contiguous 1x100)

# Issue 12's acceptance: DeepSeek-V3 is an FP8 checkpoint, planned as one (it was 158 GiB of bf16
# weights per GPU on 8 GPUs before; now 79.29 GiB, the checkpoint's bytes).
kvplan_cli_test(quant_deepseek_v3_fp8 EXIT 0
                MATCH "weights +79[.]29 GiB .*params as fp8, 8-bit float, 128x128 block scales"
                ARGS fit --engine vllm --model deepseek-v3 --gpu h200 --tp 8 16x32768)
# A W8A8 checkpoint of a 70B Llama (compressed-tensors int8, per channel; tests/fixtures/hf/quant):
# 33.84 GiB of weights per GPU at tp 2, not the 65.71 GiB of bf16 it was counted as.
kvplan_cli_test(quant_w8a8_llama_70b EXIT 0
                MATCH "weights +33[.]84 GiB .*params as compressed-tensors int-quantized, 8-bit int, scales per output channel"
                ARGS fit --engine vllm --model ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/hf/quant/llama-3-70b-w8a8.config.json
                     --gpu h100-sxm --tp 2 4x8192)
# kvplan import keeps the quantization, so the written spec plans the same weights.
kvplan_cli_test(quant_import_keeps_scheme EXIT 0 MATCH "  ignore: [[]\"lm_head\"[]]"
                ARGS import ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/hf/quant/llama-3-70b-w8a8.config.json)
# vLLM's --quantization fp8 on a bf16 checkpoint: linears in e4m3 with one fp32 scale each, the
# embedding and head still bf16 (it was every weight in fp8); a method the checkpoint lacks, or a
# flag another engine does not have, is refused.
kvplan_cli_test(quant_online_fp8 EXIT 0 MATCH "params as fp8, 8-bit float, one scale per tensor [(]4 B[)], 1,051,992,064 in bf16"
                ARGS fit --engine vllm --model llama-3-70b --gpu h100-sxm --tp 2 --quantization fp8 4x8192)
kvplan_cli_test(quant_flag_mismatch EXIT 2 MATCH "vLLM refuses: Quantization method specified in the model config [(]fp8[)] does not match"
                ARGS fit --engine vllm --model deepseek-v3 --gpu h200 --tp 8 -q awq 16x32768)
kvplan_cli_test(quant_flag_engine EXIT 2 MATCH "--quantization is vLLM's and SGLang's option; TensorRT-LLM is not given it"
                ARGS fit --engine trtllm --model llama-3-8b --gpu h100-sxm --quantization fp8 1x100)
# The default fit names a quantized checkpoint's scheme on a line of its own, inside 80 columns.
kvplan_cli_test(quant_fit_weights_line EXIT 1
                MATCH "^          fp8, 8-bit float, 128x128 block scales [(]4 B[)], the rest bf16[)]$"
                NOMATCH "^weights .{71}"
                ARGS fit --model deepseek-v3 --gpu h200 1x4096)

# Engine releases (issue 12, Deliver 3): SGLang's default share by version, vLLM's NCCL accounting.
kvplan_cli_test(engine_sglang_default_share EXIT 0
  MATCH "mem_fraction_static 0[.]83, SGLang 0[.]5[.]18's rule for 81,559 MiB"
  ARGS fit --engine sglang --model llama-3.1-8b --gpu h100-sxm 1x16000)
kvplan_cli_test(engine_sglang_version_share EXIT 0 MATCH "x 0[.]874 usable"
  ARGS fit --engine sglang --model llama-3.1-8b --gpu h100-sxm --engine-version 0.5.2 1x16000)
kvplan_cli_test(engine_sglang_log_lines EXIT 0
  MATCH "max_total_num_tokens=445598, chunked_prefill_size=8192, max_prefill_tokens=16384, max_running_requests=2049, context_len=131072"
  ARGS fit --engine sglang --model llama-3.1-8b --gpu h100-sxm --engine-version 0.4.2.post3 1x16000)
kvplan_cli_test(engine_sglang_weight_lines EXIT 0 MATCH "Load weight begin[.] avail mem=78[.]81 GB"
  ARGS fit --engine sglang --model llama-3.1-8b --gpu h100-sxm --engine-version 0.4.2.post3 1x16000)
kvplan_cli_test(engine_sglang_bad_version EXIT 2
  MATCH "--engine-version '0[.]5': not a version [(]SGLang versions 0[.]3[.]0 to 0[.]5[.]18"
  ARGS fit --engine sglang --model llama-3.1-8b --gpu h100-sxm --engine-version 0.5 1x16000)
kvplan_cli_test(engine_vllm_pre_011_nccl EXIT 0 MATCH "non-torch memory +2[.]20 GiB"
  ARGS fit --engine vllm --model llama-3.1-8b --gpu h100-sxm --tp 4 --engine-version 0.10.1.1 1x16000)
kvplan_cli_test(engine_vllm_021_refused EXIT 2 MATCH "vLLM 0[.]21 and later subtract their own CUDA-graph estimate"
  ARGS fit --engine vllm --model llama-3.1-8b --gpu h100-sxm --engine-version 0.21.0 1x16000)
kvplan_cli_test(engine_version_one_set EXIT 2 MATCH "kvplan keeps one set of llama.cpp rules"
  ARGS fit --engine llamacpp --model llama-3.1-8b --gpu h100-sxm --engine-version 1.0.0 1x16000)
kvplan_cli_test(engine_trtllm_bad_version EXIT 2
  MATCH "--engine-version '1[.]3[.]0': newer than the rules kvplan documents [(]TensorRT-LLM versions 0[.]20[.]0 to 1[.]2[.]x"
  ARGS fit --engine trtllm --model llama-3.1-8b --gpu h100-sxm --engine-version 1.3.0 1x16000)
kvplan_cli_test(engine_trtllm_bad_backend EXIT 2 MATCH "--trtllm-backend 'trt': expected pytorch"
  ARGS fit --engine trtllm --model llama-3.1-8b --gpu h100-sxm --trtllm-backend trt 1x16000)
kvplan_cli_test(engine_trtllm_backend_only EXIT 2 MATCH "--trtllm-backend is TensorRT-LLM's option; vLLM is not given it"
  ARGS fit --engine vllm --model llama-3.1-8b --gpu h100-sxm --trtllm-backend pytorch 1x16000)
kvplan_cli_test(engine_trtllm_lowers_max_seq_len EXIT 1 MATCH "Adjusted max_seq_len to [0-9]+"
  ARGS fit --engine trtllm --model qwen2.5-72b --gpu h200 2x131072)
kvplan_cli_test(engine_trtllm_profile_words EXIT 0
  MATCH "Peak memory during memory usage profiling [(]torch [+] non-torch[)]: [0-9.]+ GiB, available KV cache memory"
  ARGS fit --engine trtllm --model llama-3.1-8b --gpu h100-sxm 1x16000)
kvplan_cli_test(engine_trtllm_020_tokens EXIT 0 MATCH "Estimated max tokens in KV cache : [0-9]+"
  ARGS fit --engine trtllm --model llama-3.1-8b --gpu h100-sxm --engine-version 0.20.0 1x16000)
kvplan_cli_test(engine_trtllm_tensorrt_words EXIT 0 MATCH "Number of blocks in KV cache primary pool: [0-9]+"
  ARGS fit --engine trtllm --model llama-3.1-8b --gpu h100-sxm --trtllm-backend tensorrt 1x16000)
kvplan_cli_test(engine_chunked_prefill_sglang_only EXIT 2 MATCH "--chunked-prefill-size is SGLang's option; vLLM is not given it"
  ARGS fit --engine vllm --model llama-3.1-8b --gpu h100-sxm --chunked-prefill-size 4096 1x16000)
kvplan_cli_test(engine_vllm_sampler_flashinfer EXIT 0 MATCH "x 14 B [(]FlashInfer top-k/top-p"
  ARGS fit --engine vllm --model llama-3.1-8b --gpu h100-sxm --engine-version 0.11.0 1x16000)
kvplan_cli_test(engine_vllm_sampler_given EXIT 0 MATCH "x 38 B [(]PyTorch sort top-k/top-p: given"
  ARGS fit --engine vllm --model llama-3.1-8b --gpu h100-sxm --engine-version 0.11.0 --vllm-sampler sort 1x16000)
kvplan_cli_test(engine_vllm_sampler_bad EXIT 2 MATCH "--vllm-sampler 'topk': expected sort, flashinfer or triton"
  ARGS fit --engine vllm --model llama-3.1-8b --gpu h100-sxm --vllm-sampler topk 1x16000)
kvplan_cli_test(engine_vllm_sampler_vllm_only EXIT 2 MATCH "--vllm-sampler is vLLM's option; SGLang is not given it"
  ARGS fit --engine sglang --model llama-3.1-8b --gpu h100-sxm --vllm-sampler sort 1x16000)
