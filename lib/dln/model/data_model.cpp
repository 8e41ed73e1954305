#include "dln/model/data_model.hpp"

#include <stdexcept>

namespace dln::model {

Spectrum parse_spectrum(std::string_view name) {
    if (name == "isotropic") return Spectrum::isotropic;
    if (name == "powerlaw") return Spectrum::powerlaw;
    throw std::invalid_argument("'" + std::string(name) + "' is not one of isotropic, powerlaw");
}

TargetLaw parse_target_law(std::string_view name) {
    if (name == "constant") return TargetLaw::constant;
    if (name == "rademacher") return TargetLaw::rademacher;
    if (name == "gaussian") return TargetLaw::gaussian;
    throw std::invalid_argument("'" + std::string(name) +
                                "' is not one of constant, rademacher, gaussian");
}

std::string to_string(Spectrum s) { return s == Spectrum::isotropic ? "isotropic" : "powerlaw"; }

std::string to_string(TargetLaw t) {
    switch (t) {
        case TargetLaw::constant: return "constant";
        case TargetLaw::rademacher: return "rademacher";
        case TargetLaw::gaussian: return "gaussian";
    }
    return "?";
}

std::vector<double> spectrum(const DataSpec& spec, std::size_t dim) {
    std::vector<double> lambda(dim, 1.0);
    if (spec.spectrum == Spectrum::isotropic || dim == 0) return lambda;
    const auto d = static_cast<double>(dim);
    double sum = 0.0;
    for (std::size_t i = 0; i < dim; ++i) {
        lambda[i] = std::pow((static_cast<double>(i) + 0.5) / d, -spec.exponent);
        sum += lambda[i];
    }
    const double mean = sum / d;
    for (double& l : lambda) l /= mean;
    return lambda;
}

std::size_t support_size(const DataSpec& spec, std::size_t dim) {
    return static_cast<std::size_t>(std::llround(spec.sparsity * static_cast<double>(dim)));
}

}  // namespace dln::model
