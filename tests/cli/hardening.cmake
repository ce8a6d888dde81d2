# Issue 7 hardening: absurd and hostile inputs through every command, each refused with one line
# and exit 2 (overflow reported, never wrapped), in bounded memory and time. The rows of the table
# in docs/reliability.md name these tests.
set(HF_FIXTURES ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/hf)

# --tokens / --batch / scenario / --context overflow in every command that takes them.
kvplan_cli_test(overflow_explain_tokens EXIT 2 MATCH "--tokens: arithmetic overflow"
                ARGS explain -m gpt2 --tokens 99999999999999999999)
kvplan_cli_test(overflow_explain_bytes EXIT 2 MATCH "arithmetic overflow computing bytes per sequence"
                ARGS explain -m llama-2-7b --tokens 18446744073709551615)
kvplan_cli_test(overflow_size_batch_parse EXIT 2 MATCH "--batch: arithmetic overflow"
                ARGS size -m gpt2 --batch 99999999999999999999)
kvplan_cli_test(overflow_max_context EXIT 2 MATCH "--context: arithmetic overflow"
                ARGS max -m llama-2-7b --gpu h100-sxm --context 99999999999999999999)
kvplan_cli_test(overflow_max_target EXIT 2 MATCH "scenario '18446744073709551615x4096': arithmetic overflow"
                ARGS max -m llama-2-7b --gpu h100-sxm --target 18446744073709551615x4096)
kvplan_cli_test(overflow_fit_scenario EXIT 2 MATCH "scenario '4x4000[+]18446744073709551615': arithmetic overflow"
                ARGS fit -m llama-2-7b --gpu h100-sxm 4x4000+18446744073709551615)
kvplan_cli_test(overflow_fit_vllm_scenario EXIT 2 MATCH "scenario '18446744073709551615x4000': arithmetic overflow"
                ARGS fit -m llama-2-7b --gpu h100-sxm --engine vllm 18446744073709551615x4000)
kvplan_cli_test(overflow_probe_scenario EXIT 2 MATCH "scenario '18446744073709551615x10': arithmetic overflow"
                ARGS probe -m gpt2 --backend host 18446744073709551615x10)
kvplan_cli_test(overflow_check_workload EXIT 2 MATCH "scenario '18446744073709551615x4000': arithmetic overflow"
                ARGS check --gpu h100-sxm --workload 18446744073709551615x4000 ${CMAKE_SOURCE_DIR}/examples/vllm/llama-3-8b.yaml)
kvplan_cli_test(overflow_simulate_requests EXIT 2 MATCH "--requests: arithmetic overflow"
                ARGS simulate -m gpt2 --synthetic sharegpt --requests 99999999999999999999)
# The longest context for 2^64-1 sequences is a plain answer, not an error.
kvplan_cli_test(max_batch_absurd EXIT 0 MATCH "Longest context for 18,446,744,073,709,551,615 sequence[(]s[)]: none fits"
                ARGS max -m llama-2-7b --gpu h100-sxm --batch 18446744073709551615)

# --max-memory in probe: digits past 64 bits, a size past 64 bits, a unit kvplan does not know.
kvplan_cli_test(probe_max_memory_overflow EXIT 2 MATCH "--max-memory: arithmetic overflow computing a number"
                ARGS probe -m gpt2 --backend host --max-memory 99999999999999999999 1x10)
kvplan_cli_test(probe_max_memory_size_overflow EXIT 2 MATCH "--max-memory: arithmetic overflow computing a size"
                ARGS probe -m gpt2 --backend host --max-memory 17179869184GiB 1x10)
kvplan_cli_test(probe_max_memory_unit EXIT 2 MATCH "--max-memory: size '16EiB' has an unknown unit [(]use B, KB"
                ARGS probe -m gpt2 --backend host --max-memory 16EiB 1x10)
kvplan_cli_test(probe_max_memory_zero EXIT 2 MATCH "--max-memory must be greater than zero"
                ARGS probe -m gpt2 --backend host --max-memory 0 1x10)

# More scenarios than one run takes (a probe of 10^5 scenarios ran for ten minutes).
add_test(NAME cli.limit_scenarios_fit
         COMMAND bash -c "bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 '^kvplan: error: 1001 scenarios: kvplan takes at most 1000 in one run' '' \
$<TARGET_FILE:kvplan> fit -m gpt2 --gpu h100-sxm $(yes 1x10 | head -n 1001 | tr '\\n' ' ')")
add_test(NAME cli.limit_scenarios_probe
         COMMAND bash -c "bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 '1001 scenarios: kvplan takes at most 1000' '' \
$<TARGET_FILE:kvplan> probe -m gpt2 --backend host $(yes 1x10 | head -n 1001 | tr '\\n' ' ')")
add_test(NAME cli.limit_workload_groups
         COMMAND bash -c "bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 '1001 groups in workload .1x10,1x10,.*: kvplan takes at most 1000' '' \
$<TARGET_FILE:kvplan> max -m gpt2 --gpu h100-sxm --target $(yes 1x10 | head -n 1001 | paste -sd,)")
set_tests_properties(cli.limit_scenarios_fit cli.limit_scenarios_probe cli.limit_workload_groups PROPERTIES LABELS cli)

