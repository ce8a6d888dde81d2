# kvplan import, --model path/to/config.json, the engine rules `size` shows, and broken configs.
set(HF ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/hf)
set(HF_BAD ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/hf_bad)

kvplan_cli_test(import_stdout EXIT 0 MATCH "num_key_value_heads: 8"
                ARGS import ${HF}/llama-3.1-8b.config.json)
kvplan_cli_test(import_gemma3_layers EXIT 0 MATCH "sliding_attention, full_attention"
                ARGS import ${HF}/gemma-3-27b.config.json)
kvplan_cli_test(import_jamba_mamba EXIT 0 MATCH "mamba:"
                ARGS import ${HF}/jamba-v0.1.config.json --name jamba)
kvplan_cli_test(import_output_file EXIT 0 MATCH "wrote .*imported-deepseek[.]yaml [(]model 'deepseek-v3', 61 layers[)]"
                ARGS import ${HF}/deepseek-v3.config.json -o ${CMAKE_CURRENT_BINARY_DIR}/imported-deepseek.yaml --name deepseek-v3)
kvplan_cli_test(import_name EXIT 0 MATCH "^name: my-model$" ARGS import ${HF}/gpt2.config.json --name my-model)

# --model with a config.json works in every command.
kvplan_cli_test(model_json_size EXIT 0 MATCH "per token +70,272 B" ARGS size --model ${HF}/deepseek-v3.config.json)
kvplan_cli_test(model_json_explain EXIT 0 MATCH "61 MLA layers" ARGS explain --model ${HF}/deepseek-v3.config.json)
kvplan_cli_test(model_json_fit EXIT 0 MATCH "All scenarios fit"
                ARGS fit --model ${HF}/llama-3.1-8b.config.json --gpu h100-sxm 4x1000)

# Acceptance: Mistral-7B-v0.1 at 32,768 tokens, the window caps every layer; both engines' rules shown.
kvplan_cli_test(mistral_window_exact EXIT 0 MATCH "exact +536,870,912 B"
                ARGS size --model mistral-7b-v0.1 --tokens 32768)
kvplan_cli_test(mistral_window_vllm EXIT 0
                MATCH "32 × sliding 4,096 layer[(]s[)]: cdiv[(]min[(]4,096 - 1 [+] 2,048, 32,768[)], 16[)] [+] 1 = 385 blocks"
                ARGS size --model mistral-7b-v0.1 --tokens 32768)
kvplan_cli_test(mistral_window_llamacpp EXIT 0 MATCH "kv_swa +4,608 cells × 1 stream[(]s[)] × 32 layers"
                ARGS size --model mistral-7b-v0.1 --tokens 32768)
kvplan_cli_test(mistral_window_json EXIT 0 MATCH "\"cells\": 4608"
                ARGS size --model mistral-7b-v0.1 --tokens 32768 --format json)
kvplan_cli_test(gemma3_swa_full EXIT 0 MATCH "kv_swa +131,072 cells"
                ARGS size --model gemma-3-27b --tokens 131072 --swa-full)
kvplan_cli_test(llamacpp_q8_0 EXIT 0 MATCH "llama.cpp +570,425,344 B"
                ARGS size --model llama-3-8b --tokens 8192 --cache-type-k q8_0 --cache-type-v q8_0)
kvplan_cli_test(llamacpp_no_fp8 EXIT 0 MATCH "llama.cpp +n/a: -ctk: llama.cpp has no cache type 'fp8_e4m3'"
                ARGS size --model llama-3-8b --tokens 8192 --kv-cache-dtype fp8)
kvplan_cli_test(mamba_state_dtype EXIT 0 MATCH "holds a Mamba state of 622,592 B"
                ARGS size --model jamba-v0.1 --tokens 100 --mamba-cache-dtype fp32)

# Broken config.json: one clear line, exit 2.
kvplan_cli_test(import_missing_field EXIT 2
                MATCH "missing_field[.]config[.]json:1:1: missing field[(]s[)] num_attention_heads, max_position_embeddings [(]a llama config needs: hidden_size"
                ARGS import ${HF_BAD}/missing_field.config.json)
kvplan_cli_test(import_unknown_arch EXIT 2
                MATCH "unknown_arch[.]config[.]json:3:3: field 'model_type': unsupported architecture 'bloom' [(]kvplan imports llama"
                ARGS import ${HF_BAD}/unknown_arch.config.json)
kvplan_cli_test(import_bad_json EXIT 2 MATCH "bad_json[.]config[.]json:5:23: JSON syntax error"
                ARGS import ${HF_BAD}/bad_json.config.json)
kvplan_cli_test(import_negative EXIT 2
                MATCH "negative[.]config[.]json:6:3: field 'num_key_value_heads': must not be negative [(]got -8[)]"
                ARGS size --model ${HF_BAD}/negative.config.json)
kvplan_cli_test(import_missing_file EXIT 2 MATCH "nope[.]config[.]json: no such file" ARGS import ./nope.config.json)
kvplan_cli_test(import_no_arg EXIT 2 MATCH "config is required" ARGS import)
kvplan_cli_test(explain_mla_shortcut EXIT 0 MATCH "instead of the MLA latent: 4,997,120 B per token"
                ARGS explain --model deepseek-v3)
# import writes YAML only: a JSON request is refused, not silently answered in YAML.
kvplan_cli_test(import_format_json_refused EXIT 2 MATCH "--format json: import writes a YAML model spec"
  ARGS import ${HF}/llama-3.1-8b.config.json --format json)
