# Absurd inputs (issue 7): refused with one clear line and exit 2, in bounded memory and time.
kvplan_cli_test(limit_tokens_1e12 EXIT 0 MATCH "524,288,000,000,000,000 B"
                ARGS size --model llama-2-7b --tokens 1000000000000 --kv-cache-dtype fp16)
kvplan_cli_test(limit_layers_1e6 EXIT 2 MATCH "huge_layers[.]yaml:5:20: field 'num_hidden_layers': is 1000000, more than"
                ARGS size --model ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/bad/huge_layers.yaml)
kvplan_cli_test(limit_requests_1e9 EXIT 2 MATCH "at most 10000000 requests"
                ARGS simulate --model llama-3-8b --gpu h100 --synthetic sharegpt --requests 1000000000 --rate 10)
# A 1 GiB spec file (sparse: it takes no disk) is refused by its size, not read.
add_test(NAME cli.limit_yaml_1gib
         COMMAND bash -c "f=$(mktemp --suffix=.yaml) && truncate -s 1G \"$f\" && \
bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 2 'more than the 16777216 bytes' '' $<TARGET_FILE:kvplan> size --model \"$f\"; \
rc=$?; rm -f \"$f\"; exit $rc")
