// Writes fuzzed dln inputs for tests/tools/cli_fuzz.py, from the generator the in-process test
// uses (config_fuzz_generator.hpp): config_fuzz_cases SEED INI_CASES COMMAND_CASES DIR writes,
// for case k, DIR/k.args (the arguments, each ended by a NUL byte) and, for an INI case,
// DIR/k.ini (then k.args holds "--config" and its path).
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "config_fuzz_generator.hpp"

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: config_fuzz_cases SEED INI_CASES COMMAND_CASES DIR\n";
        return 2;
    }
    dln::fuzz::Generator gen(std::strtoull(argv[1], nullptr, 10));
    const long ini_cases = std::atol(argv[2]), command_cases = std::atol(argv[3]);
    const std::string dir = argv[4];
    for (long c = 0; c < ini_cases + command_cases; ++c) {
        const std::string base = dir + "/" + std::to_string(c);
        std::vector<std::string> args;
        if (c < ini_cases) {
            std::ofstream(base + ".ini", std::ios::binary) << gen.ini();
            args = {"--config", base + ".ini"};
        } else {
            args = gen.command_line();
        }
        std::ofstream out(base + ".args", std::ios::binary);
        for (const auto& a : args) out << a << '\0';
        if (!out) {
            std::cerr << "config_fuzz_cases: cannot write " << base << ".args\n";
            return 1;
        }
    }
    return 0;
}
