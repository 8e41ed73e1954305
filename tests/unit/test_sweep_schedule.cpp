// The sweep's schedule and output plan as plain functions: no MPI, no HDF5.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "dln/config/config.hpp"
#include "dln/sweep/output_plan.hpp"
#include "dln/sweep/sweep_protocol.hpp"
#include "dln/sweep/sweep_schedule.hpp"

using namespace dln::sweep;

namespace {

dln::config::Config grid_config(const std::string& extra = "") {
    return dln::config::parse_ini_text("[run]\ntime = 0.1\nsnapshots = 3\nseeds = 3\nmethods = sgd, sde\n" + extra +
                                       "[sweep]\nlr = 0.5, 1\ndim = 50, 100\nalpha = 0.1, 0.2, 0.3\n");
}

std::vector<std::int64_t> task_ids(const std::vector<std::vector<Assignment>>& batches) {
    std::vector<std::int64_t> ids;
    for (const auto& b : batches)
        for (const auto& a : b) ids.push_back(a.task);
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace

TEST_CASE("tasks_to_do: the whole sweep, a shard, and what a resumed file leaves", "[sweep][schedule]") {
    const SweepGrid grid(grid_config());
    SweepOptions options;
    const auto all = tasks_to_do(grid, nullptr, options);
    REQUIRE(all.size() == grid.tasks().size());
    for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i] == Assignment{static_cast<std::int64_t>(i), 0});

    options.shard = 2;
    options.shards = 3;
    const auto shard = tasks_to_do(grid, nullptr, options);
    CHECK(shard.size() == (all.size() + 1) / 3);
    for (const auto& a : shard) CHECK(a.task % 3 == 1);

    // A resumed file: every unit done but one pending, one failed once, one failed twice.
    options = SweepOptions{};
    UnitStates states;
    for (const auto m : {dln::model::Method::sgd, dln::model::Method::sde}) {
        states.status[m].assign(grid.method_units(m), 1);
        states.failures[m].assign(grid.method_units(m), 0);
    }
    auto where = [&](std::size_t task) {
        const auto& t = grid.tasks()[task];
        return grid.position(t.method, grid.unit(t.unit));
    };
    const auto m0 = grid.tasks()[0].method, m1 = grid.tasks()[1].method, m2 = grid.tasks()[2].method;
    states.status[m0][where(0)] = 0;
    states.status[m1][where(1)] = 3;
    states.failures[m1][where(1)] = 1;
    states.status[m2][where(2)] = 3;
    states.failures[m2][where(2)] = 2;
    const auto left = tasks_to_do(grid, &states, options);
    REQUIRE(left.size() == 2);
    CHECK(left[0] == Assignment{0, 0});
    CHECK(left[1] == Assignment{1, 1});
    options.retry_failed = true;
    CHECK(tasks_to_do(grid, &states, options).size() == 3);
}

TEST_CASE("form_batches: sgd of one family together, every task once, largest first", "[sweep][schedule]") {
    const SweepGrid grid(grid_config());
    const auto todo = tasks_to_do(grid, nullptr, SweepOptions{});
    for (const std::size_t b : {std::size_t{1}, std::size_t{2}, std::size_t{4}, std::size_t{16}, kBatchAuto}) {
        for (const std::size_t workers : {std::size_t{1}, std::size_t{3}}) {
            const auto batches = form_batches(grid, todo, b, workers);
            CHECK(task_ids(batches) == task_ids({todo}));
            for (std::size_t k = 0; k < batches.size(); ++k) {
                const auto& batch = batches[k];
                REQUIRE(!batch.empty());
                const auto& first = grid.tasks()[static_cast<std::size_t>(batch.front().task)];
                if (first.method != dln::model::Method::sgd || b == 1) CHECK(batch.size() == 1);
                if (b != kBatchAuto) CHECK(batch.size() <= b);
                for (const auto& a : batch) {
                    const auto& t = grid.tasks()[static_cast<std::size_t>(a.task)];
                    CHECK(t.method == first.method);
                    CHECK(grid.family_key(grid.unit(t.unit)) == grid.family_key(grid.unit(first.unit)));
                    // An explicit batch is one lockstep group: one replicate.
                    if (b != kBatchAuto) CHECK(grid.batch_key(grid.unit(t.unit)) == grid.batch_key(grid.unit(first.unit)));
                }
                if (k > 0) CHECK(handout_cost(grid, batches[k - 1]) >= handout_cost(grid, batch));
            }
        }
    }
    // 6 (lr, alpha) points per (dim, replicate): batches of 4 split them 3 + 3.
    std::size_t sgd_handouts = 0;
    for (const auto& batch : form_batches(grid, todo, 4)) {
        if (grid.tasks()[static_cast<std::size_t>(batch.front().task)].method != dln::model::Method::sgd) continue;
        ++sgd_handouts;
        CHECK(batch.size() == 3);
    }
    CHECK(sgd_handouts == 2 * 3 * 2);
}

