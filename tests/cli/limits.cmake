# Absurd inputs (issue 7): refused with one clear line and exit 2, in bounded memory and time.
kvplan_cli_test(limit_tokens_1e12 EXIT 0 MATCH "524,288,000,000,000,000 B"
                ARGS size --model llama-2-7b --tokens 1000000000000 --kv-cache-dtype fp16)
kvplan_cli_test(limit_layers_1e6 EXIT 2 MATCH "huge_layers[.]yaml:5:20: field 'num_hidden_layers': is 1000000, more than"
                ARGS size --model ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/bad/huge_layers.yaml)
kvplan_cli_test(limit_requests_1e9 EXIT 2 MATCH "at most 10000000 requests"
                ARGS simulate --model llama-3-8b --gpu h100-sxm --synthetic sharegpt --requests 1000000000 --rate 10)
# A 1 GiB spec file (sparse: it takes no disk) is refused by its size, not read.
add_test(NAME cli.limit_yaml_1gib
         COMMAND bash -c "f=$(mktemp --suffix=.yaml) && truncate -s 1G \"$f\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'more than the 16777216 bytes' '' $<TARGET_FILE:kvplan> size --model \"$f\"; \
rc=$?; rm -f \"$f\"; exit $rc")

# Loaders at their limits (docs/reliability.md): a trace is refused by its size before it is read
# (a sparse 65 MiB CSV, no disk), YAML past its node budget and JSON past its value budget by a
# counting pass that builds nothing, and a second YAML document is refused, not ignored.
add_test(NAME cli.limit_trace_size
         COMMAND bash -c "f=$(mktemp --suffix=.csv) && truncate -s 65M \"$f\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'is 68157440 bytes, more than the 67108864 a CSV trace may have' '' \
$<TARGET_FILE:kvplan> simulate --model llama-3-8b --gpu h100-sxm --trace \"$f\"; rc=$?; rm -f \"$f\"; exit $rc")
set_tests_properties(cli.limit_trace_size PROPERTIES LABELS cli)
add_test(NAME cli.limit_json_values
         COMMAND bash -c "f=$(mktemp --suffix=.json) && { printf '{\"model_type\": \"llama\", \"x\": ['; \
yes '0,' | head -n 600000 | tr -d '\\n'; printf '0]}'; } > \"$f\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 ':1:[0-9]+: more than 524288 JSON values' '' \
$<TARGET_FILE:kvplan> size --model \"$f\"; rc=$?; rm -f \"$f\"; exit $rc")
set_tests_properties(cli.limit_json_values PROPERTIES LABELS cli)
add_test(NAME cli.yaml_second_document
         COMMAND bash -c "f=$(mktemp --suffix=.yaml) && sed -n '1,200p' ${CMAKE_SOURCE_DIR}/models/llama-2-7b.yaml > \"$f\" && \
printf -- '---\\nname: other\\n' >> \"$f\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'holds more than one YAML document' '' \
$<TARGET_FILE:kvplan> size --model \"$f\"; rc=$?; rm -f \"$f\"; exit $rc")
set_tests_properties(cli.yaml_second_document PROPERTIES LABELS cli)
