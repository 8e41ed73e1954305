// The simulators' step loops allocate nothing (issue 7): every operator new of this test binary
// is counted, and a window of steps must leave the count where it was.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "dln/sim/sde_simulator.hpp"
#include "dln/sim/sgd_engine.hpp"
#include "dln/sim/sgd_simulator.hpp"

namespace {
std::atomic<long> allocations{0};

void* counted(std::size_t size, std::size_t align) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (size + align - 1) / align * align)
                                                : std::malloc(size == 0 ? 1 : size);
    if (p == nullptr) throw std::bad_alloc();
    return p;
}
}  // namespace

void* operator new(std::size_t size) { return counted(size, 0); }
void* operator new[](std::size_t size) { return counted(size, 0); }
void* operator new(std::size_t size, std::align_val_t align) { return counted(size, static_cast<std::size_t>(align)); }
void* operator new[](std::size_t size, std::align_val_t align) { return counted(size, static_cast<std::size_t>(align)); }
// The nothrow forms too (std::stable_sort's buffer comes from one): libstdc++'s call the forms
// above, but AddressSanitizer replaces them with its own, whose memory our delete then frees.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    try {
        return counted(size, 0);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
    try {
        return counted(size, static_cast<std::size_t>(align));
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t& tag) noexcept {
    return operator new(size, align, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

TEST_CASE("SGD, lockstep SGD and SDE steps allocate nothing", "[sim]") {
    using dln::model::Parametrization;
    dln::model::DataSpec data;
    data.spectrum = dln::model::Spectrum::powerlaw;
    data.exponent = 0.3;
    data.noise = 0.1;
    const std::size_t dim = 1000;
    const dln::rng::SampleStream stream(2, dim, 0);
    for (auto param : {Parametrization::u2v2, Parametrization::uv, Parametrization::linear}) {
        dln::sim::SgdSimulator sgd(dln::sim::make_problem(data, dim, stream), param, 0.5, 0.1, stream);
        const std::vector<dln::sim::SgdEngine::MemberSpec> members = {{0.3, 0.1}, {0.6, 0.2}, {0.9, 0.3}};
        dln::sim::SgdEngine batch(dln::sim::make_problem(data, dim, stream), param, members, stream);
        dln::sim::SdeSimulator sde(dln::sim::make_problem(data, dim, stream), param, 0.5, 0.1, stream, 1.0 / dim);
        const long before = allocations.load();
        REQUIRE(before > 0);  // the counting works: construction allocated
        for (int k = 0; k < 50; ++k) {
            sgd.step();
            batch.step();
            sde.step();
        }
        batch.stop(1);
        for (int k = 0; k < 10; ++k) batch.step();
        CHECK(allocations.load() == before);
    }
}
