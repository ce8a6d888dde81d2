# The deployment planner as users type it: fit --engine, max, check. Exit codes: 0 fits,
# 1 does not fit, 2 bad input.
set(DEPLOY_FIXTURES ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/deploy)
set(EXAMPLES ${CMAKE_SOURCE_DIR}/examples)

# fit with an engine: the budget item by item and the engine's own log lines
kvplan_cli_test(deploy_fit_vllm EXIT 0 MATCH "Maximum concurrency for 4,096 tokens per request: 123[.]16x"
                ARGS fit --model llama-2-70b --gpu a100-80gb --engine vllm --tensor-parallel-size 4 8x4096)
# vLLM sizes from CUDA's total, shown beside nvidia-smi's.
kvplan_cli_test(deploy_fit_cuda_total EXIT 0 MATCH "CUDA-visible +79[.]26 GiB +85,100,068,864"
                ARGS fit --model llama-2-70b --gpu a100-80gb --engine vllm --tp 2 4x4096)
kvplan_cli_test(deploy_fit_budget EXIT 0 MATCH "- peak activation +232[.]00 MiB +243,269,632"
                ARGS fit --model llama-2-70b --gpu a100-80gb --engine vllm --tp 2 4x4096)
kvplan_cli_test(deploy_fit_kv_cache_memory EXIT 0 MATCH "GPU KV cache size: 45,872 tokens"
                ARGS fit --model qwen2.5-72b --gpu h100-sxm --engine vllm --tp 8 --kv-cache-memory 1.75GiB --max-model-len 32768 1x100)
kvplan_cli_test(deploy_fit_refused EXIT 1 MATCH "ValueError: To serve at least one request with the models's max seq len [(]131072[)]"
                ARGS fit --model qwen2.5-72b --gpu h100-sxm --engine vllm --tp 8 --kv-cache-memory 1.75GiB 1x100)
kvplan_cli_test(deploy_fit_trtllm EXIT 0 MATCH "Number of tokens per block: 32[.]"
                ARGS fit --model llama-2-7b --gpu h100-sxm --engine trtllm 8x4096)
kvplan_cli_test(deploy_fit_sglang EXIT 0 MATCH "KV Cache is allocated[.] #tokens: [0-9]+, K size: [0-9.]+ GB, V size"
                ARGS fit --model llama-3-8b --gpu l40s --engine sglang --mem-fraction-static 0.85 16x2000)
kvplan_cli_test(deploy_fit_llamacpp EXIT 0 MATCH "llama_kv_cache: size = .* cells, +32 layers, +1/1 seqs[)], K [(]f16[)]"
                ARGS fit --model llama-2-7b --gpu rtx-4090 --engine llamacpp 1x4096)
kvplan_cli_test(deploy_fit_pp EXIT 0 MATCH "1 +40-79 +32[.]12 GiB"
                ARGS fit --model llama-2-70b --gpu a100-80gb --engine vllm --tp 2 --pp 2 8x4096)
kvplan_cli_test(deploy_fit_workload EXIT 0 MATCH "32x1000[+]200,4x2000 +36 +[0-9,]+ [(]62 shared[)]"
                ARGS fit --model llama-2-70b --gpu a100-80gb --engine vllm --tp 4 --shared-prefix 1000 32x1000+200,4x2000)
kvplan_cli_test(deploy_fit_generic_tp EXIT 0 MATCH "engine generic"
                ARGS fit --model llama-2-70b --gpu a100-80gb --tp 2 4x4096)
kvplan_cli_test(deploy_fit_json EXIT 0 MATCH "\"kv_heads_replicated\": true"
                ARGS fit --model llama-3-70b --gpu h100-sxm --engine vllm --tp 16 --format json 8x8192)
kvplan_cli_test(deploy_fit_short EXIT 1 MATCH "short: nothing left for the KV cache"
                ARGS fit --model llama-2-70b --gpu a100-80gb --engine vllm 1x100)
