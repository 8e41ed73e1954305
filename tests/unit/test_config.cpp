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
    CHECK(c.methods == std::vector<std::string>{"sgd"});
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
    for (std::size_t i = 0; i < 4; ++i) CHECK(c.methods[grid.tasks()[i].method] == "pde");
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
