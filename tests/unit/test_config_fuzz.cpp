// Fuzzed configuration (issue 16, item 2): a seeded, reproducible generator of bad or odd INI
// files and command lines. Every input must either resolve to a configuration or be refused with
// a ConfigError whose message is exactly one line (what dln prints after "error: " before exit
// status 2). Any other exception is a defect; a crash or a hang fails the test process (CTest's
// timeout). The generator writes no file but the INI it feeds, and the resolution touches none
// but data.spectrum_file's, which the cases point at a file of their own.
#include <catch2/catch.hpp>

#include <boost/program_options.hpp>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "dln/config/config.hpp"
#include "../tools/config_fuzz_generator.hpp"

namespace po = boost::program_options;
using dln::config::ConfigError;

namespace {

using dln::fuzz::Generator;

// What dln prints for a refused input must be one line, and say something.
bool one_line(const std::string& message) {
    return !message.empty() && message.find('\n') == std::string::npos && message.find('\r') == std::string::npos;
}

// The input or message as the report shows it: escaped and capped as dln's own messages are.
std::string shown(const std::string& s) { return dln::config::one_line(s, 300); }

}  // namespace

TEST_CASE("fuzzed INI files and command lines: a configuration or one line naming the problem", "[config][fuzz]") {
    constexpr std::uint64_t seed = 20261201;  // the generator is reproducible: a failure names its case
    constexpr int ini_cases = 6000, command_cases = 4000;
    Generator gen(seed);
    const std::string path = "/tmp/dln-fuzz-" + std::to_string(::getpid()) + ".ini";
    int accepted = 0, refused = 0;
    po::options_description desc;
    desc.add(dln::config::input_options()).add(dln::config::config_options());
    for (int c = 0; c < ini_cases + command_cases; ++c) {
        std::vector<std::string> args;
        std::string text;
        if (c < ini_cases) {
            text = gen.ini();
            std::ofstream(path, std::ios::binary) << text;
            args = {"--config", path};
        } else {
            args = gen.command_line();
        }
        try {
            po::variables_map vm;
            po::store(po::command_line_parser(args).options(desc).run(), vm);
            (void)dln::config::resolve(vm);
            ++accepted;
        } catch (const ConfigError& e) {
            ++refused;
            if (!one_line(e.what())) FAIL("case " << c << ": a message of several lines: " << shown(e.what()));
        } catch (const po::error& e) {
            // The command line itself (not a key's value) is malformed: dln turns Boost's message
            // into a ConfigError (app/cli.cpp), which must be one line.
            ++refused;
            const ConfigError as_reported(e.what());
            if (!one_line(as_reported.what())) {
                FAIL("case " << c << ": a message of several lines: " << shown(as_reported.what()));
            }
        } catch (const std::exception& e) {
            std::string input = text;
            for (const auto& a : args) input += " " + a;
            FAIL("case " << c << " (seed " << seed << "): " << typeid(e).name() << ": " << shown(e.what())
                         << "\n  input: " << shown(input));
        }
    }
    std::remove(path.c_str());
    INFO(accepted << " accepted, " << refused << " refused");
    CHECK(accepted + refused == ini_cases + command_cases);
    CHECK(refused > 0);
    CHECK(accepted > 0);  // the generator also makes valid inputs, so acceptance is exercised
}
