// Extending a sweep (sweep_extension.hpp): which configurations extend which, and where each unit
// of the bigger grid is in the old one. Plain functions: no MPI, no HDF5.
#include <catch2/catch.hpp>

#include <string>

#include "dln/config/config.hpp"
#include "dln/sweep/sweep_extension.hpp"

using namespace dln::sweep;
using dln::model::Method;

namespace {

const std::string base = "[run]\ntime = 0.1\nsnapshots = 3\nseeds = 2\nmethods = sgd, sde, pde\n";

dln::config::Config make(const std::string& sweep, const std::string& more = "", const std::string& run = base) {
    return dln::config::parse_ini_text(run + more + "[sweep]\n" + sweep);
}

std::string refusals_of(const dln::config::Config& old, const dln::config::Config& bigger) {
    std::string text;
    for (const auto& r : extension_refusals(old, bigger)) text += (text.empty() ? "" : "; ") + r;
    return text;
}

// The oracle, independent of CellMap's index arithmetic: the unit of old that computes the same
// thing as unit p of bigger is the one with the same point (every model and data value, lr, dim
// and alpha) and replicate; the PDE's units have no dim and no replicate, so those are ignored.
std::size_t same_unit(const SweepGrid& old, const SweepGrid& bigger, Method m, std::size_t p) {
    const auto& u = bigger.unit_at(m, p);
    const auto want = bigger.point(u);
    std::size_t found = CellMap::none;
    for (std::size_t q = 0; q < old.method_units(m); ++q) {
        const auto& v = old.unit_at(m, q);
        const auto have = old.point(v);
        const bool pde = m == Method::pde;
        if (have.parametrization == want.parametrization && have.data == want.data && have.lr == want.lr &&
            have.alpha == want.alpha && (pde || (have.dim == want.dim && old.replicate(v) == bigger.replicate(u)))) {
            REQUIRE(found == CellMap::none);  // at most one
            found = q;
        }
    }
    return found;
}

// Checks CellMap against the oracle on every unit of every method; returns how many units map.
std::size_t check_map(const dln::config::Config& old_config, const dln::config::Config& bigger_config) {
    REQUIRE(refusals_of(old_config, bigger_config).empty());
    const SweepGrid old(old_config), bigger(bigger_config);
    const CellMap map(old, bigger);
    std::size_t mapped = 0;
    for (const auto m : bigger_config.methods) {
        for (std::size_t p = 0; p < bigger.method_units(m); ++p) {
            INFO(dln::model::name(m) << " " << bigger.describe(bigger.unit_at(m, p), m));
            const auto q = map.old_position(m, p);
            CHECK(q == same_unit(old, bigger, m, p));
            if (q != CellMap::none) ++mapped;
        }
    }
    return mapped;
}

std::size_t all_units(const dln::config::Config& c) {
    const SweepGrid grid(c);
    std::size_t n = 0;
    for (const auto m : c.methods) n += grid.method_units(m);
    return n;
}

}  // namespace

TEST_CASE("extension: a sweep extends itself, every unit in its place", "[sweep][extend]") {
    const auto c = make("lr = 0.5, 1\ndim = 10, 20\nalpha = 0.1\n", "[data]\nnoise = 0, 0.1\n");
    CHECK(check_map(c, c) == all_units(c));
}

TEST_CASE("extension: added values on every kind of axis map the old units, and only those", "[sweep][extend]") {
    const auto old = make("lr = 0.5, 2\ndim = 20, 40\nalpha = 0.1, 0.3\n");
    SECTION("learning rates before, between and after, in another order") {
        CHECK(check_map(old, make("lr = 3, 2, 1, 0.5, 0.25\ndim = 20, 40\nalpha = 0.1, 0.3\n")) == all_units(old));
    }
    SECTION("replicates (and the PDE, which has none, maps each of its units once)") {
        const auto bigger = make("lr = 0.5, 2\ndim = 20, 40\nalpha = 0.1, 0.3\n", "",
                                 "[run]\ntime = 0.1\nsnapshots = 3\nseeds = 5\nmethods = sgd, sde, pde\n");
        CHECK(check_map(old, bigger) == all_units(old));
    }
    SECTION("dimensions: the PDE's units, without a dim axis, all map") {
        const auto bigger = make("lr = 0.5, 2\ndim = 10, 20, 40, 80\nalpha = 0.1, 0.3\n");
        CHECK(check_map(old, bigger) == all_units(old));
        const SweepGrid o(old), b(bigger);
        const CellMap map(o, b);
        for (std::size_t p = 0; p < b.method_units(Method::pde); ++p) CHECK(map.old_position(Method::pde, p) != CellMap::none);
    }
    SECTION("a key of one value becomes an axis: numeric (data.noise) and categorical (data.target)") {
        const auto bigger = make("lr = 0.5, 2\ndim = 20, 40\nalpha = 0.1, 0.3, 1\n",
                                 "[data]\nnoise = 0.2, 0\ntarget = rademacher, constant\n");
        CHECK(check_map(old, bigger) == all_units(old));
    }
    SECTION("an existing extra axis gains a value") {
        const auto old_noise = make("lr = 0.5\ndim = 20\nalpha = 0.1\n", "[data]\nnoise = 0, 0.1\n");
        const auto bigger = make("lr = 0.5\ndim = 20\nalpha = 0.1\n", "[data]\nnoise = 0.1, 0.05, 0\n");
        CHECK(check_map(old_noise, bigger) == all_units(old_noise));
    }
    SECTION("the same values written another way are the same values") {
        const auto same = make("lr = linspace(0.5, 2, 2)\ndim = 20.0, 40\nalpha = 0.10, 0.3\n");
        CHECK(refusals_of(old, same).empty());
        CHECK(check_map(old, same) == all_units(old));
        CHECK(refusals_of(old, make("lr = 0.5, 2\ndim = 20, 40\nalpha = 0.1, 0.3\n", "[data]\nscale = 1.0\n")).empty());
    }
}

