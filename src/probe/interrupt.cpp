// Ctrl-C and SIGTERM: the handler only records the signal (async-signal-safe); the probe checks it
// between buffers and between chunks of a fill, the simulator between steps, then they throw, so
// that every buffer is freed by unwinding. main installs it for every command.
#include <csignal>

#include "kvplan/probe/probe.hpp"

namespace kvplan::probe {
namespace {
volatile std::sig_atomic_t g_interrupted = 0;  // the signal's number, 0 when none came
extern "C" void on_sigint(int sig) { g_interrupted = sig; }
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
int interrupt_signal() { return g_interrupted; }
void clear_interrupt() { g_interrupted = 0; }
void check_interrupt() {
  if (g_interrupted) throw Interrupted("interrupted");
}

}  // namespace kvplan::probe
