// Sweep axes: "0.5", "0.1, 0.5, 1", "linspace(a, b, n)" or "logspace(a, b, n)" (base-10 exponents).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dln::config {

// Parses an axis; throws std::invalid_argument with a reason (without the key's name) for a
// malformed spec, a non-finite value, a count below 1, an empty axis or repeated values.
std::vector<double> parse_axis(std::string_view spec);

// A strict number: the whole text must be a finite number. Throws std::invalid_argument.
double parse_number(std::string_view text);

// A strict non-negative integer no larger than max. Throws std::invalid_argument.
unsigned long long parse_count(std::string_view text, unsigned long long max);

std::string trim(std::string_view text);

}  // namespace dln::config
