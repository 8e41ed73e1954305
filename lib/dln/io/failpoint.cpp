#include "dln/io/failpoint.hpp"

#include "dln/io/storage_error.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace dln::io {
namespace {

struct Armed {
    std::string name;  // empty: no failpoint armed in this process
    long hit_at = 1;
    long hits = 0;
    bool resume = false;  // go on once the marker is removed, instead of waiting to be killed
    bool enospc = false;  // fail there as a full disk would, instead of waiting
};

Armed& armed() {
    static Armed state = [] {
        Armed a;
        const char* spec = std::getenv("DLN_FAILPOINT");
        if (spec == nullptr || *spec == '\0') return a;
        const std::string text(spec);
        const auto colon = text.find(':');
        a.name = text.substr(0, colon);
        if (colon != std::string::npos) {
            char* end = nullptr;
            a.hit_at = std::strtol(text.c_str() + colon + 1, &end, 10);
            a.resume = std::string(end) == ":resume";
            a.enospc = std::string(end) == ":enospc";
        }
        return a;
    }();
    return state;
}

}  // namespace

void failpoint(const char* name) {
    Armed& a = armed();
    if (a.name.empty() || a.name != name || ++a.hits != a.hit_at) return;
    const char* marker = std::getenv("DLN_FAILPOINT_MARKER");
    if (marker != nullptr) {
        const int fd = ::open(marker, O_WRONLY | O_CREAT, 0644);
        if (fd >= 0) ::close(fd);
    }
    if (a.enospc) throw storage_error("cannot write", std::string("failpoint ") + name, ENOSPC);
    if (a.resume && marker != nullptr) {
        // Polled, not awaited with sigsuspend: under MPI a signal may be handled by any thread.
        while (::access(marker, F_OK) == 0) ::usleep(10000);
        return;
    }
    for (;;) ::pause();  // until the test's SIGKILL
}

}  // namespace dln::io