TEST_CASE("extension: anything but added values and replicates is refused, naming the key", "[sweep][extend]") {
    const auto old = make("lr = 0.5, 2\ndim = 20, 40\nalpha = 0.1\n", "[data]\nnoise = 0, 0.1\n");
    auto with = [](const std::string& sweep, const std::string& more, const std::string& run = base) {
        return make(sweep, more, run);
    };
    const std::string sweep = "lr = 0.5, 2\ndim = 20, 40\nalpha = 0.1\n", noise = "[data]\nnoise = 0, 0.1\n";
    CHECK(refusals_of(old, with("lr = 0.5\ndim = 20, 40\nalpha = 0.1\n", noise)) == "sweep.lr (drops 2)");
    CHECK(refusals_of(old, with("lr = 0.5, 2\ndim = 40\nalpha = 0.1\n", noise)) == "sweep.dim (drops 20)");
    CHECK(refusals_of(old, with(sweep, "[data]\nnoise = 0.1\n")) == "data.noise (drops 0)");
    CHECK(refusals_of(old, with(sweep, noise + "scale = 2\n")) == "data.scale (1 -> 2)");
    CHECK(refusals_of(old, with(sweep, noise + "[model]\nparametrization = uv, linear\n")) ==
          "model.parametrization (drops u2v2)");
    // Not merely numbers that print alike: 0.1 + 0.2 is not 0.3.
    CHECK(refusals_of(make("lr = 0.3\n"), make("lr = 0.30000000000000004\n")) == "sweep.lr (drops 0.3)");
    const std::string run = "[run]\ntime = 0.1\nsnapshots = 3\nmethods = sgd, sde, pde\n";
    CHECK(refusals_of(old, with(sweep, noise, run + "seeds = 1\n")) == "run.seeds (2 -> 1: replicates can be added, not removed)");
    CHECK(refusals_of(old, with(sweep, noise, run + "seeds = 2\nseed = 9\n")) == "run.seed");
    CHECK(refusals_of(old, with(sweep, noise, "[run]\ntime = 0.2\nsnapshots = 3\nseeds = 2\nmethods = sgd, sde, pde\n")) ==
          "run.time");
    CHECK(refusals_of(old, with(sweep, noise, "[run]\ntime = 0.1\nsnapshots = 3\nseeds = 2\nmethods = sgd, sde\n")) ==
          "run.methods");
    CHECK(refusals_of(old, with(sweep, noise + "[pde]\nrtol = 0.01\n")) == "pde.rtol");
    // Several at once, in key order.
    CHECK(refusals_of(old, with("lr = 1\ndim = 20, 40\nalpha = 0.1\n", noise + "[pde]\nrtol = 0.01\n")) ==
          "pde.rtol; sweep.lr (drops 0.5, 2)");
    const SweepGrid o(old), b(with("lr = 1\ndim = 20, 40\nalpha = 0.1\n", noise));
    CHECK_THROWS_AS(CellMap(o, b), std::invalid_argument);
}

TEST_CASE("extension: carried states take done and diverged units only", "[sweep][extend]") {
    const auto old_config = make("lr = 0.5, 2\ndim = 20\nalpha = 0.1\n");
    const auto bigger_config = make("lr = 0.5, 1, 2\ndim = 20\nalpha = 0.1\n");
    const SweepGrid old(old_config), bigger(bigger_config);
    const CellMap map(old, bigger);
    std::map<Method, std::vector<std::int8_t>> status;
    // sgd and sde: lr=0.5 seed 0 done, seed 1 diverged, lr=2 seed 0 failed, seed 1 pending.
    for (const auto m : {Method::sgd, Method::sde}) status[m] = {1, 2, 3, 0};
    status[Method::pde] = {3, 1};  // lr=0.5 failed, lr=2 done
    const auto states = carried_states(map, bigger, status);
    CHECK(states.status.at(Method::sgd) == std::vector<std::int8_t>{1, 2, 0, 0, 0, 0});
    CHECK(states.status.at(Method::sde) == std::vector<std::int8_t>{1, 2, 0, 0, 0, 0});
    CHECK(states.status.at(Method::pde) == std::vector<std::int8_t>{0, 0, 1});
    CHECK(states.failures.at(Method::sgd) == std::vector<std::int8_t>(6, 0));
    // What is left to compute is every unit of the bigger grid but the three carried ones.
    SweepOptions options;
    CHECK(tasks_to_do(bigger, &states, options).size() == bigger.tasks().size() - 5);
}
