# kvplan simulate as users type it. Traces are in tests/fixtures/traces.
set(TRACES ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/traces)

kvplan_cli_test(simulate_sharegpt EXIT 0 MATCH "paged +[0-9.]+%"
                ARGS simulate --model llama-2-7b --gpu l40s --synthetic sharegpt --requests 500 --rate 20)
kvplan_cli_test(simulate_budget_line EXIT 0 MATCH "KV budget 31[.]44 GiB = 44[.]99 GiB − weights 12[.]55 GiB − overhead 1[.]00 GiB"
                ARGS simulate --model llama-2-7b --gpu l40s --synthetic alpaca --requests 100)
# 10,485,760,000 B / 524,288 B per token = exactly 20,000 token slots.
kvplan_cli_test(simulate_kv_memory EXIT 0 MATCH "20,000 token slots"
                ARGS simulate --model llama-2-7b --kv-cache-memory 10485760000B --synthetic fixed --requests 10)
kvplan_cli_test(simulate_trace_csv EXIT 0 MATCH "paged-prefix .* 4 +0 +0"
                ARGS simulate --model llama-2-7b --gpu h100-sxm --trace ${TRACES}/small.csv --policy paged,paged-prefix)
kvplan_cli_test(simulate_trace_jsonl EXIT 0 MATCH "\"completed\": 4"
                ARGS simulate --model llama-2-7b --gpu h100-sxm --trace ${TRACES}/small.jsonl --format json)
kvplan_cli_test(simulate_prefix_hits EXIT 0 MATCH "1 admissions reused a held prefix"
                ARGS simulate --model llama-2-7b --gpu h100-sxm --trace ${TRACES}/small.csv --policy paged-prefix)
kvplan_cli_test(simulate_csv EXIT 0 MATCH "^policy,capacity_tokens,capacity_bytes,used_share,"
                ARGS simulate --model gpt2 --gpu l4 --synthetic uniform --requests 50 --format csv)
kvplan_cli_test(simulate_too_long EXIT 0 MATCH "1 longer than max-model-len"
                ARGS simulate --model llama-2-7b --gpu h100-sxm --trace ${TRACES}/small.csv --max-model-len 1000 --policy exact)
kvplan_cli_test(simulate_check_invariants EXIT 0 MATCH "preemptions"
                ARGS simulate --model llama-2-7b --kv-cache-memory 2GiB --synthetic sharegpt --requests 300 --rate 50
                     --prefix-groups 2 --prefix-tokens 100 --check-invariants)
kvplan_cli_test(simulate_timeline EXIT 0 MATCH "exact"
                ARGS simulate --model gpt2 --gpu l4 --synthetic alpaca --requests 20 --timeline ${CMAKE_CURRENT_BINARY_DIR}/timeline.csv)
# --export-trace writes the workload; a second test replays it and gets the same table.
kvplan_cli_test(simulate_export_trace EXIT 0 MATCH "max-len"
                ARGS simulate --model gpt2 --gpu l4 --synthetic sharegpt --requests 200 --seed 5 --step-ms 20
                     --export-trace ${CMAKE_CURRENT_BINARY_DIR}/exported.csv)
kvplan_cli_test(simulate_replay_export EXIT 0 MATCH "trace .*exported[.]csv [(]200 requests[)]"
                ARGS simulate --model gpt2 --gpu l4 --trace ${CMAKE_CURRENT_BINARY_DIR}/exported.csv)
set_tests_properties(cli.simulate_replay_export PROPERTIES DEPENDS cli.simulate_export_trace)

# bad input: one line naming file:line:column and field, exit 2
kvplan_cli_test(simulate_bad_number EXIT 2 MATCH "bad_number[.]csv:3:3: field 'prompt_tokens': 'abc' is not a whole number"
                ARGS simulate --model gpt2 --trace ${TRACES}/bad_number.csv)
kvplan_cli_test(simulate_unsorted EXIT 2 MATCH "unsorted[.]csv:3:1: field 'arrival': 4 is earlier than the previous request's 5"
                ARGS simulate --model gpt2 --trace ${TRACES}/unsorted.csv)
