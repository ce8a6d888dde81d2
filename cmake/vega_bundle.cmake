# Concatenates Debian's Vega modules (libjs-vega, /usr/share/javascript/vega) into one script
# behind kvplan's loader (src/report/html/vega_prologue.js), in dependency order: each module
# names the ones it needs, and the loader refuses one that comes before them.
# -DOUT=file -DVEGA_DIR=dir -DSHIM_DIR=dir
set(modules
  vega-util vega-canvas vega-time vega-format vega-loader vega-dataflow vega-scale vega-statistics
  vega-expression vega-event-selector vega-scenegraph vega-selections=vega-selection vega-functions
  vega-runtime vega-parser vega-view vega-transforms vega-view-transforms vega-encode vega-label
  vega-hierarchy vega-interpreter)
file(READ "${SHIM_DIR}/vega_prologue.js" text)
set(bundle "${text}")
foreach(entry IN LISTS modules)
  string(REPLACE "=" ";" parts "${entry}")
  list(GET parts 0 name)
  list(LENGTH parts n)
  if(n EQUAL 2)
    list(GET parts 1 file)
  else()
    set(file "${name}")
  endif()
  file(READ "${VEGA_DIR}/${file}.min.js" text)
  string(APPEND bundle "\n__kvplanVegaModule('${name}');\n${text}\n")
endforeach()
file(READ "${SHIM_DIR}/vega_epilogue.js" text)
string(APPEND bundle "${text}")
# The bundle goes inside <script>: a literal "</script" would end it.
string(FIND "${bundle}" "</script" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "Vega bundle: '</script' at ${at} would end the report's <script> element")
endif()
file(WRITE "${OUT}" "${bundle}")
