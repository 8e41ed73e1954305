// Tolerances derived from sample sizes: every statistical test asks for a family-wise
// false-alarm rate (Bonferroni over the comparisons it makes) and gets the matching quantile.
#pragma once

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <cstddef>
#include <vector>

namespace dln::testing {

// The false-alarm rate every statistical test in the suite is held to, over all its comparisons.
inline constexpr double kFamilyFalseAlarm = 1e-4;

// z such that |N(0,1)| > z has probability kFamilyFalseAlarm / comparisons.
inline double normal_bound(std::size_t comparisons) {
    const double tail = kFamilyFalseAlarm / (2.0 * static_cast<double>(comparisons));
    return boost::math::quantile(boost::math::complement(boost::math::normal(), tail));
}

// The same for a mean estimated with its own sample standard deviation (Student t, n - 1 dof).
inline double student_bound(std::size_t samples, std::size_t comparisons) {
    const double tail = kFamilyFalseAlarm / (2.0 * static_cast<double>(comparisons));
    const boost::math::students_t t(static_cast<double>(samples - 1));
    return boost::math::quantile(boost::math::complement(t, tail));
}

struct Moments {
    double mean = 0.0;
    double variance = 0.0;  // unbiased
    std::size_t n = 0;
    double standard_error() const { return std::sqrt(variance / static_cast<double>(n)); }
};

inline Moments moments(const std::vector<double>& x) {
    Moments m;
    m.n = x.size();
    for (double v : x) m.mean += v;
    m.mean /= static_cast<double>(m.n);
    for (double v : x) m.variance += (v - m.mean) * (v - m.mean);
    m.variance /= static_cast<double>(m.n - 1);
    return m;
}

}  // namespace dln::testing