kvplan_cli_test(simulate_missing_column EXIT 2 MATCH "missing_column[.]csv:1:1: field 'output_tokens': required column missing"
                ARGS simulate --model gpt2 --trace ${TRACES}/missing_column.csv)
kvplan_cli_test(simulate_unknown_column EXIT 2 MATCH "unknown_column[.]csv:1:37: field 'priority': unknown column"
                ARGS simulate --model gpt2 --trace ${TRACES}/unknown_column.csv)
kvplan_cli_test(simulate_zero_output EXIT 2 MATCH "zero_output[.]csv:2:6: field 'output_tokens': '0' is too small"
                ARGS simulate --model gpt2 --trace ${TRACES}/zero_output.csv)
kvplan_cli_test(simulate_short_row EXIT 2 MATCH "short_row[.]csv:2:3: 2 fields, but the header has 3"
                ARGS simulate --model gpt2 --trace ${TRACES}/short_row.csv)
kvplan_cli_test(simulate_prefix_too_long EXIT 2 MATCH "prefix_too_long[.]csv:2:12: field 'prefix_tokens': 20 exceeds prompt_tokens 10"
                ARGS simulate --model gpt2 --trace ${TRACES}/prefix_too_long.csv)
kvplan_cli_test(simulate_broken_jsonl EXIT 2 MATCH "broken[.]jsonl:2:[0-9]+: not valid JSON"
                ARGS simulate --model gpt2 --trace ${TRACES}/broken.jsonl)
kvplan_cli_test(simulate_negative_jsonl EXIT 2 MATCH "negative[.]jsonl:1:16: field 'prompt_tokens': -3 is negative"
                ARGS simulate --model gpt2 --trace ${TRACES}/negative.jsonl)
kvplan_cli_test(simulate_unknown_field EXIT 2 MATCH "unknown_field[.]jsonl:1:16: field 'prompt': unknown field"
                ARGS simulate --model gpt2 --trace ${TRACES}/unknown_field.jsonl)
kvplan_cli_test(simulate_empty_trace EXIT 2 MATCH "empty[.]csv:1:1: the trace holds no request"
                ARGS simulate --model gpt2 --trace ${TRACES}/empty.csv)
kvplan_cli_test(simulate_missing_trace EXIT 2 MATCH "nope[.]csv: no such file"
                ARGS simulate --model gpt2 --trace ${TRACES}/nope.csv)
kvplan_cli_test(simulate_no_workload EXIT 2 MATCH "give either --trace FILE or --synthetic DIST"
                ARGS simulate --model gpt2)
kvplan_cli_test(simulate_both_workloads EXIT 2 MATCH "give either --trace FILE or --synthetic DIST"
                ARGS simulate --model gpt2 --synthetic sharegpt --trace ${TRACES}/small.csv)
kvplan_cli_test(simulate_bad_preset EXIT 2 MATCH "unknown workload 'zipf'"
                ARGS simulate --model gpt2 --synthetic zipf)
kvplan_cli_test(simulate_bad_policy EXIT 2 MATCH "--policy: unknown policy 'buddy'"
                ARGS simulate --model gpt2 --synthetic sharegpt --policy paged,buddy)
kvplan_cli_test(simulate_bad_rate EXIT 2 MATCH "--rate must be a positive number"
                ARGS simulate --model gpt2 --synthetic sharegpt --rate 0)
kvplan_cli_test(simulate_no_kv_memory EXIT 2 MATCH "leave no KV memory"
                ARGS simulate --model llama-2-70b --gpu l4 --synthetic sharegpt)
kvplan_cli_test(simulate_prefix_without_tokens EXIT 2 MATCH "--prefix-groups needs --prefix-tokens"
                ARGS simulate --model gpt2 --synthetic sharegpt --prefix-groups 2)