# Nesting: a config.json of 10^6 '[' and a spec of 10^5 flow levels are refused before parsing
# (JSON) or at yaml-cpp's depth guard (YAML), with the position.
add_test(NAME cli.limit_json_depth
         COMMAND bash -c "d=$(mktemp -d) && head -c 1000000 /dev/zero | tr '\\0' '[' > \"$d/deep.config.json\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'deep[.]config[.]json:1:65: arrays and objects nest more than 64 levels deep' '' \
$<TARGET_FILE:kvplan> import \"$d/deep.config.json\"; rc=$?; rm -rf \"$d\"; exit $rc")
add_test(NAME cli.limit_yaml_depth
         COMMAND bash -c "d=$(mktemp -d) && { echo 'name: deep'; printf 'layers: '; head -c 100000 /dev/zero | tr '\\0' '['; echo; } > \"$d/deep.yaml\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'deep[.]yaml:[0-9]+:[0-9]+: YAML nests too deeply' '' \
$<TARGET_FILE:kvplan> size --model \"$d/deep.yaml\"; rc=$?; rm -rf \"$d\"; exit $rc")
add_test(NAME cli.limit_trace_json_depth
         COMMAND bash -c "d=$(mktemp -d) && { printf '{\"arrival\": '; head -c 100000 /dev/zero | tr '\\0' '['; echo; } > \"$d/deep.jsonl\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'deep[.]jsonl:1:76: arrays and objects nest more than 64 levels deep' '' \
$<TARGET_FILE:kvplan> simulate -m gpt2 --trace \"$d/deep.jsonl\"; rc=$?; rm -rf \"$d\"; exit $rc")
# A number beyond a double (fuzz finding: nlohmann's out_of_range escaped and aborted).
add_test(NAME cli.trace_number_beyond_double
         COMMAND bash -c "d=$(mktemp -d) && echo '{\"arrival\": 0, \"prompt_tokens\": 9E4444, \"output_tokens\": 1}' > \"$d/big.jsonl\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'big[.]jsonl:1:33: not valid JSON: a number beyond the range of a double' '' \
$<TARGET_FILE:kvplan> simulate -m gpt2 --trace \"$d/big.jsonl\"; rc=$?; rm -rf \"$d\"; exit $rc")
add_test(NAME cli.import_number_beyond_double
         COMMAND bash -c "d=$(mktemp -d) && printf '{\\n  \"model_type\": \"llama\",\\n  \"hidden_size\": 1e999\\n}\\n' > \"$d/big.config.json\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'big[.]config[.]json:3:18: JSON syntax error: a number beyond the range of a double' '' \
$<TARGET_FILE:kvplan> import \"$d/big.config.json\"; rc=$?; rm -rf \"$d\"; exit $rc")
set_tests_properties(cli.limit_json_depth cli.limit_yaml_depth cli.limit_trace_json_depth cli.trace_number_beyond_double
                     cli.import_number_beyond_double PROPERTIES LABELS cli)

# A finite --rate whose requests per step overflow a double: said so, not "must be positive".
kvplan_cli_test(simulate_rate_too_high EXIT 2 MATCH "--rate is too high: requests per step"
                ARGS simulate -m gpt2 --synthetic sharegpt --requests 10 --rate 1e308 --step-ms 20)

# Dense YAML above 1 MiB (a 16 MiB one took 3.9 GB in yaml-cpp) is refused by its size.
add_test(NAME cli.limit_yaml_dense
         COMMAND bash -c "d=$(mktemp -d) && { echo 'name: dense'; printf 'layers: ['; yes 1, | head -n 600000 | tr -d '\\n'; echo 1]; } > \"$d/dense.yaml\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'dense[.]yaml: is [0-9]+ bytes of YAML, more than the 1048576 kvplan reads' '' \
$<TARGET_FILE:kvplan> size --model \"$d/dense.yaml\"; rc=$?; rm -rf \"$d\"; exit $rc")
set_tests_properties(cli.limit_yaml_dense PROPERTIES LABELS cli)

# Fuzz finding: a YAML '?' complex key aborted kvplan (yaml-cpp's BadConversion escaped).
add_test(NAME cli.yaml_complex_key
         COMMAND bash -c "d=$(mktemp -d) && printf 'name: x\\n? [a, b]\\n: 1\\n' > \"$d/key.yaml\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'key[.]yaml:2:3: a key must be a plain name [(]found a list' '' \
$<TARGET_FILE:kvplan> size --model \"$d/key.yaml\"; rc=$?; rm -rf \"$d\"; exit $rc")
set_tests_properties(cli.yaml_complex_key PROPERTIES LABELS cli)
