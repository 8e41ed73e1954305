#include "dln/config/axis.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <stdexcept>

namespace dln::config {

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

double parse_number(std::string_view text) {
    const std::string s = trim(text);
    if (s.empty()) throw std::invalid_argument("expected a number, got nothing");
    errno = 0;
    char* end = nullptr;
    const double value = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) throw std::invalid_argument("'" + s + "' is not a number");
    if (!std::isfinite(value) || errno == ERANGE) {
        throw std::invalid_argument("'" + s + "' is not a finite number");
    }
    return value;
}

unsigned long long parse_count(std::string_view text, unsigned long long max) {
    const std::string s = trim(text);
    if (s.empty()) throw std::invalid_argument("expected a whole number, got nothing");
    if (s.find_first_not_of("0123456789") != std::string::npos) {
        if (s[0] == '-') throw std::invalid_argument("'" + s + "' is negative");
        throw std::invalid_argument("'" + s + "' is not a whole number");
    }
    errno = 0;
    const unsigned long long value = std::strtoull(s.c_str(), nullptr, 10);
    if (errno == ERANGE || value > max) {
        throw std::invalid_argument("'" + s + "' is larger than " + std::to_string(max));
    }
    return value;
}

namespace {

std::vector<std::string> split_commas(std::string_view text) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const auto comma = text.find(',', start);
        parts.push_back(trim(text.substr(start, comma == std::string_view::npos ? comma : comma - start)));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return parts;
}

std::vector<double> parse_range(std::string_view name, std::string_view args) {
    const auto parts = split_commas(args);
    if (parts.size() != 3) {
        throw std::invalid_argument(std::string(name) + "(a, b, n) takes three arguments, got " +
                                    std::to_string(parts.size()));
    }
    const double a = parse_number(parts[0]);
    const double b = parse_number(parts[1]);
    const auto n = parse_count(parts[2], 10'000'000);
    if (n < 1) throw std::invalid_argument(std::string(name) + " needs n >= 1 points");
    if (n == 1 && a != b) {
        throw std::invalid_argument(std::string(name) + " with n = 1 needs a == b");
    }
    std::vector<double> values(n);
    for (unsigned long long j = 0; j < n; ++j) {
        const double f = n == 1 ? 0.0 : static_cast<double>(j) / static_cast<double>(n - 1);
        const double x = j + 1 == n ? b : a + (b - a) * f;
        values[j] = name == "logspace" ? std::pow(10.0, x) : x;
    }
    return values;
}

}  // namespace

std::vector<double> parse_axis(std::string_view spec) {
    const std::string s = trim(spec);
    if (s.empty()) throw std::invalid_argument("the axis is empty");
    std::vector<double> values;
    const auto open = s.find('(');
    if (open != std::string::npos) {
        const std::string name = trim(std::string_view(s).substr(0, open));
        if (name != "linspace" && name != "logspace") {
            throw std::invalid_argument("'" + name + "(...)' is not linspace(a, b, n) or logspace(a, b, n)");
        }
        if (s.back() != ')') throw std::invalid_argument("'" + s + "' is missing its closing ')'");
        values = parse_range(name, std::string_view(s).substr(open + 1, s.size() - open - 2));
    } else {
        for (const auto& part : split_commas(s)) {
            if (part.empty()) throw std::invalid_argument("'" + s + "' has an empty entry");
            values.push_back(parse_number(part));
        }
    }
    for (double v : values) {
        if (!std::isfinite(v)) throw std::invalid_argument("'" + s + "' gives a non-finite value");
    }
    std::set<double> seen;
    for (double v : values) {
        if (!seen.insert(v).second) {
            throw std::invalid_argument("'" + s + "' repeats a value");
        }
    }
    return values;
}

}  // namespace dln::config
