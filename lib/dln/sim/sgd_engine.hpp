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
// So x is stored, never regenerated, and w - beta* is never stored.
// Sums use 8 partial sums in a fixed order, so they do not depend on the vector width either.
// No allocation after construction.
//
// Where x is stored is the engine's Layout, chosen by the bytes a step would touch and the
// number of members (issue 14):
//   - resident, while those bytes fit in L2 (kResidentBytes): x_k and x_{k+1} in two arrays of
//     d doubles, which the kernel reads in place. Per coordinate and step: x_k read (8 B),
//     x_{k+1} written (8, plus 8 allocated when it comes from beyond L2), beta* (8; sparse
//     ~9 s), lambda and sqrt(lambda/d) unless isotropic (16), each member's u and v (32; 16 for
//     linear). Cheapest in instructions, so fastest while it is all in L2.
//   - streamed, beyond, for one member: the sample is kept as the standard Gaussian z in float,
//     one array of d floats (the generator computes z in float, so this is exact:
//     double(z) * sqrt(lambda/d) is x bit for bit). Per chunk the generator writes z_{k+1} into
//     an L1 chunk, the kernel widens z_k and z_{k+1} to x as it reads them, and z_{k+1} then
//     replaces z_k: 4 B read and 4 written per coordinate for the sample instead of 24. For
//     u2v2, isotropic data and s = 0.1: ~41 B per coordinate-step instead of ~57.
// The kernel and every floating-point operation are the same in both layouts, so are the bits
// (test_sgd_batch pins one against the other).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "dln/model/observables.hpp"
#include "dln/model/parametrization.hpp"
#include "dln/rng/sample_stream.hpp"
#include "dln/sim/problem.hpp"

namespace dln::sim {

// The engine's arrays, each of `length` doubles (zeroed), in one block: array j starts
// 512 * slot(j) bytes past a 4 KiB boundary. The arrays a step reads and writes together
// (x, the next x, beta*, lambda, a member's u and v) are thus never at the same address modulo
// 4 KiB, where the CPU would take a load for a store to the same address (4K aliasing) and the
// L1 would hold them in the same sets: with plain allocations a step's cost at d = 10^4 varied by
// 30% with what the heap held before (1.21 to 1.60 ns per coordinate, measured).
class StaggeredArrays {
public:
    StaggeredArrays() = default;
    // slots[j] in [0, 8): the 512-byte offset of array j within its 4 KiB page; lengths[j]
    // its length in doubles.
    StaggeredArrays(std::span<const unsigned> slots, std::span<const std::size_t> lengths);
    double* operator[](std::size_t j) const { return block_.get() + start_[j]; }

private:
    struct Free {
        void operator()(double* p) const noexcept { ::operator delete(p, std::align_val_t{4096}); }
    };
    std::unique_ptr<double[], Free> block_;
    std::vector<std::size_t> start_;  // doubles from the block's start
};

class SgdEngine {
public:
    static constexpr std::size_t kLanes = 8;  // partial sums per reduction: fixed, whatever the SIMD width

    struct MemberSpec {
        double lr;
        double alpha;
    };

    // Where the sample lives (see the top of this file); automatic: streamed for one member
    // whose resident step would touch more than kResidentBytes, resident otherwise. A batch
    // stays resident: its members share the sample's bytes, and widening z in every member's
    // kernel cost more than that saved (B = 4, d = 10^4 .. 10^5: 0.37 against 0.35 ns per
    // update, AMD EPYC Zen 5, 2026-12-01). The results do not depend on the layout.
    enum class Layout { automatic, resident, streamed };
    // A little under this machine's 1 MiB of L2 per core (AMD EPYC Zen 5): one u2v2 member
    // (`sgd_layout/L/1/d`, min of 5, 2026-12-01, load ~2.3) costs 0.586 / 0.584 ns per
    // coordinate resident / streamed at d = 10^4 (400 KB resident), 0.623 / 0.568 at 2 10^4,
    // 0.692 / 0.591 at 3 10^4; the switch falls at d ~ 19,700.
    static constexpr std::size_t kResidentBytes = std::size_t{768} << 10;