kvplan_cli_test(deploy_fit_wrong_share EXIT 2 MATCH "--mem-fraction-static is SGLang's option; with --engine vllm use --gpu-memory-utilization"
                ARGS fit --model llama-2-7b --engine vllm --mem-fraction-static 0.8 1x100)
kvplan_cli_test(deploy_fit_bad_engine EXIT 2 MATCH "unknown engine 'vlm'" ARGS fit --model llama-2-7b --engine vlm 1x100)
kvplan_cli_test(deploy_fit_bad_tp EXIT 2 MATCH "must be divisible by tensor parallel size [(]3[)]"
                ARGS fit --model llama-2-70b --engine vllm --tp 3 1x100)
kvplan_cli_test(deploy_fit_bad_share EXIT 2 MATCH "must not exceed 1"
                ARGS fit --model llama-2-7b --engine vllm --gpu-memory-utilization 1.2 1x100)

# max: inverse questions; tp=2 and tp=4 side by side (acceptance: Llama-2-70B on A100-80GB)
kvplan_cli_test(max_side_by_side EXIT 0
                MATCH "max sequences of 4,096 +10 +123"
                ARGS max --model llama-2-70b --gpu a100-80gb --engine vllm --tensor-parallel-size 2,4 --context 4096)
kvplan_cli_test(max_side_by_side_weights EXIT 0 MATCH "weights per GPU +64[.]24 GiB +32[.]12 GiB"
                ARGS max --model llama-2-70b --gpu a100-80gb --engine vllm --tensor-parallel-size 2,4)
kvplan_cli_test(max_replicated EXIT 0 MATCH "KV heads per GPU +1 [(]replicated[)] +1 [(]replicated[)]"
                ARGS max --model llama-3-70b --gpu h100-sxm --engine vllm --tp 16,32)
kvplan_cli_test(max_batch EXIT 0 MATCH "Longest context for 200 sequence[(]s[)]: 2,512 tokens"
                ARGS max --model llama-2-70b --gpu a100-80gb --engine vllm --tp 4 --batch 200)
kvplan_cli_test(max_target EXIT 0 MATCH "Fewest GPUs for 64x4096: tensor-parallel size 4 [(]4 GPU[(]s[)][)]"
                ARGS max --model llama-2-70b --gpu a100-80gb --engine vllm --target 64x4096)
kvplan_cli_test(max_target_none EXIT 1 MATCH "none up to tensor-parallel size 8"
                ARGS max --model llama-2-70b --gpu l4 --engine vllm --target 64x4096 --max-tp 8)
kvplan_cli_test(max_margin EXIT 0 MATCH "Most concurrent sequences of 4,096 tokens: 110"
                ARGS max --model llama-2-70b --gpu a100-80gb --engine vllm --tp 4 --margin 10%)
kvplan_cli_test(max_context_too_long EXIT 2 MATCH "--context 8192 exceeds max-model-len 4096"
                ARGS max --model llama-2-70b --engine vllm --tp 4 --context 8192)

# check: CI verdicts
kvplan_cli_test(check_pass EXIT 0 MATCH "PASS .*chat-70b-tp4[.]yaml: every check holds"
                ARGS check ${EXAMPLES}/deploy/chat-70b-tp4.yaml ${EXAMPLES}/deploy/qwen-72b-sglang.yaml)
kvplan_cli_test(check_fail EXIT 1 MATCH "FAIL .*chat-70b-tp2[.]yaml: holds 10 sequences of max_model_len 4,096 at once; min_concurrency is 32"
                ARGS check ${EXAMPLES}/deploy/chat-70b-tp2.yaml ${EXAMPLES}/deploy/chat-70b-tp4.yaml)
kvplan_cli_test(check_vllm_config EXIT 0 MATCH "PASS .*llama-3-8b[.]yaml"
                ARGS check --gpu l4 ${EXAMPLES}/vllm/llama-3-8b.yaml)