TEST_CASE("form_batches: tiny units in blocks of whole replicate columns, adjacent rows", "[sweep][schedule]") {
    // d = 50 and 100, T = 0.1: far below kColumnsFirstSeconds. A family (one dim) is 6 points x 3
    // replicates; at one worker a hand-out holds ceil(18 / 8) = 3 units: one point's 3 replicates.
    const SweepGrid grid(grid_config());
    const auto todo = tasks_to_do(grid, nullptr, SweepOptions{});
    const auto method = dln::model::Method::sgd;
    std::size_t sgd_handouts = 0;
    for (const auto& batch : form_batches(grid, todo, kBatchAuto, 1)) {
        const auto& first = grid.tasks()[static_cast<std::size_t>(batch.front().task)];
        if (first.method != method) continue;
        ++sgd_handouts;
        CHECK(batch.size() == 3);
        std::vector<std::size_t> rows;
        for (const auto& a : batch) rows.push_back(grid.position(method, grid.unit(grid.tasks()[static_cast<std::size_t>(a.task)].unit)));
        std::sort(rows.begin(), rows.end());
        CHECK(rows.back() - rows.front() == rows.size() - 1);  // one run of consecutive rows
        // Three lockstep groups (one per replicate) of one member each.
        const auto groups = lockstep_groups(grid, batch);
        CHECK(groups.size() == 3);
    }
    CHECK(sgd_handouts == 2 * 6);
    // A resumed sweep's scattered leftovers: still every task once, and each hand-out's lockstep
    // groups one replicate each, covering the hand-out once.
    std::vector<Assignment> left;
    for (std::size_t i = 0; i < todo.size(); i += 2) left.push_back(todo[i]);
    const auto batches = form_batches(grid, left, kBatchAuto, 2);
    CHECK(task_ids(batches) == task_ids({left}));
    for (const auto& batch : batches) {
        std::vector<std::size_t> seen;
        for (const auto& group : lockstep_groups(grid, batch)) {
            const auto& lead = grid.tasks()[static_cast<std::size_t>(batch[group.front()].task)];
            for (const std::size_t i : group) {
                seen.push_back(i);
                const auto& t = grid.tasks()[static_cast<std::size_t>(batch[i].task)];
                if (t.method == method) CHECK(grid.batch_key(grid.unit(t.unit)) == grid.batch_key(grid.unit(lead.unit)));
            }
            if (lead.method != method) CHECK(group.size() == 1);
        }
        std::sort(seen.begin(), seen.end());
        CHECK(seen.size() == batch.size());
        for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == i);
    }
}

