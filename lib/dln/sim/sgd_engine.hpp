// The SGD kernel shared by SgdSimulator (one run) and simulate_sgd_batch (B runs in lockstep):
// one replicate's problem and sample stream, and any number of members, each an (lr, alpha)
// with its own state. A member's arithmetic does not depend on how many members there are or
// on the build's SIMD width, so a batched member is bitwise the run it would be alone.
//
// One step is one pass over the coordinates, in chunks of SampleStream::kChunk = 256:
//   - the residual r_k = <x_k, w - beta*> - sigma xi_k of every member is already known: it was
//     accumulated by the previous pass, which drew x_k one step ahead;
//   - per chunk: draw the chunk of x_{k+1} (once for all members, kept in L1), then for each
//     member update the chunk of (u, v) with x_k, and accumulate the new state's risk and
//     <x_{k+1}, w - beta*> (the next residual) while the chunk is in registers.
// So x is stored (two buffers of d doubles), never regenerated, and w - beta* is never stored.
// Sums use 8 partial sums in a fixed order, so they do not depend on the vector width either.
// No allocation after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <vector>

#include "dln/model/observables.hpp"
#include "dln/model/parametrization.hpp"
#include "dln/rng/sample_stream.hpp"
#include "dln/sim/problem.hpp"

namespace dln::sim {

// std::allocator with 64-byte (cache line, AVX-512 vector) alignment.
template <class T>
struct CacheAligned {
    using value_type = T;
    CacheAligned() = default;
    template <class U>
    CacheAligned(const CacheAligned<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64})); }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{64}); }
    template <class U>
    bool operator==(const CacheAligned<U>&) const noexcept { return true; }
};
using AlignedVector = std::vector<double, CacheAligned<double>>;

class SgdEngine {
public:
    static constexpr std::size_t kLanes = 8;  // partial sums per reduction: fixed, whatever the SIMD width

    struct MemberSpec {
        double lr;
        double alpha;
    };

    // Memory: (2 + 2 B) padded d doubles for the networks ((2 + B) for linear) in the state and
    // the two sample buffers, plus 3 padded d doubles of per-replicate constants (sqrt(lambda/d),
    // lambda, beta*) and the problem itself (2 d): about 8 (2 B + 7) d bytes in all, e.g.
    // 2.4 MB for B = 16 at d = 10^4 and 312 MB at d = 10^6 (padded d: d rounded up to 256).
    SgdEngine(Problem problem, model::Parametrization parametrization, std::span<const MemberSpec> members,
              rng::SampleStream stream);

    // One SGD step for every live member, on the sample of step steps_taken().
    void step();

    std::size_t size() const { return members_.size(); }
    // A member that is not live is no longer stepped (a batch stops a diverged member).
    bool live(std::size_t m) const { return members_[m].live; }
    void stop(std::size_t m) { members_[m].live = false; }
    std::size_t live_count() const;

    std::uint64_t steps_taken() const { return steps_; }
    std::size_t dim() const { return dim_; }
    double risk(std::size_t m) const { return members_[m].risk; }
    double residual(std::size_t m) const { return members_[m].residual; }
    std::span<const double> u(std::size_t m) const { return {members_[m].u.data(), dim_}; }
    std::span<const double> v(std::size_t m) const;
    // The sample x of the last step taken (x = sqrt(lambda/d) z).
    std::span<const double> last_sample() const { return {x_.data(), dim_}; }
    model::Observables observe(std::size_t m, double threshold) const;
    const Problem& problem() const { return problem_; }
    model::Parametrization parametrization() const { return param_; }

private:
    struct Member {
        double lr;
        AlignedVector u, v;  // v empty for linear (u is w)
        double residual = 0.0;
        double inner = 0.0;   // <x_{steps_}, w - beta*> of the current state
        double risk = 0.0;
        bool live = true;
        double g = 0.0;       // this step's coefficient of x in the update
        double risk_sum[kLanes] = {}, inner_sum[kLanes] = {};  // this step's partial sums
    };
    template <model::Parametrization P, bool Isotropic>
    void step_as();
    template <model::Parametrization P, bool Isotropic>
    void start_as();

    Problem problem_;
    model::Parametrization param_;
    rng::SampleStream stream_;
    std::size_t dim_;
    std::size_t chunks_;
    bool isotropic_;
    AlignedVector scale_;   // sqrt(lambda_i / d); 0 on the padding, so padded x are 0
    AlignedVector lambda_;  // 0 on the padding
    AlignedVector beta_;    // 0 on the padding
    AlignedVector x_;       // x of the last step taken
    AlignedVector ahead_;   // x of the next step, drawn by the last pass
    std::vector<Member> members_;
    std::uint64_t steps_ = 0;
};

}  // namespace dln::sim
