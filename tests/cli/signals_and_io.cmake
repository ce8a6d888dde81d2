# Hardening II (issue 14): signals, write errors, blocking inputs and control bytes in messages.

# A write error on standard output is an error (exit 2, one line), not a silent success.
add_test(NAME cli.stdout_write_error
         COMMAND bash -c "out=$($<TARGET_FILE:kvplan> models 2>&1 >/dev/full); rc=$?; printf '%s\\n' \"$out\"; \
[ $rc -eq 2 ] && printf '%s\\n' \"$out\" | grep -q 'writing standard output failed: No space left on device'")

# A FIFO as --model, import's config or --trace is refused at once, never read (it would block).
foreach(what IN ITEMS model import trace)
  if(what STREQUAL "model")
    set(cmd "size --model")
  elseif(what STREQUAL "import")
    set(cmd "import")
  else()
    set(cmd "simulate --model gpt2 --trace")
  endif()
  add_test(NAME cli.fifo_${what}
           COMMAND bash -c "d=$(mktemp -d) && mkfifo \"$d/in.csv\" && \
out=$(timeout 10 $<TARGET_FILE:kvplan> ${cmd} \"$d/in.csv\" 2>&1); rc=$?; rm -rf \"$d\"; printf '%s\\n' \"$out\"; \
[ $rc -eq 2 ] && printf '%s\\n' \"$out\" | grep -q 'is a FIFO, not a regular file'")
endforeach()

# SIGTERM and SIGINT stop a long simulate between steps: one line, exit 143 / 130, well before it
# would finish (500,000 requests take about 3 s in the release build).
foreach(sig IN ITEMS TERM INT)
  if(sig STREQUAL "TERM")
    set(code 143)
  else()
    set(code 130)
  endif()
  add_test(NAME cli.simulate_sig${sig}
           COMMAND bash -c "d=$(mktemp -d); $<TARGET_FILE:kvplan> simulate --model llama-2-7b --kv-cache-memory 2GiB \
--synthetic sharegpt --requests 500000 --rate 50 >/dev/null 2>\"$d/err\" & pid=$!; \
for i in $(seq 100); do sleep 0.1; grep -q . /proc/$pid/status 2>/dev/null || break; [ $i -eq 10 ] && kill -${sig} $pid; done; \
wait $pid; rc=$?; err=$(cat \"$d/err\"); rm -rf \"$d\"; printf '%s\\n' \"$err\"; \
[ $rc -eq ${code} ] && [ \"$err\" = 'kvplan: interrupted by SIG${sig}' ]")
endforeach()

# Control bytes from input are escaped: the message stays one line and moves no cursor.
add_test(NAME cli.message_control_bytes
         COMMAND bash -c "out=$($<TARGET_FILE:kvplan> fit $'1x10\\x1b[31m\\nNEXT' 2>&1); rc=$?; printf '%s\\n' \"$out\"; \
[ $rc -eq 2 ] && [ $(printf '%s\\n' \"$out\" | wc -l) -eq 1 ] && printf '%s\\n' \"$out\" | grep -qF '1x10\\x1b[31m\\x0aNEXT'")
set_tests_properties(cli.stdout_write_error cli.fifo_model cli.fifo_import cli.fifo_trace cli.simulate_sigTERM
                     cli.simulate_sigINT cli.message_control_bytes PROPERTIES LABELS cli)

