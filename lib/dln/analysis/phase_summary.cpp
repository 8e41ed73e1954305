#include "dln/analysis/phase_summary.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace dln::analysis {

double time_to_reach(const std::vector<double>& times, const std::vector<double>& values, double level) {
    if (times.empty() || times.size() != values.size()) return kNaN;
    if (!std::isfinite(values[0])) return kNaN;
    if (values[0] <= level) return times[0];
    for (std::size_t j = 1; j < times.size(); ++j) {
        const double before = values[j - 1], after = values[j];
        if (!std::isfinite(after)) return kNaN;  // stopped (diverged) before reaching it
        if (after > level) continue;
        // before > level >= after: in log, value = exp(linear in t), exact for an exponential.
        if (after <= 0.0 || level <= 0.0) return times[j];
        const double fraction = (std::log(before) - std::log(level)) / (std::log(before) - std::log(after));
        return times[j - 1] + fraction * (times[j] - times[j - 1]);
    }
    return kNaN;
}

TailFit fit_tail_rate(const std::vector<double>& times, const std::vector<double>& values, double floor) {
    TailFit fit;
    if (times.empty() || times.size() != values.size() || !(values[0] > 0.0)) return fit;
    // The stretch where log(value) means something: up to the first non-finite or floored value.
    const double lowest = floor * values[0];
    std::size_t end = 0;  // one past the last usable snapshot
    while (end < values.size() && std::isfinite(values[end]) && values[end] > lowest) ++end;
    if (end < 3) return fit;
    const double t_from = times[0] + 0.5 * (times[end - 1] - times[0]);
    std::size_t begin = 0;
    while (begin < end && times[begin] < t_from) ++begin;
    if (end - begin < 3) begin = end - 3;  // too few snapshots in the second half: the last three
    double st = 0.0, sy = 0.0;
    const auto n = static_cast<double>(end - begin);
    for (std::size_t j = begin; j < end; ++j) {
        st += times[j];
        sy += std::log(values[j]);
    }
    const double mt = st / n, my = sy / n;
    double stt = 0.0, sty = 0.0;
    for (std::size_t j = begin; j < end; ++j) {
        stt += (times[j] - mt) * (times[j] - mt);
        sty += (times[j] - mt) * (std::log(values[j]) - my);
    }
    if (!(stt > 0.0)) return fit;
    fit.rate = -sty / stt;
    fit.t_start = times[begin];
    fit.t_end = times[end - 1];
    fit.points = end - begin;
    return fit;
}

double relative_gap(const std::vector<double>& a, const std::vector<double>& b, double floor) {
    if (a.size() != b.size() || b.empty() || !(b[0] > 0.0)) return kNaN;
    double sup = kNaN;
    for (std::size_t j = 0; j < a.size(); ++j) {
        if (!std::isfinite(a[j]) || !std::isfinite(b[j]) || !(b[j] > floor * b[0])) continue;
        const double gap = std::abs(a[j] - b[j]) / b[j];
        if (std::isnan(sup) || gap > sup) sup = gap;
    }
    return sup;
}

PowerLawFit fit_power_law(const std::vector<double>& x, const std::vector<double>& y) {
    PowerLawFit fit;
    if (x.size() != y.size()) return fit;
    std::vector<double> lx, ly;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (x[i] > 0.0 && std::isfinite(x[i]) && std::isfinite(y[i]) && y[i] > 0.0) {
            lx.push_back(std::log(x[i]));
            ly.push_back(std::log(y[i]));
        }
    }
    if (lx.size() < 2) return fit;
    const auto n = static_cast<double>(lx.size());
    double mx = 0.0, my = 0.0;
    for (std::size_t i = 0; i < lx.size(); ++i) {
        mx += lx[i];
        my += ly[i];
    }
    mx /= n;
    my /= n;
    double sxx = 0.0, sxy = 0.0;
    for (std::size_t i = 0; i < lx.size(); ++i) {
        sxx += (lx[i] - mx) * (lx[i] - mx);
        sxy += (lx[i] - mx) * (ly[i] - my);
    }
    if (!(sxx > 0.0)) return fit;  // all at one x
    fit.exponent = sxy / sxx;
    fit.prefactor = std::exp(my - fit.exponent * mx);
    fit.points = lx.size();
    return fit;
}

