// The three ways of computing a trajectory, and the one rule of what their results depend on.
#pragma once

#include <array>
#include <cstdint>
#include <cstddef>
#include <optional>
#include <string_view>

namespace dln::model {

enum class Method : std::int8_t { sgd = 0, sde = 1, pde = 2 };

inline constexpr std::array<Method, 3> all_methods = {Method::sgd, Method::sde, Method::pde};
inline constexpr std::array<std::string_view, 3> method_names = {"sgd", "sde", "pde"};

inline std::string_view name(Method m) { return method_names[static_cast<std::size_t>(m)]; }

inline std::optional<Method> parse_method(std::string_view text) {
    for (Method m : all_methods) {
        if (name(m) == text) return m;
    }
    return std::nullopt;
}

// The PDE is the d -> infinity limit of the replicate mean (THEORY.md 3): its results depend on
// neither the dimension nor the replicate, so it has no dim and no seed axis. SGD and the SDE
// are computed at every d, once per replicate.
inline constexpr bool has_dim_axis(Method m) { return m != Method::pde; }
inline constexpr bool has_seed_axis(Method m) { return m != Method::pde; }

// The reference that the others are measured against (the gap to the limit).
inline constexpr Method reference_method = Method::pde;

}  // namespace dln::model