# Duplicate keys are refused at the second one, in YAML specs, deploy configs and config.json.
add_test(NAME cli.duplicate_key_spec
         COMMAND bash -c "d=$(mktemp -d) && printf 'name: a\\nnum_hidden_layers: 2\\nnum_hidden_layers: 3\\n' > \"$d/dup.yaml\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'dup[.]yaml:3:1: field .num_hidden_layers.: duplicate key [(]first at line 2[)]' '' \
$<TARGET_FILE:kvplan> size --model \"$d/dup.yaml\"; rc=$?; rm -rf \"$d\"; exit $rc")
add_test(NAME cli.duplicate_key_deploy
         COMMAND bash -c "d=$(mktemp -d) && printf 'kvplan: deploy/v1\\nname: a\\nname: b\\nmodel: llama-3-8b\\ngpu: h100-sxm\\nengine: vllm\\nworkloads:\\n  - 1x100\\n' > \"$d/dup.yaml\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'dup[.]yaml:3:1: field .name.: duplicate key [(]first at line 2[)]' '' \
$<TARGET_FILE:kvplan> check \"$d/dup.yaml\"; rc=$?; rm -rf \"$d\"; exit $rc")
add_test(NAME cli.duplicate_key_config_json
         COMMAND bash -c "d=$(mktemp -d) && printf '{\\n  \"model_type\": \"llama\",\\n  \"hidden_size\": 4096,\\n  \"hidden_size\": 2048\\n}\\n' > \"$d/config.json\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'config[.]json:4:3: field .hidden_size.: duplicate key' '' \
$<TARGET_FILE:kvplan> import \"$d/config.json\"; rc=$?; rm -rf \"$d\"; exit $rc")
set_tests_properties(cli.duplicate_key_spec cli.duplicate_key_deploy cli.duplicate_key_config_json PROPERTIES LABELS cli)

# Options are checked even where unused, and refused where nothing uses them; a seed cannot wrap.
kvplan_cli_test(max_tp_negative EXIT 2 MATCH "--max-tp"
  ARGS max --model llama-3-8b --max-tp -1)
kvplan_cli_test(max_tp_without_target EXIT 2 MATCH "--max-tp bounds the search of --target; without --target nothing uses it"
  ARGS max --model llama-3-8b --max-tp 8)
kvplan_cli_test(simulate_seed_negative EXIT 2 MATCH "--seed"
  ARGS simulate --model gpt2 --gpu l4 --synthetic fixed --requests 10 --seed -1)
kvplan_cli_test(probe_seed_negative EXIT 2 MATCH "--seed"
  ARGS probe --backend host --model gpt2 --churn-requests 5 --seed -1)

# A deploy config under 1 MiB whose YAML aliases repeat a 1,000-group workload 140,000 times ran
# past 60 s at 9.9 GB: the groups are counted over all workloads and refused past 1,000 (60,000
# aliases here, under the YAML node budget; 140,000 are refused by that budget first, next test).
add_test(NAME cli.deploy_alias_bomb
         COMMAND bash -c "d=$(mktemp -d) && { printf 'kvplan: deploy/v1\\nname: bomb\\nmodel: llama-3-8b\\ngpu: h100-sxm\\nengine: vllm\\nworkloads:\\n  - &w \"'; \
for i in $(seq 999); do printf '1x10,'; done; printf '1x10\"\\n'; yes '  - *w' | head -n 60000; } > \"$d/bomb.yaml\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'bomb[.]yaml:[0-9]+:[0-9]+: field .workloads.: more than 1000 scenario groups in all' '' \
timeout 20 $<TARGET_FILE:kvplan> check \"$d/bomb.yaml\"; rc=$?; rm -rf \"$d\"; exit $rc")
set_tests_properties(cli.deploy_alias_bomb PROPERTIES LABELS cli)
add_test(NAME cli.yaml_node_budget
         COMMAND bash -c "d=$(mktemp -d) && { printf 'kvplan: deploy/v1\\nname: bomb\\nmodel: llama-3-8b\\ngpu: h100-sxm\\nengine: vllm\\nworkloads:\\n  - &w 1x10\\n'; \
yes '  - *w' | head -n 140000; } > \"$d/bomb.yaml\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'bomb[.]yaml:65530:5: more than 65536 YAML nodes' '' \
timeout 20 $<TARGET_FILE:kvplan> check \"$d/bomb.yaml\"; rc=$?; rm -rf \"$d\"; exit $rc")
set_tests_properties(cli.yaml_node_budget PROPERTIES LABELS cli)

# A wrongly typed value names its place once (the prefix came twice: "f:5:9: field 'engine': f:5:9: ...").
add_test(NAME cli.message_prefix_once
         COMMAND bash -c "d=$(mktemp -d) && printf 'kvplan: deploy/v1\\nname: a\\nmodel: llama-3-8b\\ngpu: h100-sxm\\nengine: [vllm]\\nworkloads:\\n  - 1x100\\n' > \"$d/e.yaml\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'e[.]yaml:5:9: field .engine.: expected a text value' 'field .engine.: .*field .engine.' \
$<TARGET_FILE:kvplan> check \"$d/e.yaml\"; rc=$?; rm -rf \"$d\"; exit $rc")
set_tests_properties(cli.message_prefix_once PROPERTIES LABELS cli)