kvplan_cli_test(check_vllm_refuses EXIT 1 MATCH "8,192-token requests [(]max_model_len[)] do not fit .* [(]vLLM refuses to start[)]"
                ARGS check --gpu h100-sxm ${DEPLOY_FIXTURES}/vllm_refuses.yaml)
kvplan_cli_test(check_margin EXIT 1 MATCH "available after the margin"
                ARGS check --margin 50% --workload 100x4000 ${EXAMPLES}/deploy/chat-70b-tp4.yaml)
kvplan_cli_test(check_json EXIT 1 MATCH "\"all_pass\": false"
                ARGS check --format json ${EXAMPLES}/deploy/chat-70b-tp2.yaml)
kvplan_cli_test(check_model_map EXIT 0 MATCH "PASS"
                ARGS check --gpu h100-sxm --model-map acme/unknown-13b=llama-2-13b ${DEPLOY_FIXTURES}/unknown_model.yaml)
kvplan_cli_test(check_no_gpu EXIT 2 MATCH "a vLLM config names no GPU: give --gpu"
                ARGS check ${EXAMPLES}/vllm/llama-3-8b.yaml)

# check: broken configs, one clear error each naming file:line:field, exit 2
kvplan_cli_test(check_unknown_model EXIT 2
                MATCH "unknown_model[.]yaml:2:8: field 'model': unknown model 'acme/unknown-13b'"
                ARGS check --gpu h100-sxm ${DEPLOY_FIXTURES}/unknown_model.yaml)
kvplan_cli_test(check_unknown_key EXIT 2
                MATCH "unknown_key[.]yaml:4:1: field 'max_model_length': unknown field [(]did you mean 'max_model_len'[?][)]"
                ARGS check ${DEPLOY_FIXTURES}/unknown_key.yaml)
kvplan_cli_test(check_vllm_unknown_key EXIT 2
                MATCH "vllm_unknown_key[.]yaml:2:1: field 'max-modle-len': unknown field [(]did you mean 'max-model-len'[?][)]"
                ARGS check --gpu h100-sxm ${DEPLOY_FIXTURES}/vllm_unknown_key.yaml)
kvplan_cli_test(check_negative_len EXIT 2 MATCH "negative_len[.]yaml:4:16: field 'max_model_len': count '-4096' is negative"
                ARGS check ${DEPLOY_FIXTURES}/negative_len.yaml)
kvplan_cli_test(check_negative_workload EXIT 2 MATCH "negative_workload[.]yaml:6:5: field 'workloads': scenario '-2x500'"
                ARGS check ${DEPLOY_FIXTURES}/negative_workload.yaml)
kvplan_cli_test(check_too_long EXIT 2
                MATCH "too_long[.]yaml:3:16: field 'max-model-len': 8192 exceeds llama-2-70b's max_position_embeddings [(]4096[)]"
                ARGS check --gpu h100-sxm ${DEPLOY_FIXTURES}/too_long.yaml)
kvplan_cli_test(check_bad_tp EXIT 2 MATCH "bad_tp[.]yaml:4:23: field 'tensor_parallel_size': Total number of attention heads"
                ARGS check ${DEPLOY_FIXTURES}/bad_tp.yaml)
kvplan_cli_test(check_wrong_share EXIT 2 MATCH "wrong_share[.]yaml:5:25: field 'gpu_memory_utilization': is vLLM's option"
                ARGS check ${DEPLOY_FIXTURES}/wrong_share.yaml)
kvplan_cli_test(check_future_version EXIT 2
                MATCH "future_version[.]yaml:5:17: field 'engine_version': --engine-version '0[.]6[.]0': newer than the rules kvplan documents"
                ARGS check ${DEPLOY_FIXTURES}/future_version.yaml)
# An invalid file makes the whole run exit 2, even when the others pass; each file gets its verdict.
kvplan_cli_test(check_mixed EXIT 2 MATCH "PASS .*chat-70b-tp4[.]yaml"
                ARGS check ${DEPLOY_FIXTURES}/unknown_key.yaml ${EXAMPLES}/deploy/chat-70b-tp4.yaml)
