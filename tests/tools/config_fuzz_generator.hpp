// The generator of fuzzed configuration inputs (issue 16, item 2): seeded and reproducible, one
// definition shared by the in-process test (tests/unit/test_config_fuzz.cpp, 10,000 cases against
// the parser) and the command-line one (tests/tools/config_fuzz_cases.cpp feeding
// tests/tools/cli_fuzz.py, a sample of cases against the dln binary).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "dln/config/config.hpp"

namespace dln::fuzz {


// Odd values: numbers at the edges of double, not-quite numbers, axis expressions of the wrong
// arity or nesting, whitespace and comment edges, UTF-8 and bytes that are not UTF-8.
inline const std::vector<std::string>& odd_values() {
    static const std::vector<std::string> values = {
        "", " ", "0", "-0", "+0", "-0.0", "1e999", "-1e999", "1e308", "1e-400", "4.9e-324", "nan", "NaN", "inf",
        "-inf", "0x10", "1e", "1.", ".5", ".", "--1", "1..2", "1,", ",1", ",", ",,", "1,,2", "1, 1", "0.5, 1, 2",
        "123456789012345678901234567890", "18446744073709551616", "4294967296", "-1", "3.5", "auto", "AUTO",
        "linspace(1, 2)", "linspace(1, 2, 3, 4)", "logspace((1, 2, 3)", "linspace(1, 2, 3))", "linspace(1, (2), 3)",
        "linspace(1, 2, 0)", "linspace(1, 2, -3)", "linspace(1, 2, 2.5)", "linspace(a, b, c)", "linspace()",
        "linspace(", ")", "(", "logspace(-400, 400, 3)", "logspace(300, 310, 3)", "linspace(1, 1, 1)",
        "linspace(1, 2, 1)", "linspace(2, 1, 3)", "logspace(-1, 1, 5)", "foo(1, 2, 3)", "linspace 1, 2, 3",
        "linspace(1,2,10000001)", "u2v2", "uv", "linear", "u2v2, uv", "uv, uv", "u2v2,", "isotropic, powerlaw",
        "file", "marchenko-pastur", "constant, gaussian", "gaussian", "rademacher", "sgd, pde", "sgd,sgd", "pde",
        "sgd, sde, pde, ode", "# comment", "1 # comment", "1 ; comment", "\t1\t", "γ", "0.5 γ", "ℕ", "\xef\xbb\xbf" "1",
        "\xc0\xaf", "\xff\xfe", std::string("1\0 2", 4), "\x01\x02", "1\r", "=", "==", "[run]", "a = b",
    };
    return values;
}

class Generator {
public:
    explicit Generator(std::uint64_t seed) : rng_(seed) {}

    std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

    std::string key() {
        const auto& keys = dln::config::keys();
        if (pick(20) == 0) return pick(2) ? "run.nonsense" : "bogus.key";  // unknown keys and sections
        return keys[pick(keys.size())].name;
    }

    std::string value() {
        switch (pick(6)) {
            case 0: return std::string(1000 + pick(100000), "0123456789,.e(x"[pick(15)]);  // very long
            case 1: {  // random bytes, any of the 256
                std::string s;
                for (std::size_t i = 0, n = 1 + pick(12); i < n; ++i) s += static_cast<char>(pick(256));
                return s;
            }
            case 2: return odd_values()[pick(odd_values().size())] + ", " + odd_values()[pick(odd_values().size())];
            default: return odd_values()[pick(odd_values().size())];
        }
    }

    // An INI text: sections and keys in any order, repeated, unknown, truncated, with odd lines.
    std::string ini() {
        std::string text;
        for (std::size_t line = 0, n = 1 + pick(8); line < n; ++line) {
            const std::string k = key();
            const auto dot = k.find('.');
            switch (pick(10)) {
                case 0: text += "[" + k.substr(0, dot) + "]\n[" + k.substr(0, dot) + "]\n"; break;  // duplicate section
                case 1: text += "  [ " + k.substr(0, dot) + " ]  \r\n"; break;
                case 2: text += k.substr(dot + 1) + "\n"; break;  // a key without '='
                case 3: text += "; " + value() + "\n# " + value() + "\n"; break;
                case 4: text += "[" + k.substr(0, dot) + "\n"; break;  // unbalanced bracket
                default:
                    text += "[" + k.substr(0, dot) + "]\n" + k.substr(dot + 1) + " = " + value() + "\n";
                    if (pick(4) == 0) text += k.substr(dot + 1) + " = " + value() + "\n";  // a key twice
            }
        }
        if (pick(4) == 0) text.resize(pick(text.size() + 1));  // cut anywhere, mid-line too
        return text;
    }

    std::vector<std::string> command_line() {
        std::vector<std::string> args;
        for (std::size_t i = 0, n = 1 + pick(4); i < n; ++i) {
            switch (pick(6)) {
                case 0: args.push_back("--" + key()); break;  // no value
                case 1: args.push_back(std::vector<std::string>{"--lr", "--dim", "--alpha", "--method"}[pick(4)]);
                        args.push_back(value()); break;
                case 2: args.push_back("--" + key() + "=" + value() + "\n" + value()); break;  // a newline inside
                default: args.push_back("--" + key() + "=" + value());
            }
        }
        return args;
    }

private:
    std::mt19937_64 rng_;
};

}  // namespace dln::fuzz
