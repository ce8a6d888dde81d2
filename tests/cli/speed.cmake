# Speed (docs/speed.md) as users ask for it: fit's TTFT/TPOT table, max's latency targets beside
# what memory holds, the efficiency options, and the refusals.
kvplan_cli_test(speed_fit_table EXIT 0 MATCH "Speed, every sequence of a scenario running together"
                ARGS fit --model llama-3-8b --gpu a100-80gb 8x1000+200)
# Llama-3-8B bf16 on an A100-80GB at 0.70 of 2,039 GB/s: 15.01 GB of weights per step.
kvplan_cli_test(speed_fit_inputs EXIT 0 MATCH "each decode step reads 15[.]01 GB of weights per GPU"
                ARGS fit --model llama-3-8b --gpu a100-80gb 8x1000+200)
kvplan_cli_test(speed_fit_engine EXIT 0 MATCH "tensor parallel 4: 2 all-reduces per layer at 450[.]00 GB/s"
                ARGS fit --engine vllm --model llama-3-70b --gpu h100-sxm --tp 4 8x2000+500)
kvplan_cli_test(speed_given_efficiency EXIT 0 MATCH "x 0[.]60, 312[.]00 TFLOP/s bf16 dense x 0[.]50 [(]given"
                ARGS fit --model llama-3-8b --gpu a100-80gb --compute-efficiency 0.5 --bandwidth-efficiency 60% 8x1000)
kvplan_cli_test(speed_gpu_memory EXIT 0 MATCH "Speed: not estimated: --gpu-memory names no card"
                ARGS fit --model llama-3-8b --gpu-memory 80GiB 8x1000)
kvplan_cli_test(speed_max_tpot_line EXIT 0 MATCH "latency, not memory, limits the batch"
                ARGS max --model llama-3-8b --gpu a100-80gb --context 4096 --tpot-ms 20)
kvplan_cli_test(speed_max_memory_limits EXIT 0 MATCH "memory, not latency, limits the batch"
                ARGS max --model llama-3-8b --gpu a100-80gb --context 4096 --tpot-ms 500)
kvplan_cli_test(speed_max_columns EXIT 0 MATCH "sequences with TPOT <= 15[.]0 ms"
                ARGS max --model llama-3-8b --gpu h100-sxm --tp 1,2 --context 4096 --tpot-ms 15)
kvplan_cli_test(speed_bad_tpot EXIT 2 MATCH "--tpot-ms: expected milliseconds greater than 0"
                ARGS max --model llama-3-8b --gpu a100-80gb --tpot-ms fast)
kvplan_cli_test(speed_zero_tpot EXIT 2 MATCH "--tpot-ms: expected milliseconds greater than 0"
                ARGS max --model llama-3-8b --gpu a100-80gb --tpot-ms 0)
kvplan_cli_test(speed_bad_efficiency EXIT 2 MATCH "--compute-efficiency: "
                ARGS fit --model llama-3-8b --gpu a100-80gb --compute-efficiency 1.5)
kvplan_cli_test(speed_target_needs_gpu EXIT 2 MATCH "--tpot-ms and --ttft-ms need the speed model: not estimated: --gpu-memory"
                ARGS max --model llama-3-8b --gpu-memory 80GiB --tpot-ms 20)