TEST_CASE("handout_shape: explicit batches, costly units, tiny units", "[sweep][schedule]") {
    CHECK(handout_shape(4, 1e-6, 2000, 20, 2) == HandoutShape{4, 1});  // an explicit batch: one replicate
    CHECK(handout_shape(kBatchAuto, 1.0, 2000, 20, 2) == HandoutShape{kAutoBatchMin, 1});
    CHECK(handout_shape(kBatchAuto, 2e-4, 2000, 20, 2) == HandoutShape{auto_batch(2e-4), 1});  // 50 points
    // tiny_units.sh: 2000 units, 20 replicates, 2 workers: 2000 / 16 = 125 units, 6 whole columns.
    CHECK(handout_shape(kBatchAuto, 1e-6, 2000, 20, 2) == HandoutShape{6, 20});
    // More replicates than a hand-out holds: one point, as many replicates as fit (auto_batch's cap).
    CHECK(handout_shape(kBatchAuto, 1e-6, 1000000, 10000, 2) == HandoutShape{1, kBatchMax});
    CHECK(handout_shape(kBatchAuto, 1e-6, 3, 3, 64) == HandoutShape{1, 1});
}

TEST_CASE("auto_batch: 16 for costly units, more for tiny ones, never above the cap", "[sweep][schedule]") {
    CHECK(auto_batch(1.0) == kAutoBatchMin);
    CHECK(auto_batch(kAutoBatchSeconds / 16) == kAutoBatchMin);
    CHECK(auto_batch(kAutoBatchSeconds / 100) == 100);
    CHECK(auto_batch(1e-12) == kBatchMax);
    CHECK(auto_batch(0.0) == kBatchMax);
}

TEST_CASE("the options every rank gets go by name", "[sweep][protocol]") {
    SweepOptions o;
    o.overwrite = true;
    o.retry_failed = true;
    o.shard = 3;
    o.shards = 7;
    o.batch = 33;
    o.commit_seconds = 0.125;
    o.plan = OutputPlan::rebuild;
    SweepOptions back;
    protocol::decode_options(protocol::encode_options(o), back);
    CHECK(back.overwrite);
    CHECK(!back.resume);
    CHECK(back.retry_failed);
    CHECK(!back.quiet);
    CHECK(back.shard == 3);
    CHECK(back.shards == 7);
    CHECK(back.batch == 33);
    CHECK(back.commit_seconds == 0.125);
    CHECK(back.plan == OutputPlan::rebuild);
    CHECK_THROWS_AS(protocol::decode_options("flavour=1\n", back), std::invalid_argument);
}

TEST_CASE("plan_output without HDF5: new files, refusals, nothing to resume", "[sweep][plan]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("dln-plan-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const auto config = grid_config();
    SweepOptions options;
    options.output = (dir / "out.h5").string();
    std::string note;
    CHECK(plan_output(config, options, note) == OutputPlan::create);
    CHECK(note.empty());

    options.resume = true;  // nothing there: the sweep starts
    CHECK(plan_output(config, options, note) == OutputPlan::create);
    CHECK(note.find("nothing to resume") != std::string::npos);

    options.overwrite = true;  // --resume with --force
    CHECK_THROWS_AS(plan_output(config, options, note), dln::config::ConfigError);

    options = SweepOptions{};
    options.output = (dir / "missing" / "out.h5").string();
    CHECK_THROWS_AS(plan_output(config, options, note), dln::config::ConfigError);

    options.output = (dir / "out.h5").string();
    std::ofstream(options.output) << "not a sweep file";
    CHECK_THROWS_AS(plan_output(config, options, note), dln::config::ConfigError);  // exists, no --force
    options.overwrite = true;
    CHECK(plan_output(config, options, note) == OutputPlan::create);

    // An unfinished sweep's journal without the file: refused without --resume, rebuilt with it.
    fs::remove(options.output);
    fs::create_directories(options.output + ".journal");
    std::ofstream(options.output + ".journal/config.ini") << config.ini;
    options.overwrite = false;
    CHECK_THROWS_AS(plan_output(config, options, note), dln::config::ConfigError);
    options.resume = true;
    CHECK(plan_output(config, options, note) == OutputPlan::rebuild);
    CHECK(note.find("missing") != std::string::npos);
    // ... but not with another configuration.
    CHECK_THROWS_AS(plan_output(grid_config("[model]\nparametrization = uv\n"), options, note),
                    dln::config::ConfigError);
    fs::remove_all(dir);
}