    // Memory: 2 B padded d doubles for the networks (B for linear) in the state, the sample
    // (resident: 2 padded d doubles; streamed: padded d floats), 3 padded d doubles of
    // per-replicate constants (sqrt(lambda/d), lambda, beta*) and the problem itself (2 d): about
    // 8 (2 B + 7) d bytes in all when resident, 8 (2 B + 5.5) d streamed, e.g. 2.4 MB for B = 16
    // at d = 10^4 and 60 MB for B = 1 at d = 10^6 (padded d: d rounded up to 256).
    SgdEngine(Problem problem, model::Parametrization parametrization, std::span<const MemberSpec> members,
              rng::SampleStream stream, Layout layout = Layout::automatic);

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
    std::span<const double> u(std::size_t m) const { return {members_[m].u, dim_}; }
    std::span<const double> v(std::size_t m) const;
    // The sample x of the last step taken (x = sqrt(lambda/d) z; zeros before the first step).
    // Streamed, it is drawn again from the stream, into a buffer allocated at the first call:
    // for tests, not for a step loop.
    std::span<const double> last_sample() const;
    // resident or streamed: the layout in use.
    Layout layout() const { return layout_; }
    model::Observables observe(std::size_t m, double threshold) const;
    const Problem& problem() const { return problem_; }
    model::Parametrization parametrization() const { return param_; }

private:
    struct Member {
        double lr;
        double* u = nullptr;  // in arrays_
        double* v = nullptr;  // nullptr for linear (u is w)
        double residual = 0.0;
        double inner = 0.0;   // <x_{steps_}, w - beta*> of the current state
        double risk = 0.0;
        bool live = true;
        double g = 0.0;       // this step's coefficient of x in the update
        double risk_sum[kLanes] = {}, inner_sum[kLanes] = {};  // this step's partial sums
    };
    // Chunk c's sqrt(lambda/d) for the generator, and its beta* (dense, or a sparse beta*
    // expanded into beta_chunk_ and zeroed again by release_beta).
    const double* chunk_scale(std::size_t c) const;
    const double* chunk_beta(std::size_t c);
    void release_beta(std::size_t c);
    template <model::Parametrization P, bool Isotropic, Layout L>
    void step_as();
    template <model::Parametrization P, bool Isotropic, Layout L>
    void start_as();
    template <bool Start>
    void dispatch();

    Problem problem_;
    model::Parametrization param_;
    rng::SampleStream stream_;
    std::size_t dim_;
    std::size_t chunks_;
    bool isotropic_;
    Layout layout_;
    StaggeredArrays arrays_;  // all of the arrays below
    double* scale_;   // sqrt(lambda_i / d); 0 on the padding, so padded x are 0
    double* lambda_;  // 0 on the padding
    double* beta_;    // 0 on the padding
    // Resident: x of the last step taken, and of the next step, drawn by the last pass.
    double* x_ = nullptr;
    double* ahead_ = nullptr;
    // Streamed: z of the next step (padded d floats), and the L1 chunks of x_k and x_{k+1}.
    float* z_ = nullptr;
    float* z_next_chunk_ = nullptr;  // kChunk floats: z_{k+1} of the chunk being stepped
    double* x_chunk_ = nullptr;
    double* next_chunk_ = nullptr;
    mutable std::vector<double> last_sample_;  // streamed: last_sample()'s buffer
    std::vector<double> uniform_;  // kChunk doubles sqrt(1/d): the scale of isotropic data
    // A sparse beta* (d >= 2^15, under 4/9 nonzero): chunk c's nonzeros are beta_value_[j] at
    // beta_pos_[j] within the chunk, j in [beta_first_[c], beta_first_[c + 1]). The step then
    // reads about 9 s bytes per coordinate for beta* instead of 8.
    bool sparse_beta_ = false;
    std::vector<double> beta_chunk_;
    std::vector<std::uint32_t> beta_first_;
    std::vector<std::uint8_t> beta_pos_;
    std::vector<double> beta_value_;
    std::vector<Member> members_;
    std::uint64_t steps_ = 0;
};

}  // namespace dln::sim