kvplan_cli_test(check_missing_file EXIT 2 MATCH "nope[.]yaml: no such file" ARGS check ./nope.yaml)
kvplan_cli_test(check_bad_margin EXIT 2 MATCH "--margin: must be below 100%" ARGS check --margin 100% ./nope.yaml)
# Try lines (issue 12, Deliver 6): each computed by planning again with one change.
kvplan_cli_test(fit_try_tight EXIT 0 MATCH "Tight: less than a tenth of the blocks stays free[.]"
                ARGS fit --model llama-3.1-8b --gpu h100-sxm --engine vllm 45x9000)
kvplan_cli_test(fit_try_tight_seqs EXIT 0 MATCH "^  --max-num-seqs 45 +a smaller profile run: fits$"
                ARGS fit --model llama-3.1-8b --gpu h100-sxm --engine vllm 45x9000)
kvplan_cli_test(fit_try_refused EXIT 1 MATCH "^  --max-model-len 656 +not enough: 64x8192 is longer than max-model-len$"
                ARGS fit --model llama-3-70b --gpu h100-sxm --engine vllm --engine-version 0.15.0 --tp 2 64x8192)
kvplan_cli_test(fit_try_fewest_gpus EXIT 1 MATCH "^  --tensor-parallel-size 8 +fits on 8 GPUs$"
                ARGS fit --model llama-3-70b --gpu h100-sxm --engine vllm --tp 2 64x8192)
kvplan_cli_test(fit_try_none EXIT 0 NOMATCH "Try [(]" MATCH "Every workload fits"
                ARGS fit --model llama-3.1-8b --gpu h100-sxm --engine vllm 32x500)
kvplan_cli_test(check_try EXIT 1 MATCH "^  try --tensor-parallel-size 4: fits on 4 GPUs$"
                ARGS check ${EXAMPLES}/deploy/chat-70b-tp2.yaml)
# SGLang's share starts from its own default for the GPU (0.83 on an H100 in v0.5.18), not 0.88:
# the smallest share that serves 3x131072 with a tenth free is 0.88 (tight at 0.83).
kvplan_cli_test(fit_try_sglang_share EXIT 0 MATCH "--mem-fraction-static 0[.]88 +fits"
  ARGS fit --engine sglang --model llama-3.1-8b --gpu h100-sxm 3x131072)
kvplan_cli_test(check_trtllm_backend_wrong_engine EXIT 2
                MATCH "trtllm_backend_on_vllm[.]yaml:5:17: field 'trtllm_backend': it is TensorRT-LLM's setting"
                ARGS check ${DEPLOY_FIXTURES}/trtllm_backend_on_vllm.yaml)
kvplan_cli_test(check_trtllm_tensorrt EXIT 0
                MATCH "TensorRT-LLM 1[.]1[.]0, tensorrt runtime"
                ARGS check --format json ${DEPLOY_FIXTURES}/trtllm_tensorrt.yaml)
kvplan_cli_test(check_vllm_sampler_wrong_engine EXIT 2
                MATCH "vllm_sampler_on_sglang[.]yaml:5:15: field 'vllm_sampler': it is vLLM's setting"
                ARGS check ${DEPLOY_FIXTURES}/vllm_sampler_on_sglang.yaml)
kvplan_cli_test(check_vllm_sampler_sort EXIT 0
                MATCH "x 38 B [(]PyTorch sort top-k/top-p: given"
                ARGS check --format json ${DEPLOY_FIXTURES}/vllm_sampler_sort.yaml)
# Prefix caching: the saving said in one line (1,000 shared tokens: 62 blocks held once, not 16 times).
kvplan_cli_test(deploy_prefix_saving EXIT 0
                MATCH "16x2000: the shared prefix [(]1,000 tokens[)] is held once: 1,070 blocks instead of 2,000, saving 930 blocks [(]1[.]82 GiB[)]"
                ARGS fit --engine vllm --model llama-3-8b --gpu h100-sxm --shared-prefix 1000 16x2000)
