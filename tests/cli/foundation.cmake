# The command line as users type it. Exit codes: 0 fits/ok, 1 does not fit, 2 bad input.

# The main job on its defaults.
kvplan_cli_test(default_fit EXIT 0 MATCH "32x500 and 1x16000 hold the same 16,000 tokens" ARGS)
kvplan_cli_test(help EXIT 0 MATCH "Exit codes: 0 fits" ARGS --help)
kvplan_cli_test(version EXIT 0 MATCH "kvplan [0-9]+[.][0-9]+" ARGS --version)

# size
kvplan_cli_test(size_llama2_7b_4096 EXIT 0 MATCH "reserved +2,147,483,648 B [(]2[.]00 GiB[)]"
                ARGS size --model llama-2-7b --tokens 4096 --kv-cache-dtype fp16)
kvplan_cli_test(size_llama2_7b_per_token EXIT 0 MATCH "per token +524,288 B" ARGS size --model llama-2-7b)
kvplan_cli_test(size_llama2_70b EXIT 0 MATCH "per token +327,680 B" ARGS size -m llama-2-70b)
kvplan_cli_test(size_json EXIT 0 MATCH "\"bytes_reserved\": 2147483648"
                ARGS size --model llama-2-7b --tokens 4096 --format json)
kvplan_cli_test(size_batch_paged EXIT 0 MATCH "reserved +8,589,934,592 B"
                ARGS size --model llama-2-7b --tokens 1000 --batch 16 --policy paged --block-size 1024)
kvplan_cli_test(size_fp8 EXIT 0 MATCH "per token +262,144 B" ARGS size --model llama-2-7b --kv-cache-dtype fp8)
kvplan_cli_test(size_csv EXIT 0 MATCH "^first_layer,last_layer,layers,kind,kv_heads," ARGS size --model gpt2 --format csv)
kvplan_cli_test(size_markdown EXIT 0 MATCH "[|] 0-11 [(]×12[)] [|]" ARGS size --model gpt2 --format markdown)
kvplan_cli_test(size_per_layer EXIT 0 MATCH "^31 +full" ARGS size --model llama-2-7b --per-layer)

# fit
kvplan_cli_test(fit_explicit EXIT 0 MATCH "contiguous reserves max-model-len [(]131,072[)] slots for each of 32"
                ARGS fit --model qwen2.5-7b --gpu l40s 32x500 1x16000)
kvplan_cli_test(fit_contiguous_policy_fails EXIT 1 MATCH "Not every scenario fits under contiguous"
                ARGS fit --model qwen2.5-7b --gpu l40s --policy contiguous 32x500 1x16000)
kvplan_cli_test(fit_too_big EXIT 1 MATCH "no"
                ARGS fit --model llama-2-70b --gpu l4 1x100)
kvplan_cli_test(fit_gpu_memory EXIT 0 MATCH "a GPU with 80GiB"
                ARGS fit --model llama-2-7b --gpu-memory 80GiB 8x4096)
kvplan_cli_test(fit_json EXIT 0 MATCH "\"all_fit\": true" ARGS fit --model llama-2-7b --gpu h100-sxm --format json 4x1000)
kvplan_cli_test(fit_exceeds_context EXIT 1 MATCH "more than max-model-len 4,096"
                ARGS fit --model llama-2-7b --gpu h100-sxm 1x16000)

# explain
kvplan_cli_test(explain_70b EXIT 0 MATCH "80 full layers × 2 × 8 kv_heads × 128 head_dim × 2 B"
                ARGS explain --model llama-2-70b)
kvplan_cli_test(explain_70b_mha EXIT 0 MATCH "2,621,440 B per token [(]2[.]62 MB[)]" ARGS explain --model llama-2-70b)
kvplan_cli_test(explain_compute EXIT 0 MATCH "1 [+] 2 [+] … [+] 100 = 5,050" ARGS explain --model llama-2-7b --tokens 100)

# catalogs
kvplan_cli_test(models EXIT 0 MATCH "llama-2-7b +32 +32/32 +128 +4,096 +6.74B +fp16 +512.00 KiB" ARGS models)
kvplan_cli_test(gpus EXIT 0 MATCH "h100-sxm-80gb" ARGS gpus)
kvplan_cli_test(models_dir EXIT 0 MATCH "tiny-test +[0-9]+ " ARGS models --models-dir ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/models)

