// One core's memory bandwidth, to set the SGD step's bytes per coordinate against (README
// "Benchmarks", issue 14 item 4). Run by hand, pinned, never by the test suite:
//
//   c++ -O3 -march=native -o build/stream_triad tests/bench/stream_triad.cpp
//   taskset -c 1 build/stream_triad
//
// For each working set (three arrays of n doubles) it times the STREAM triad a = b + s c and,
// closer to an SGD step, the update pair u += s x, v -= s x with x read and u, v read and
// written. It prints the best of 20 passes as GB/s, counting the bytes the loop asks for (24 per
// triad element, 40 per update element); a store to a line not in cache also reads it first
// (write-allocate), so the traffic from memory is 32 and 40 bytes.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <vector>

int main() {
    const std::size_t sizes[] = {std::size_t{1} << 14, std::size_t{1} << 17, std::size_t{1} << 19,
                                 std::size_t{1} << 20, std::size_t{1} << 23};
    std::printf("%12s %14s %14s %14s\n", "n doubles", "3 arrays (MB)", "triad GB/s", "update GB/s");
    for (const std::size_t n : sizes) {
        std::vector<double> a(n, 1.0), b(n, 2.0), c(n, 0.5);
        const double s = 1e-9;
        double best_triad = 1e30, best_update = 1e30;
        for (int pass = 0; pass < 20; ++pass) {
            auto t0 = std::chrono::steady_clock::now();
            for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
            auto t1 = std::chrono::steady_clock::now();
            for (std::size_t i = 0; i < n; ++i) {
                a[i] += s * c[i];
                b[i] -= s * c[i];
            }
            auto t2 = std::chrono::steady_clock::now();
            best_triad = std::min(best_triad, std::chrono::duration<double>(t1 - t0).count());
            best_update = std::min(best_update, std::chrono::duration<double>(t2 - t1).count());
        }
        std::printf("%12zu %14.1f %14.1f %14.1f   (check %g)\n", n, 3.0 * 8.0 * static_cast<double>(n) / 1e6,
                    24.0 * static_cast<double>(n) / best_triad / 1e9, 40.0 * static_cast<double>(n) / best_update / 1e9,
                    a[n / 2] + b[n / 3]);
    }
    return 0;
}
