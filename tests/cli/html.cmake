# --format html: the commands that draw write one page (the browser test, tests/browser, opens
# them); the others refuse it; the exit code still says whether it fits.
if(KVPLAN_VEGA_DIR)
  kvplan_cli_test(html_fit EXIT 0 MATCH "<p class=\"verdict fits\">Fits: every scenario fits [(]paged[)]"
                  ARGS fit --model qwen2.5-7b --gpu l40s 32x500 1x16000 --format html)
  kvplan_cli_test(html_fit_exit_code EXIT 1 MATCH "<p class=\"verdict no-fit\">Does not fit: 1x131072 needs"
                  ARGS fit --model llama-3.1-8b --gpu l4 1x131072 --format html)
  kvplan_cli_test(html_fit_engine EXIT 0 MATCH "\"id\":\"budget-by-engine\""
                  ARGS fit --engine vllm --model llama-3.1-8b --gpu h100-sxm 8x4096 --format html)
  kvplan_cli_test(html_max EXIT 0 MATCH "\"id\":\"concurrency-vs-max-model-len\""
                  ARGS max --engine sglang --model llama-3.1-8b --gpu l4 --tp 1,2 --format html)
  kvplan_cli_test(html_simulate EXIT 0 MATCH "\"id\":\"simulator-timeline\""
                  ARGS simulate --model llama-2-7b --gpu a100-40gb --synthetic sharegpt --requests 50 --format html)
  kvplan_cli_test(html_no_network EXIT 0 MATCH "default-src 'none'" NOMATCH "<script src|<link|<img"
                  ARGS fit --format html)
endif()
kvplan_cli_test(html_refused_elsewhere EXIT 2 MATCH "--format html: only fit, max, simulate and probe draw charts"
                ARGS size --model llama-2-7b --format html)
kvplan_cli_test(html_refused_llamacpp_context EXIT 2 MATCH "llama.cpp's -c/-np mode has no charts; give scenarios"
                ARGS fit --engine llamacpp --model llama-2-7b -c 4096 --format html)
# --plot: refused where nothing draws; without a browser it says what to install (exit 2).
kvplan_cli_test(plot_refused_elsewhere EXIT 2 MATCH "--plot: only fit, max, simulate and probe draw charts"
                ARGS size --model llama-2-7b --plot x.svg)
kvplan_cli_test(plot_bad_extension EXIT 2 MATCH "--plot chart.jpg: the file must end in .svg or .png"
                ARGS fit --plot chart.jpg)
add_test(NAME cli.plot_without_browser
         COMMAND bash -c "out=$(PATH=/nonexistent KVPLAN_CHROMIUM= $<TARGET_FILE:kvplan> fit --plot x.svg 2>&1 >/dev/null); rc=$?; \
printf '%s\\n' \"$out\"; [ $rc -eq 2 ] && printf '%s' \"$out\" | grep -q 'which is not installed [(]apt-get install chromium'")
set_tests_properties(cli.plot_without_browser PROPERTIES LABELS cli)