# bad input: one clear line, exit 2
kvplan_cli_test(unknown_model EXIT 2 MATCH "unknown model 'llama-2-7' [(]did you mean llama-2-7b" ARGS size --model llama-2-7)
kvplan_cli_test(unknown_gpu EXIT 2 MATCH "unknown GPU 'h10'" ARGS fit --model gpt2 --gpu h10 1x10)
kvplan_cli_test(bad_scenario EXIT 2 MATCH "scenario '32by500'" ARGS fit --model gpt2 32by500)
kvplan_cli_test(zero_scenario EXIT 2 MATCH "must be at least 1" ARGS fit --model gpt2 0x500)
kvplan_cli_test(negative_tokens EXIT 2 MATCH "is negative" ARGS size --model gpt2 --tokens -5)
kvplan_cli_test(overflow_tokens EXIT 2 MATCH "overflow" ARGS size --model llama-2-7b --tokens 99999999999999999)
kvplan_cli_test(overflow_batch EXIT 2 MATCH "overflow" ARGS size --model llama-3-70b --tokens 4000000000 --batch 4000000000)
kvplan_cli_test(bad_dtype EXIT 2 MATCH "unknown dtype 'fp12'" ARGS size --model gpt2 --kv-cache-dtype fp12)
kvplan_cli_test(bad_format EXIT 2 MATCH "unknown format 'xml'" ARGS models --format xml)
kvplan_cli_test(bad_size_unit EXIT 2 MATCH "unknown unit" ARGS fit --model gpt2 --gpu-memory 80G 1x10)
kvplan_cli_test(max_len_above_model EXIT 2 MATCH "exceeds llama-2-7b's max_position_embeddings"
                ARGS fit --model llama-2-7b --gpu h100-sxm --max-model-len 8192 1x10)
kvplan_cli_test(malformed_yaml EXIT 2 MATCH "broken[.]yaml:[0-9]+:[0-9]+: YAML syntax error"
                ARGS size --model ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/bad/broken.yaml)
kvplan_cli_test(missing_field EXIT 2 MATCH "missing_layers[.]yaml:[0-9]+:[0-9]+: field 'num_hidden_layers': required"
                ARGS size --model ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/bad/missing_layers.yaml)
kvplan_cli_test(missing_file EXIT 2 MATCH "nope[.]yaml: no such file" ARGS size --model ./nope.yaml)
kvplan_cli_test(unknown_option EXIT 2 MATCH "--frobnicate" ARGS size --model gpt2 --frobnicate)
# pow2 never reserves past max-model-len: 3,000 tokens with max-model-len 3,500 reserve 3,500 (not 4,096).
kvplan_cli_test(size_pow2_capped EXIT 0 MATCH "reserved +1,835,008,000 B"
  ARGS size --model llama-2-7b --tokens 3000 --policy pow2 --max-model-len 3500)
# A family name that several cards share is an error listing them (exit 2), never a silent pick.
kvplan_cli_test(gpu_family_refused EXIT 2
                MATCH "GPU 'h100' matches several cards: h100-sxm-80gb [(]NVIDIA H100 SXM5 80GB[)], h100-pcie-80gb"
                ARGS fit --model llama-2-7b --gpu h100)
# TSV: the CSV's records, tab-separated.
kvplan_cli_test(size_tsv EXIT 0 MATCH "^first_layer\tlast_layer\tlayers\tkind" ARGS size --model gpt2 --format tsv)
# max --target: the answer is in the CSV's records (it used to be left out).
kvplan_cli_test(max_csv_target EXIT 0 MATCH ",64x8192,true,2,2"
                ARGS max --model llama-3.1-8b --gpu h100-sxm --engine vllm --target 64x8192 --format csv)
# Colour: verdicts in colour with --color always; never with --color never, in a pipe (auto) or
# under NO_COLOR; the verdict leads the output.
# (No unbalanced "[" in these patterns: CMake would join the arguments after it into one.)
kvplan_cli_test(color_always EXIT 0 MATCH "^..32mFits: every scenario fits [(]paged[)]" ARGS fit --color always)
kvplan_cli_test(color_never EXIT 0 MATCH "^Fits: every scenario fits" NOMATCH "(3[123]|0)m" ARGS fit --color never)
kvplan_cli_test(color_auto_pipe EXIT 1 MATCH "^Does not fit: 1x131072 needs" NOMATCH "(3[123]|0)m"
                ARGS fit --model llama-3.1-8b --gpu l4 1x131072)
kvplan_cli_test(color_bad EXIT 2 MATCH "--color: expected auto, always or never, got 'sometimes'"
                ARGS fit --color sometimes)
# On a terminal (script(1) gives it one) auto colours, and NO_COLOR turns it off.
add_test(NAME cli.color_no_color_env
         COMMAND bash -c "tty=$(script -qec '$<TARGET_FILE:kvplan> fit' /dev/null); \
off=$(NO_COLOR=1 script -qec '$<TARGET_FILE:kvplan> fit' /dev/null); printf '%s\\n' \"$off\"; \
printf '%s' \"$tty\" | grep -q $'\\x1b\\[32m' && ! printf '%s' \"$off\" | grep -q $'\\x1b\\[32m'")
set_tests_properties(cli.color_no_color_env PROPERTIES LABELS cli)
