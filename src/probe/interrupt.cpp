// Ctrl-C: the handler only sets a flag (async-signal-safe); the probe checks it between buffers
// and between chunks of a fill, then throws, so that every buffer is freed by unwinding.
#include <csignal>

#include "kvplan/probe/probe.hpp"

namespace kvplan::probe {
namespace {
volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_sigint(int) { g_interrupted = 1; }
}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}
bool interrupt_requested() { return g_interrupted != 0; }
void clear_interrupt() { g_interrupted = 0; }
void check_interrupt() {
  if (g_interrupted) throw Interrupted("interrupted");
}

}  // namespace kvplan::probe
