// Debian's Vega, bundled at build time (cmake/vega_bundle.cmake) and linked in as bytes, so that
// every HTML report carries its charting library and opens offline.
#include "kvplan/report/html.hpp"

#ifdef KVPLAN_VEGA_BUNDLE
// .incbin: the assembler copies the file's bytes; a generated C++ array of ~0.5 MB would cost
// seconds of compile time on every change of the bundle.
asm(".section .rodata\n"
    ".global kvplan_vega_bundle_begin\n"
    "kvplan_vega_bundle_begin:\n"
    ".incbin \"" KVPLAN_VEGA_BUNDLE "\"\n"
    ".global kvplan_vega_bundle_end\n"
    "kvplan_vega_bundle_end:\n"
    ".previous\n");
extern "C" const char kvplan_vega_bundle_begin[];
extern "C" const char kvplan_vega_bundle_end[];
#endif

namespace kvplan::report {

std::string_view vega_bundle() {
#ifdef KVPLAN_VEGA_BUNDLE
  return {kvplan_vega_bundle_begin, static_cast<std::size_t>(kvplan_vega_bundle_end - kvplan_vega_bundle_begin)};
#else
  return {};
#endif
}

}  // namespace kvplan::report
