#include "dln/sweep/stop_request.hpp"

#include <csignal>

namespace dln::sweep {
namespace {

std::atomic<bool> g_stop{false};
// Lock-free, so both may be touched from a signal handler.
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void request_stop(int signal) {
    // A second Ctrl-C: whoever presses it twice wants the process gone, not a tidy stop.
    if (signal == SIGINT && g_stop.exchange(true)) {
        std::signal(SIGINT, SIG_DFL);
        std::raise(SIGINT);  // delivered when this handler returns
    }
    g_stop.store(true);
}

}  // namespace

void install_stop_handlers() {
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    for (const int signal : {SIGUSR1, SIGTERM, SIGINT}) sigaction(signal, &action, nullptr);
}

const std::atomic<bool>& stop_flag() { return g_stop; }

}  // namespace dln::sweep
