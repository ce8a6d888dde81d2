# kvplan probe as users type it. Exit codes: 0 every row allocated, verified and within tolerance;
# 1 stopped (cap, out of memory) or out of tolerance; 2 bad input; 3 probe unavailable; 130 Ctrl-C.

# This machine has no GPU driver (or the build has no CUDA): "unavailable", exit 3, never a crash.
kvplan_cli_test(probe_cuda_unavailable EXIT 3
                MATCH "CUDA probe unavailable: (cudaGetDeviceCount returned cuda[A-Za-z]+ [(][0-9]+[)]|this kvplan was built without CUDA)"
                ARGS probe --model gpt2 --backend cuda --max-model-len 128 1x100)
# auto falls back to the host backend and says so.
kvplan_cli_test(probe_auto_falls_back EXIT 0 MATCH "using the host backend"
                ARGS probe --model gpt2 --max-model-len 128 1x100)

# The host pipeline: every row verified, measured within one page per allocation.
kvplan_cli_test(probe_host_rows EXIT 0 MATCH "2x100 +paged B=256 .* yes +verified"
                NOMATCH " NO "
                ARGS probe --model gpt2 --backend host --max-model-len 128 --block-size 16,32,256 2x100 1x128)
kvplan_cli_test(probe_host_fused EXIT 0 MATCH "contiguous max-model-len 128, fused"
                ARGS probe -m llama-2-7b --backend host --max-model-len 128 --layout fused --policy contiguous 2x100)
kvplan_cli_test(probe_host_exact EXIT 0 MATCH "3x77 +contiguous exact .* yes +verified"
                ARGS probe -m llama-3-8b --backend host --reserve exact --policy contiguous 3x77)
kvplan_cli_test(probe_json EXIT 0 MATCH "\"block_table_bytes\": 28,"
                ARGS probe --model gpt2 --backend host --max-model-len 128 --policy paged --format json 1x100)
kvplan_cli_test(probe_markdown EXIT 0 MATCH "^[|] 1x100 +[|] paged B=16 "
                ARGS probe --model gpt2 --backend host --max-model-len 128 --format markdown 1x100)

# --max-memory: a clean stop with how far it got; exit 1.
kvplan_cli_test(probe_max_memory EXIT 1
                MATCH "2x100 contiguous max-model-len 256: stopped at --max-memory after 12 of 64 buffers"
                ARGS probe -m llama-2-7b --backend host --max-model-len 256 --policy contiguous --max-memory 50MiB 2x100)

# Ctrl-C (a real SIGINT through the handler): every buffer freed, the baseline restored, exit 130.
kvplan_cli_test(probe_interrupt EXIT 130 MATCH "interrupted after 0 complete row[(]s[)]; every buffer freed; .*[(]baseline restored[)]"
                ARGS probe -m llama-2-7b --backend host --max-model-len 256 --interrupt-after 40 2x100)

# The fragmentation experiment: first-fit refuses with memory free, paged does not.
kvplan_cli_test(probe_churn EXIT 0
                MATCH "contiguous first-fit +[0-9,]+ +[0-9,]+ +[1-9][0-9,]* +[0-9.]+% +0"
                ARGS probe -m gpt2 --backend host --max-model-len 256 --churn-requests 400 --churn-lifetime 16)
kvplan_cli_test(probe_bandwidth EXIT 0 MATCH "fill[+]verify [0-9.]+ GB/s .* of copy"
                ARGS probe -m gpt2 --backend host --bandwidth --bandwidth-bytes 16MiB)

# Bad input: exit 2, one clear line.
kvplan_cli_test(probe_nothing EXIT 2 MATCH "nothing to probe" ARGS probe -m gpt2 --backend host)
kvplan_cli_test(probe_bad_policy EXIT 2 MATCH "--policy: expected contiguous or paged"
                ARGS probe -m gpt2 --backend host --policy pages 1x10)
kvplan_cli_test(probe_bad_backend EXIT 2 MATCH "--backend: expected auto, cuda or host"
                ARGS probe -m gpt2 --backend rocm 1x10)
kvplan_cli_test(probe_too_long EXIT 2 MATCH "scenario 1x300: 300 tokens exceed --max-model-len 256"
                ARGS probe -m gpt2 --backend host --max-model-len 256 1x300)
kvplan_cli_test(probe_bad_cap EXIT 2 MATCH "--max-memory|bytes"
                ARGS probe -m gpt2 --backend host --max-memory 50G 1x10)
kvplan_cli_test(probe_bad_tolerance EXIT 2 MATCH "--tolerance: expected auto or a percentage"
                ARGS probe -m gpt2 --backend host --tolerance 1x 1x10)
kvplan_cli_test(probe_tolerance EXIT 0 MATCH "tolerance 1[.]0% of predicted"
                ARGS probe -m gpt2 --backend host --max-model-len 16 --tolerance 1 1x10)
