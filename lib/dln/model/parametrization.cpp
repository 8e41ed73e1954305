#include "dln/model/parametrization.hpp"

#include <cmath>
#include <stdexcept>

namespace dln::model {

Parametrization parse_parametrization(std::string_view name) {
    if (name == "u2v2") return Parametrization::u2v2;
    if (name == "uv") return Parametrization::uv;
    if (name == "linear") return Parametrization::linear;
    throw std::invalid_argument("'" + std::string(name) + "' is not one of u2v2, uv, linear");
}

std::string to_string(Parametrization p) {
    switch (p) {
        case Parametrization::u2v2: return "u2v2";
        case Parametrization::uv: return "uv";
        case Parametrization::linear: return "linear";
    }
    return "?";
}

double kappa(Parametrization p) { return p == Parametrization::uv ? 0.5 : 1.0; }

InitialPair standard_initialisation(Parametrization param, double alpha) {
    switch (param) {
        case Parametrization::u2v2: return {alpha, alpha};
        case Parametrization::uv: return {std::sqrt(2.0) * alpha, 0.0};
        case Parametrization::linear: return {0.0, 0.0};
    }
    return {0.0, 0.0};
}

}  // namespace dln::model