# import refuses a shape the sizing engine cannot hold, naming the file and the field; it wrote a
# spec that failed later with an overflow that named neither.
add_test(NAME cli.import_unsizable_head_dim
         COMMAND bash -c "d=$(mktemp -d) && sed 's/\"hidden_size\":/\"head_dim\": 4611686018427387904, \"hidden_size\":/' \
${CMAKE_CURRENT_SOURCE_DIR}/fixtures/hf/llama-3.1-8b.config.json > \"$d/big.config.json\" && grep -q 4611686018427387904 \"$d/big.config.json\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'big[.]config[.]json: field .head_dim.: 4611686018427387904 is too large to size this model' '' \
$<TARGET_FILE:kvplan> import \"$d/big.config.json\"; rc=$?; rm -rf \"$d\"; exit $rc")
set_tests_properties(cli.import_unsizable_head_dim PROPERTIES LABELS cli)

# One number grammar (docs/numbers.md): options read numbers as the files do. CLI11's own
# conversions took 0x10 for a seed and called 1e3 "Could not convert"; 1e-300 was "not a number".
kvplan_cli_test(number_hex_seed EXIT 2 MATCH "^kvplan: error: --seed: '0x10' is not a whole number: kvplan reads decimal numbers only"
  ARGS simulate --model gpt2 --gpu l4 --synthetic fixed --requests 10 --seed 0x10)
kvplan_cli_test(number_leading_zero_count EXIT 2 MATCH "^kvplan: error: --batch: '040' is not a count: a leading zero is octal in YAML 1.1 and decimal elsewhere. write 40$"
  ARGS size --model gpt2 --batch 040)
kvplan_cli_test(number_fraction_count EXIT 2 MATCH "--max-model-len: '4096.0' is not a whole count: a fraction needs a k/K/m/M suffix"
  ARGS fit --model gpt2 --max-model-len 4096.0 1x100)
kvplan_cli_test(number_tiny_rate EXIT 2 MATCH "arrival times overflow: --rate is too low for this many requests"
  ARGS simulate --model gpt2 --gpu l4 --synthetic fixed --requests 10 --rate 1e-300)
kvplan_cli_test(number_rate_beyond_zero EXIT 2 MATCH "^kvplan: error: --rate: '1e-400' is too small to tell from zero in a double$"
  ARGS simulate --model gpt2 --gpu l4 --synthetic fixed --requests 10 --rate 1e-400)
kvplan_cli_test(number_rate_inf EXIT 2 MATCH "^kvplan: error: --rate: 'inf' is not a number"
  ARGS simulate --model gpt2 --gpu l4 --synthetic fixed --requests 10 --rate inf)
kvplan_cli_test(number_plus_sign EXIT 2 MATCH "^kvplan: error: --step-ms: '[+]5' is not a number: write it without the '[+]'$"
  ARGS simulate --model gpt2 --gpu l4 --synthetic fixed --requests 10 --step-ms +5)
kvplan_cli_test(number_prefix_groups_wide EXIT 2 MATCH "--prefix-groups: 5000000000 is more than 4,294,967,295"
  ARGS simulate --model gpt2 --gpu l4 --synthetic fixed --requests 10 --prefix-groups 5000000000 --prefix-tokens 1)
kvplan_cli_test(number_device EXIT 2 MATCH "--device: '-1' is negative"
  ARGS probe --backend host --model gpt2 --device -1 1x16)
kvplan_cli_test(number_exponent_rate EXIT 0 MATCH "arrivals at 2/s"
  ARGS simulate --model gpt2 --gpu l4 --synthetic fixed --requests 10 --rate 2e0)

# The simulator's memory is bounded per request (about 32 B) and by a request limit that keeps a
# run under about 330 MB (at the old 50,000,000 limit a run peaked at 1.6 GB).
kvplan_cli_test(simulate_request_limit EXIT 2 MATCH "--requests: at most 10000000 requests per simulation"
  ARGS simulate --model gpt2 --gpu l4 --synthetic fixed --requests 10000001)
