#include <catch2/catch.hpp>

#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>

#include "dln/config/axis.hpp"
#include "dln/config/config.hpp"
#include "dln/sweep/sweep_grid.hpp"

namespace po = boost::program_options;
using dln::config::ConfigError;
using dln::config::parse_axis;

namespace {

dln::config::Config resolve_args(std::vector<std::string> args) {
    po::options_description desc;
    desc.add(dln::config::input_options()).add(dln::config::config_options());
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    return dln::config::resolve(vm);
}

std::string write_file(const std::string& text) {
    char name[] = "/tmp/dln-config-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    std::ofstream(name) << text;
    return name;
}

}  // namespace

TEST_CASE("axes: values, lists, linspace and logspace", "[config]") {
    CHECK(parse_axis("0.5") == std::vector<double>{0.5});
    CHECK(parse_axis(" 1, 2 ,4 ") == std::vector<double>{1, 2, 4});
    CHECK(parse_axis("linspace(0, 1, 5)") == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
    const auto log = parse_axis("logspace(-1, 1, 3)");
    REQUIRE(log.size() == 3);
    CHECK(log[0] == Approx(0.1));
    CHECK(log[1] == Approx(1.0));
    CHECK(log[2] == Approx(10.0));
    CHECK(parse_axis("linspace(2, 2, 1)") == std::vector<double>{2});
}

TEST_CASE("axes: every malformed form is rejected with a reason", "[config]") {
    for (const char* bad : {"", " ", "1,,2", "1, x", "nan", "inf", "1e999", "linspace(0,1)", "linspace(0,1,0)",
                            "linspace(0,1,2.5)", "linspace(0,1,-3)", "logspace(0,1,3", "range(0,1,3)",
                            "1, 2, 1", "linspace(1, 2, 1)"}) {
        INFO("axis '" << bad << "'");
        CHECK_THROWS_AS(parse_axis(bad), std::invalid_argument);
    }
}

TEST_CASE("defaults make a sensible single point", "[config]") {
    const auto c = resolve_args({});
    CHECK(c.parametrization == dln::model::Parametrization::u2v2);
    CHECK(c.lr == std::vector<double>{0.5});
    CHECK(c.dim == std::vector<std::uint64_t>{1000});
    CHECK(c.alpha == std::vector<double>{0.1});
    CHECK(c.methods == std::vector<dln::model::Method>{dln::model::Method::sgd});
    REQUIRE(c.axes.size() == 4);  // lr, dim, alpha, seed: no extra axis
    CHECK(c.axes[3].name == "seed");
    CHECK_NOTHROW(dln::config::require_single_point(c));
}

TEST_CASE("the command line wins over the file, and shorthands are the same keys", "[config]") {
    const auto file = write_file("[data]\nnoise = 0.3\nsparsity = 0.5\n[sweep]\nlr = 1, 2\n");
    const auto c = resolve_args({"--config", file, "--data.noise=0.1", "--lr", "0.25", "--dim", "logspace(2,3,2)"});
    CHECK(c.data.noise == 0.1);
    CHECK(c.data.sparsity == 0.5);
    CHECK(c.lr == std::vector<double>{0.25});
    CHECK(c.dim == std::vector<std::uint64_t>{100, 1000});
    CHECK_THROWS_WITH(dln::config::require_single_point(c), Catch::Contains("sweep.dim"));
    CHECK_THROWS_WITH(resolve_args({"--lr", "1", "--sweep.lr", "2"}), Catch::Contains("sweep.lr"));
    std::remove(file.c_str());
}

TEST_CASE("the resolved INI text reproduces the configuration", "[config]") {
    const auto c = resolve_args({"--model.parametrization=uv", "--data.target=rademacher", "--run.seeds=3",
                                 "--alpha", "linspace(0.1, 0.3, 3)"});
    const auto again = dln::config::parse_ini_text(c.ini);
    CHECK(again.ini == c.ini);
    CHECK(again.parametrization == dln::model::Parametrization::uv);
    CHECK(again.seeds == 3);
    CHECK(again.alpha == c.alpha);
}

TEST_CASE("every bad key is reported by name", "[config]") {
    const std::pair<std::vector<std::string>, const char*> cases[] = {
        {{"--sweep.dim=-5"}, "sweep.dim"},
        {{"--dim", "10.5"}, "sweep.dim"},
        {{"--sweep.dim=0"}, "sweep.dim"},
        {{"--lr", "0"}, "sweep.lr"},
        {{"--alpha", "-0.1"}, "sweep.alpha"},
        {{"--sweep.alpha", " "}, "sweep.alpha"},
        {{"--data.noise=abc"}, "data.noise"},
        {{"--data.noise=nan"}, "data.noise"},
        {{"--data.sparsity=1.5"}, "data.sparsity"},
        {{"--data.exponent=1"}, "data.exponent"},
        {{"--model.parametrization=mlp"}, "model.parametrization"},
        {{"--data.target=uniform"}, "data.target"},
        {{"--run.time=0"}, "run.time"},
        {{"--run.snapshots=1"}, "run.snapshots"},
        {{"--run.seeds=0"}, "run.seeds"},
        {{"--run.seed=-1"}, "run.seed"},
        {{"--run.methods=sgd,sgd"}, "run.methods"},
        {{"--run.methods=adam"}, "run.methods"},
        {{"--lr", "linspace(0.01, 1, 100000)", "--run.seeds=100000"}, "sweep: the grid has"},
        {{"--config", "/nonexistent/sweep.ini"}, "--config"},
    };
    for (const auto& [args, key] : cases) {
        INFO(args.front() << (args.size() > 1 ? " " + args[1] : std::string()));
        CHECK_THROWS_WITH(resolve_args(args), Catch::StartsWith(key));
    }
    const auto file = write_file("[data]\nnoisy = 0.3\n");
    CHECK_THROWS_WITH(resolve_args({"--config", file}), Catch::StartsWith("data.noisy: unknown key"));
    std::remove(file.c_str());
}

TEST_CASE("the schedule hands out the most expensive units first", "[sweep]") {
    const auto c = resolve_args({"--dim", "100, 400, 200", "--lr", "1, 2", "--alpha", "0.1, 0.2", "--run.seeds=2",
                                 "--method", "sgd,pde"});
    const dln::sweep::SweepGrid grid(c);
    REQUIRE(grid.size() == 24);
    // sgd: every unit; pde: one per (lr, alpha)
    REQUIRE(grid.tasks().size() == 24 + 4);
    double last = grid.tasks().front().cost;
    for (const auto& task : grid.tasks()) {
        CHECK(task.cost <= last);
        last = task.cost;
    }
    // A PDE solve costs about what SGD does at d = 2000, so here the four PDE tasks go first,
    // then SGD from the largest dimension down.
    for (std::size_t i = 0; i < 4; ++i) CHECK(grid.tasks()[i].method == dln::model::Method::pde);
    CHECK(grid.point(grid.unit(grid.tasks()[4].unit)).dim == 400);
    CHECK(grid.point(grid.unit(grid.tasks().back().unit)).dim == 100);
}

TEST_CASE("data.ratio and the Marchenko-Pastur spectrum", "[config]") {
    const auto c = resolve_args({"--data.spectrum=marchenko-pastur", "--data.ratio=0.25"});
    CHECK(c.data.spectrum == dln::model::Spectrum::marchenko_pastur);
    CHECK(c.data.ratio == 0.25);
    CHECK(resolve_args({}).data.ratio == 0.5);
    for (const char* bad : {"--data.ratio=0", "--data.ratio=1.5", "--data.ratio=-0.1", "--data.ratio=x"}) {
        INFO(bad);
        CHECK_THROWS_WITH(resolve_args({bad}), Catch::StartsWith("data.ratio: "));
    }
    CHECK_NOTHROW(resolve_args({"--data.ratio=1"}));
}

TEST_CASE("a file spectrum: read, sorted, stored absolutely with a checksum of the values", "[config]") {
    const auto file = write_file("# eigenvalues\n2.0 0.5  # two on a line\n\n1e0\n\t4\n");
    const auto c = resolve_args({"--data.spectrum=file", "--data.spectrum_file=" + file});
    CHECK(c.data.spectrum == dln::model::Spectrum::file);
    CHECK(c.data.eigenvalues == std::vector<double>{0.5, 1.0, 2.0, 4.0});
    CHECK(c.ini.find("spectrum_file = " + file + "\n") != std::string::npos);  // mkstemp paths are absolute
    CHECK(c.ini.find("spectrum_checksum = fnv1a64:") != std::string::npos);
    // The stored text reproduces itself while the file is unchanged.
    CHECK(dln::config::parse_ini_text(c.ini).ini == c.ini);
    // Same values in another layout: same checksum; other values: the resume check sees the key differ.
    std::ofstream(file) << "4 2 1 0.5\n";
    CHECK(resolve_args({"--data.spectrum=file", "--data.spectrum_file=" + file}).ini == c.ini);
    std::ofstream(file) << "4 2 1 0.25\n";
    const auto changed = resolve_args({"--data.spectrum=file", "--data.spectrum_file=" + file});
    CHECK(dln::config::differing_keys(c.ini, changed.ini) == std::vector<std::string>{"data.spectrum_checksum"});
    // A stored configuration whose file has changed since is refused, naming the file key.
    CHECK_THROWS_WITH(dln::config::parse_ini_text(c.ini), Catch::StartsWith("data.spectrum_file: ") &&
                                                               Catch::Contains("no longer holds"));
    std::remove(file.c_str());
}

TEST_CASE("a bad spectrum file is one line naming data.spectrum_file", "[config]") {
    const std::pair<const char*, const char*> bad[] = {
        {"", "lists no eigenvalues"},
        {"# only a comment\n\n", "lists no eigenvalues"},
        {"1 2 x\n", "line 1: 'x' is not a number"},
        {"1\n0\n", "line 2: eigenvalue 0 is not > 0"},
        {"1\n-2\n", "eigenvalue -2 is not > 0"},
        {"1 nan\n", "not a finite number"},
        {"inf\n", "not a finite number"},
        {"1e999\n", "not a finite number"},
        {"1,2\n", "is not a number"},
    };
    for (const auto& [text, reason] : bad) {
        const auto file = write_file(text);
        INFO("file '" << text << "'");
        try {
            resolve_args({"--data.spectrum=file", "--data.spectrum_file=" + file});
            FAIL("accepted");
        } catch (const ConfigError& e) {
            const std::string what = e.what();
            CHECK_THAT(what, Catch::StartsWith("data.spectrum_file: ") && Catch::Contains(reason));
            CHECK(what.find('\n') == std::string::npos);
        }
        std::remove(file.c_str());
    }
    CHECK_THROWS_WITH(resolve_args({"--data.spectrum=file", "--data.spectrum_file=/nonexistent/eig.txt"}),
                      Catch::StartsWith("data.spectrum_file: cannot read"));
    CHECK_THROWS_WITH(resolve_args({"--data.spectrum=file", "--data.spectrum_file=/tmp"}),
                      Catch::StartsWith("data.spectrum_file: ") && Catch::Contains("directory"));
    CHECK_THROWS_WITH(resolve_args({"--data.spectrum=file"}), Catch::StartsWith("data.spectrum_file: ") &&
                                                                  Catch::Contains("needs a file"));
    const auto file = write_file("1 2\n");
    CHECK_THROWS_WITH(resolve_args({"--data.spectrum_file=" + file}),
                      Catch::StartsWith("data.spectrum_file: is set, but data.spectrum is isotropic"));
    CHECK_THROWS_WITH(resolve_args({"--data.spectrum_checksum=fnv1a64:0"}), Catch::StartsWith("data.spectrum_checksum: "));
    std::remove(file.c_str());
}

TEST_CASE("any [model] or [data] key given several values is an axis, after lr, dim and alpha", "[config][axes]") {
    using dln::model::Method;
    // Given out of the key table's order: the axes follow the table (parametrization first).
    const auto c = resolve_args({"--data.noise", "0, 0.25, 0.5", "--model.parametrization", "u2v2, uv", "--lr", "1, 2",
                                 "--run.seeds=2", "--method", "sgd,pde"});
    REQUIRE(c.axes.size() == 6);
    CHECK(c.axes[3].name == "parametrization");
    CHECK(c.axes[3].key == "model.parametrization");
    CHECK(c.axes[3].categorical);
    CHECK(c.axes[3].labels == std::vector<std::string>{"u2v2", "uv"});
    CHECK(c.axes[4].name == "noise");
    CHECK(c.axes[4].values == std::vector<double>{0.0, 0.25, 0.5});
    CHECK(c.axes[5].name == "seed");
    // The point of each unit takes its values; the base point the first ones.
    CHECK(c.data.noise == 0.0);
    const auto p = c.model_at({1, 2});
    CHECK(p.parametrization == dln::model::Parametrization::uv);
    CHECK(p.data.noise == 0.5);

    const dln::sweep::SweepGrid grid(c);
    REQUIRE(grid.size() == 2 * 1 * 1 * 2 * 3 * 2);
    // The PDE: once per point of every axis but dim and seed.
    std::size_t pde_tasks = 0;
    for (const auto& t : grid.tasks()) pde_tasks += t.method == Method::pde;
    CHECK(pde_tasks == 2 * 1 * 2 * 3);
    CHECK(grid.method_units(Method::pde) == 12);
    CHECK(grid.method_units(Method::sgd) == grid.size());
    // Positions and their inverse agree, for every unit a method computes.
    for (std::size_t id = 0; id < grid.size(); ++id) {
        const auto& unit = grid.unit(id);
        CHECK(grid.position(Method::sgd, unit) == id);
        if (grid.computes(Method::pde, unit)) CHECK(grid.unit_at(Method::pde, grid.position(Method::pde, unit)).id == id);
        // A lockstep batch shares one dim, model, data and replicate.
        const auto& first = grid.unit(grid.batch_key(unit));
        CHECK(grid.point(first).parametrization == grid.point(unit).parametrization);
        CHECK(grid.point(first).data == grid.point(unit).data);
        CHECK(grid.replicate(first) == grid.replicate(unit));
    }
    const auto& last = grid.unit(grid.size() - 1);
    CHECK(grid.describe(last, Method::sgd) == "lr=2 dim=1000 alpha=0.1 parametrization=uv noise=0.5 seed=1");
    CHECK(grid.describe(last, Method::pde) == "lr=2 alpha=0.1 parametrization=uv noise=0.5");
    // dln run computes one point and names the key that holds more.
    CHECK_THROWS_WITH(dln::config::require_single_point(c), Catch::StartsWith("sweep.lr:"));
    const auto one = resolve_args({"--data.noise", "0, 0.5"});
    CHECK_THROWS_WITH(dln::config::require_single_point(one), Catch::StartsWith("data.noise:"));
}

TEST_CASE("a key with one value is no axis, whatever its form", "[config][axes]") {
    const auto c = resolve_args({"--data.noise", "linspace(0.5, 0.5, 1)", "--data.target", "gaussian"});
    CHECK(c.axes.size() == 4);
    CHECK(c.data.noise == 0.5);
    CHECK(c.data.target == dln::model::TargetLaw::gaussian);
}

TEST_CASE("bad axes: one line naming the key", "[config][axes]") {
    auto message = [](std::vector<std::string> args) {
        try {
            resolve_args(args);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK_THAT(message({"--run.time", "1, 2"}), Catch::StartsWith("run.time: '1, 2' is a list, but only"));
    CHECK_THAT(message({"--pde.rtol", "logspace(-4, -3, 2)"}), Catch::StartsWith("pde.rtol:"));
    CHECK_THAT(message({"--data.target", "constant, gaussan"}), Catch::StartsWith("data.target:") &&
                                                                   Catch::Contains("gaussan"));
    CHECK_THAT(message({"--model.parametrization", "uv, uv"}), Catch::StartsWith("model.parametrization: 'uv' is listed twice"));
    CHECK_THAT(message({"--data.noise", "0.1, 0.1"}), Catch::StartsWith("data.noise:"));
    CHECK_THAT(message({"--data.noise", "0, -1"}), Catch::StartsWith("data.noise: -1 is negative"));
    CHECK_THAT(message({"--data.target", "constant,"}), Catch::StartsWith("data.target:"));
    CHECK_THAT(message({"--data.spectrum_file", "a, b"}), Catch::StartsWith("data.spectrum_file:"));
    CHECK_THAT(message({"--data.noise", "linspace(0, 1, 101)", "--data.scale", "linspace(1, 2, 100)", "--lr",
                        "linspace(0.1, 1, 100)", "--dim", "linspace(10, 100, 10)"}),
               Catch::StartsWith("sweep: the grid has 1.01e+07") && Catch::Contains("lr x dim x alpha x noise x scale x seeds"));
    CHECK(message({"--data.noise", "0, 0.5"}) == "accepted");
}
