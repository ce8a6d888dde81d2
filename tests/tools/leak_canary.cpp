// Leaks 77 bytes on purpose. Built only in AddressSanitizer builds, where the test
// sanitize.leak_canary expects LeakSanitizer to report it: proof that the leak checks of the
// sanitizer suite are in effect (LSan can be switched off by ASAN_OPTIONS, or fail under ptrace).
#include <cstdlib>

static void* volatile sink = nullptr;

int main() {
  sink = std::malloc(77);
  sink = nullptr;
  return 0;
}