kvplan_cli_test(simulate_bad_mean EXIT 2 MATCH "prompt length mean must be a finite number of tokens >= 1"
                ARGS simulate --model gpt2 --synthetic lognormal --prompt-mean 0.5)
kvplan_cli_test(simulate_negative_mean EXIT 2 MATCH "^kvplan: error: --prompt-mean: '-5' is negative$"
                ARGS simulate --model gpt2 --synthetic lognormal --prompt-mean -5)
kvplan_cli_test(simulate_bad_sigma EXIT 2 MATCH "sigma must be in .0, 10. .--sigma."
                ARGS simulate --model gpt2 --synthetic lognormal --sigma 0)
kvplan_cli_test(simulate_custom_means EXIT 0 MATCH "prompt fixed 100, output fixed 7"
                ARGS simulate --model gpt2 --synthetic fixed --prompt-mean 100 --output-mean 7 --requests 5)
# Progress on stderr on a terminal only (script(1) gives it one; the delay set to 0 so that a short
# run draws), never in a pipe.
add_test(NAME cli.progress_terminal_only
         COMMAND bash -c "tty=$(KVPLAN_PROGRESS_DELAY_MS=0 script -qec '$<TARGET_FILE:kvplan> simulate --model gpt2 --gpu l4 --synthetic sharegpt --requests 5000 --format json >/dev/null' /dev/null); \
pipe=$(KVPLAN_PROGRESS_DELAY_MS=0 $<TARGET_FILE:kvplan> simulate --model gpt2 --gpu l4 --synthetic sharegpt --requests 5000 --format json 2>&1 >/dev/null); \
printf 'terminal: %s\\npipe: %s\\n' \"$tty\" \"$pipe\"; \
printf '%s' \"$tty\" | grep -q 'kvplan simulate: [0-9]*/25000 requests .* s left' && [ -z \"$pipe\" ]")
set_tests_properties(cli.progress_terminal_only PROPERTIES LABELS cli)

# The clock (docs/simulator.md, "Time"): the step-time model on a catalog GPU, --step-ms fixed,
# and the vLLM paper's Orca baselines on the buddy allocator.
kvplan_cli_test(simulate_clock_model EXIT 0 MATCH "each step timed by the step-time model"
                ARGS simulate --model llama-2-13b --gpu a100-40gb --synthetic sharegpt --requests 200 --rate 2)
kvplan_cli_test(simulate_clock_fixed EXIT 0 MATCH "on a clock of 20 ms per step"
                ARGS simulate --model llama-2-13b --gpu a100-40gb --synthetic sharegpt --requests 200 --step-ms 20)
kvplan_cli_test(simulate_clock_no_card EXIT 0 MATCH "clock: 20 ms per step [(]the step-time model needs a catalog --gpu"
                ARGS simulate --model llama-2-13b --gpu-memory 40GiB --synthetic sharegpt --requests 200)
kvplan_cli_test(simulate_clock_export EXIT 2 MATCH "--export-trace writes arrivals in steps"
                ARGS simulate --model llama-2-13b --gpu a100-40gb --synthetic sharegpt --requests 20 --export-trace x.csv)
kvplan_cli_test(simulate_buddy_fig13 EXIT 0 MATCH "pow2-output +10[.]3 +[0-9]+ +7,076"
                ARGS simulate --model ../fixtures/models/opt-13b.yaml --gpu a100-40gb --kv-cache-memory 12GiB --max-model-len 2048
                     --synthetic sharegpt --rate 2 --requests 7200 --allocator buddy --policy max-len,pow2-output,exact,paged)
kvplan_cli_test(simulate_bad_allocator EXIT 2 MATCH "--allocator: expected first-fit or buddy"
                ARGS simulate --model llama-2-13b --gpu a100-40gb --synthetic sharegpt --requests 20 --allocator slab)
kvplan_cli_test(simulate_bad_efficiency EXIT 2 MATCH "--bandwidth-efficiency: "
                ARGS simulate --model llama-2-13b --gpu a100-40gb --synthetic sharegpt --requests 20 --bandwidth-efficiency 2)