Regime classify(const PointSummary& s, const RegimeRule& rule) {
    if (s.computed == 0) return Regime::missing;
    if (s.diverged_fraction >= rule.diverged_fraction || s.excess_mean.empty()) return Regime::diverged;
    const double start = s.excess_mean.front(), end = s.excess_mean.back();
    if (end <= rule.epsilon) return Regime::converged;
    // Comparisons with NaN are false: linear models (balance NaN) never collapse.
    const double q_start = s.balance_mean.empty() ? kNaN : s.balance_mean.front();
    const double q_end = s.balance_mean.empty() ? kNaN : s.balance_mean.back();
    if (q_end < rule.collapse_balance * q_start && end > rule.collapse_risk * start) return Regime::collapsed;
    if (s.tail.rate * (s.tail.t_end - s.tail.t_start) >= rule.falling_log) return Regime::converging;
    return Regime::stalled;
}

namespace {

// The survivors' mean (and range) of an observable at every time.
struct Band {
    std::vector<double> mean, lo, hi;
};

Band band(const std::vector<double>& values, const std::vector<std::size_t>& survivors, std::size_t n_time) {
    Band b;
    b.mean.assign(n_time, kNaN);
    b.lo.assign(n_time, kNaN);
    b.hi.assign(n_time, kNaN);
    if (survivors.empty()) return b;
    for (std::size_t j = 0; j < n_time; ++j) {
        double sum = 0.0, lo = values[survivors[0] * n_time + j], hi = lo;
        for (std::size_t s : survivors) {
            const double v = values[s * n_time + j];
            sum += v;  // a NaN (e.g. balance of a linear model) makes the mean NaN, as it should
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
        b.mean[j] = sum / static_cast<double>(survivors.size());
        b.lo[j] = lo;
        b.hi[j] = hi;
    }
    return b;
}

double mean_final(const std::vector<double>& values, const std::vector<std::size_t>& survivors, std::size_t n_time) {
    if (survivors.empty()) return kNaN;
    double sum = 0.0;
    for (std::size_t s : survivors) sum += values[s * n_time + n_time - 1];
    return sum / static_cast<double>(survivors.size());
}

}  // namespace

PointSummary summarize_point(const std::vector<double>& times, const Replicates& r, const RegimeRule& rule) {
    const std::size_t n_time = times.size();
    const std::size_t n = r.outcome.size();
    for (const auto* v : {&r.risk, &r.excess, &r.curvature, &r.balance, &r.false_support}) {
        if (v->size() != n * n_time) throw std::invalid_argument("summarize_point: replicate arrays of the wrong size");
    }
    PointSummary s;
    std::vector<std::size_t> survivors;
    for (std::size_t k = 0; k < n; ++k) {
        if (r.outcome[k] == Outcome::missing) continue;
        ++s.computed;
        if (r.outcome[k] == Outcome::diverged) {
            ++s.diverged;
        } else {
            survivors.push_back(k);
        }
    }
    if (s.computed > 0) s.diverged_fraction = static_cast<double>(s.diverged) / static_cast<double>(s.computed);
    if (!survivors.empty() && n_time > 0) {
        s.risk_final_mean = mean_final(r.risk, survivors, n_time);
        if (survivors.size() >= 2) {
            double ss = 0.0;
            for (std::size_t k : survivors) {
                const double d = r.risk[k * n_time + n_time - 1] - s.risk_final_mean;
                ss += d * d;
            }
            s.risk_final_std = std::sqrt(ss / static_cast<double>(survivors.size() - 1));
        }
        auto excess = band(r.excess, survivors, n_time);
        s.excess_mean = std::move(excess.mean);
        s.excess_lo = std::move(excess.lo);
        s.excess_hi = std::move(excess.hi);
        s.balance_mean = band(r.balance, survivors, n_time).mean;
        s.time_to_epsilon = time_to_reach(times, s.excess_mean, rule.epsilon);
        s.tail = fit_tail_rate(times, s.excess_mean);
        s.curvature_final = mean_final(r.curvature, survivors, n_time);
        s.balance_final = mean_final(r.balance, survivors, n_time);
        s.false_support_final = mean_final(r.false_support, survivors, n_time);
    }
    s.regime = classify(s, rule);
    return s;
}

const MethodPhase* PhaseTable::find(const std::string& name) const {
    for (const auto& m : methods) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

PhaseTable aggregate(const SweepData& sweep, const RegimeRule& rule) {
    PhaseTable table;
    table.source = sweep.source;
    table.sweep_version = sweep.version;
    table.config = sweep.config;
    table.rule = rule;
    table.lr = sweep.lr;
    table.dim = sweep.dim;
    table.alpha = sweep.alpha;
    table.time = sweep.time;
    const std::size_t n_lr = sweep.lr.size(), n_dim = sweep.dim.size(), n_alpha = sweep.alpha.size();
    const std::size_t n_time = sweep.time.size();

    for (const auto& m : sweep.methods) {
        MethodPhase phase;
        phase.name = m.name;
        phase.per_dim = m.per_dim();
        const std::size_t points = phase.per_dim ? n_lr * n_dim * n_alpha : n_lr * n_alpha;
        const std::size_t seeds = phase.per_dim ? sweep.seeds : 1;
        if (m.outcome.size() != points * seeds) throw std::invalid_argument("aggregate: /" + m.name + " has the wrong shape");
        for (std::size_t p = 0; p < points; ++p) {
            Replicates r;
            r.outcome.assign(m.outcome.begin() + static_cast<std::ptrdiff_t>(p * seeds),
                             m.outcome.begin() + static_cast<std::ptrdiff_t>((p + 1) * seeds));
            auto slice = [&](const std::vector<double>& all) {
                const auto from = all.begin() + static_cast<std::ptrdiff_t>(p * seeds * n_time);
                return std::vector<double>(from, from + static_cast<std::ptrdiff_t>(seeds * n_time));
            };
            r.risk = slice(m.risk);
            r.excess = slice(m.excess);
            r.curvature = slice(m.curvature);
            r.balance = slice(m.balance);
            r.false_support = slice(m.false_support);
            phase.points.push_back(summarize_point(sweep.time, r, rule));
        }
        table.methods.push_back(std::move(phase));
    }

    // The gap of each finite-d method to the d -> infinity limit, and its power law in d.
    const MethodPhase* pde = table.find("pde");
    if (pde == nullptr) return table;
    // The PDE point's accuracy and predicted rate, carried to every method's rows of (lr, alpha).
    for (const auto& m : sweep.methods) {
        if (m.name != "pde") continue;
        auto per_pair = [&](const std::vector<double>& values) {
            return values.size() == n_lr * n_alpha ? values : std::vector<double>(n_lr * n_alpha, kNaN);
        };
        for (auto& phase : table.methods) {
            phase.pde_error_estimate = per_pair(m.error_estimate);
            phase.predicted_rate = per_pair(m.predicted_rate);
        }
    }
    auto usable = [](const PointSummary& s) { return s.regime != Regime::missing && s.regime != Regime::diverged; };
    for (auto& phase : table.methods) {
        if (!phase.per_dim) continue;
        phase.gap.assign(phase.points.size(), kNaN);
        phase.gap_fit.assign(n_lr * n_alpha, PowerLawFit{});
        for (std::size_t l = 0; l < n_lr; ++l) {
            for (std::size_t a = 0; a < n_alpha; ++a) {
                const auto& limit = pde->points[l * n_alpha + a];
                std::vector<double> dims, gaps;
                for (std::size_t d = 0; d < n_dim; ++d) {
                    const std::size_t p = (l * n_dim + d) * n_alpha + a;
                    const auto& here = phase.points[p];
                    if (!usable(here) || !usable(limit)) continue;
                    phase.gap[p] = relative_gap(here.excess_mean, limit.excess_mean);
                    dims.push_back(static_cast<double>(sweep.dim[d]));
                    gaps.push_back(phase.gap[p]);
                }
                phase.gap_fit[l * n_alpha + a] = fit_power_law(dims, gaps);
            }
        }
    }
    return table;
}

}  // namespace dln::analysis
