# GGUF input: --model file.gguf in every command. The files are written by kvplan_make_gguf
# (tests/tools/make_gguf.cpp) into the build tree before these tests run.
function(kvplan_gguf_test name)
  kvplan_cli_test(${name} ${ARGN})
  set_tests_properties(cli.${name} PROPERTIES FIXTURES_REQUIRED gguf_files)
endfunction()
set(G ${KVPLAN_GGUF_DIR})

# llama: 4 layers x 2 (K, V) x 2 KV heads x 64 x 2 B (f16) = 2,048 B per token.
kvplan_gguf_test(gguf_size_llama EXIT 0 MATCH "per token +2,048 B" ARGS size --model ${G}/tiny-llama.gguf)
kvplan_gguf_test(gguf_size_llama_v2 EXIT 0 MATCH "per token +2,048 B" ARGS size --model ${G}/tiny-llama-v2.gguf)
# qwen3: key_length 128 with 8 heads in a 256-wide model: 3 x 2 x 2 x 128 x 2 B = 3,072 B.
kvplan_gguf_test(gguf_size_qwen3 EXIT 0 MATCH "per token +3,072 B" ARGS size -m ${G}/tiny-qwen3.gguf)
# gemma3: layers 0-4 and 6-7 slide over 512 tokens, layer 5 is global.
kvplan_gguf_test(gguf_size_gemma3_pattern EXIT 0 MATCH "5 +full +1,024 +1,000 +1000.00 KiB +1 × 256"
                 ARGS size --model ${G}/tiny-gemma3.gguf --per-layer --tokens 1000)
kvplan_gguf_test(gguf_size_gemma2_pattern EXIT 0 MATCH "1 +full .* 2 × 64"
                 ARGS size --model ${G}/tiny-gemma2.gguf --per-layer)
# deci: KV heads 2, 0, 1, 4, 0: (2 + 1 + 4) x 64 x 2 x 2 B = 1,792 B; two layers keep nothing.
kvplan_gguf_test(gguf_size_deci EXIT 0 MATCH "per token +1,792 B" ARGS size --model ${G}/tiny-deci.gguf)
kvplan_gguf_test(gguf_size_deci_none EXIT 0 MATCH "4 +none" ARGS size --model ${G}/tiny-deci.gguf --per-layer)
# Weights are the file's own tensor bytes: 2,885,632 B for tiny-llama (see test_gguf.cpp).
kvplan_gguf_test(gguf_fit_weights EXIT 0 MATCH "weights +2[.]75 MiB [(]2,623,744 params × as stored in the file[)]"
                 ARGS fit --model ${G}/tiny-llama.gguf --gpu rtx-4090 1x4000)
kvplan_gguf_test(gguf_fit_json EXIT 0 MATCH "\"bytes\": 2885632"
                 ARGS fit --model ${G}/tiny-llama.gguf --gpu rtx-4090 1x4000 --format json)
kvplan_gguf_test(gguf_explain EXIT 0 MATCH "2,048" ARGS explain --model ${G}/tiny-llama.gguf)

# Broken files: one line naming the file, the byte offset and the field; exit 2.
kvplan_gguf_test(gguf_bad_magic EXIT 2 MATCH "bad-magic[.]gguf: byte 0: field 'magic': not a GGUF file"
                 ARGS size --model ${G}/bad-magic.gguf)
kvplan_gguf_test(gguf_truncated EXIT 2 MATCH "truncated[.]gguf: byte 8: field 'tensor_count'"
                 ARGS size --model ${G}/truncated.gguf)
kvplan_gguf_test(gguf_huge_string EXIT 2 MATCH "huge-string[.]gguf: byte 56: field 'general[.]name': needs"
                 ARGS fit --model ${G}/huge-string.gguf)
kvplan_gguf_test(gguf_unknown_arch EXIT 2 MATCH "architecture 'mamba' is not mapped"
                 ARGS size --model ${G}/unknown-arch.gguf)
kvplan_gguf_test(gguf_missing EXIT 2 MATCH "no-such[.]gguf: no such file" ARGS size --model ${G}/no-such.gguf)
# The deployment planner (issue 4) prices a GGUF file's weights from its tensors too.
kvplan_gguf_test(gguf_planner_weights EXIT 0 MATCH "weights +2[.]75 MiB +2,885,632 +exact, the model file's tensors"
                 ARGS fit --engine vllm --model ${G}/tiny-llama.gguf --gpu rtx-4090 1x1000)
kvplan_gguf_test(gguf_max EXIT 0 MATCH "2,048 B per token" ARGS max --model ${G}/tiny-llama.gguf --gpu rtx-4090)

# A Hugging Face folder (config.json + model.safetensors, written by kvplan_make_gguf): weights are
# the tensors' bytes (106,816 bf16 parameters, 213,632 B), in the default fit and the planner alike.
kvplan_gguf_test(hf_dir_fit EXIT 0 MATCH "weights +208[.]62 KiB [(]106,816 params × as stored in the file[)]"
                 ARGS fit --model ${G}/hf-tiny-llama --gpu l4 4x1000)
kvplan_gguf_test(hf_dir_planner EXIT 0 MATCH "exact, the model file's tensors"
                 ARGS fit --engine vllm --model ${G}/hf-tiny-llama --gpu l4 4x1000)
kvplan_gguf_test(hf_shard_alone EXIT 2 MATCH "a safetensors shard says nothing of the architecture: give the folder"
                 ARGS size --model ${G}/hf-tiny-llama/model.safetensors)
kvplan_cli_test(hf_id_not_cached EXIT 2
                MATCH "'nobody/absent-model' is neither a file or folder here nor a model in the local Hugging Face cache"
                ARGS size --model nobody/absent-model)
