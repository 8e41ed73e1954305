#include "dln/analysis/phase_summary.hpp"

#include "dln/model/method.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
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
    if (lx.size() >= 3) {
        double ssr = 0.0;
        for (std::size_t i = 0; i < lx.size(); ++i) {
            const double r = ly[i] - my - fit.exponent * (lx[i] - mx);
            ssr += r * r;
        }
        fit.exponent_se = std::sqrt(ssr / (n - 2.0) / sxx);
    }
    return fit;
}

namespace {

// Type 7 of a sorted sample without NaN (quantile() checks and sorts).
double quantile_of_sorted(const std::vector<double>& sorted, double p) {
    if (sorted.empty() || !(p >= 0.0 && p <= 1.0)) return kNaN;
    const double h = static_cast<double>(sorted.size() - 1) * p;
    const auto below = static_cast<std::size_t>(std::floor(h));
    if (below + 1 >= sorted.size()) return sorted.back();  // p = 1 (or h rounds onto the last)
    const double lower = sorted[below], upper = sorted[below + 1], fraction = h - static_cast<double>(below);
    // No step where none is needed: 0 * (upper - lower) and inf - inf would be NaN for infinite
    // order statistics.
    if (fraction == 0.0 || lower == upper) return lower;
    return lower + fraction * (upper - lower);
}

// Sorts the sample for quantile_of_sorted; false if it holds a NaN (which has no rank).
bool sort_for_quantiles(std::vector<double>& sample) {
    for (double x : sample) {
        if (std::isnan(x)) return false;
    }
    std::sort(sample.begin(), sample.end());
    return true;
}

}  // namespace

double quantile(std::vector<double> sample, double p) {
    return sort_for_quantiles(sample) ? quantile_of_sorted(sample, p) : kNaN;
}

QuantileBand parse_band(const std::string& text) {
    const std::string rule = "must be LO,HI in percent with 0 <= LO < 50 < HI <= 100 (e.g. 10,90)";
    const auto comma = text.find(',');
    if (comma == std::string::npos || text.find(',', comma + 1) != std::string::npos) {
        throw std::invalid_argument("'" + text + "' " + rule);
    }
    auto number = [&](const std::string& part) {
        std::size_t used = 0;
        double x = kNaN;
        try {
            x = std::stod(part, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        while (used < part.size() && part[used] == ' ') ++used;
        if (used == 0 || used != part.size() || !std::isfinite(x)) {
            throw std::invalid_argument("'" + text + "': '" + part + "' is not a number; the band " + rule);
        }
        return x;
    };
    const double lo = number(text.substr(0, comma)), hi = number(text.substr(comma + 1));
    if (!(lo >= 0.0 && lo < 50.0 && hi > 50.0 && hi <= 100.0)) throw std::invalid_argument("'" + text + "' " + rule);
    return QuantileBand{lo / 100.0, hi / 100.0};
}

double relative_band_width(const QuantileCurves& q) {
    double sum = 0.0;
    std::size_t n = 0;
    for (std::size_t j = 0; j < q.median.size() && j < q.lo.size() && j < q.hi.size(); ++j) {
        const double m = q.median[j];
        if (!(std::isfinite(m) && m > 0.0 && std::isfinite(q.lo[j]) && std::isfinite(q.hi[j]))) continue;
        sum += (q.hi[j] - q.lo[j]) / m;
        ++n;
    }
    return n == 0 ? kNaN : sum / static_cast<double>(n);
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

// The survivors' median and quantile band of an observable at every time.
QuantileCurves quantile_curves(const std::vector<double>& values, const std::vector<std::size_t>& survivors,
                               std::size_t n_time, const QuantileBand& band) {
    QuantileCurves q;
    q.median.assign(n_time, kNaN);
    q.lo.assign(n_time, kNaN);
    q.hi.assign(n_time, kNaN);
    if (survivors.empty()) return q;
    std::vector<double> sample(survivors.size());
    for (std::size_t j = 0; j < n_time; ++j) {
        for (std::size_t k = 0; k < survivors.size(); ++k) sample[k] = values[survivors[k] * n_time + j];
        if (!sort_for_quantiles(sample)) continue;  // a survivor's NaN: NaN (as assigned)
        q.median[j] = quantile_of_sorted(sample, 0.5);
        q.lo[j] = quantile_of_sorted(sample, band.lo);
        q.hi[j] = quantile_of_sorted(sample, band.hi);
    }
    return q;
}

double mean_final(const std::vector<double>& values, const std::vector<std::size_t>& survivors, std::size_t n_time) {
    if (survivors.empty()) return kNaN;
    double sum = 0.0;
    for (std::size_t s : survivors) sum += values[s * n_time + n_time - 1];
    return sum / static_cast<double>(survivors.size());
}

}  // namespace

PointSummary summarize_point(const std::vector<double>& times, const Replicates& r, const RegimeRule& rule,
                             const QuantileBand& quantile_band) {
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
        s.excess_q = quantile_curves(r.excess, survivors, n_time, quantile_band);
        s.curvature_q = quantile_curves(r.curvature, survivors, n_time, quantile_band);
        s.balance_q = quantile_curves(r.balance, survivors, n_time, quantile_band);
        s.false_support_q = quantile_curves(r.false_support, survivors, n_time, quantile_band);
        std::vector<double> final_risk;
        for (std::size_t k : survivors) final_risk.push_back(r.risk[k * n_time + n_time - 1]);
        s.risk_final_median = quantile(final_risk, 0.5);
        s.risk_final_band_lo = quantile(final_risk, quantile_band.lo);
        s.risk_final_band_hi = quantile(final_risk, quantile_band.hi);
        if (survivors.size() >= 2) s.band_width = relative_band_width(s.excess_q);
        s.time_to_epsilon = time_to_reach(times, s.excess_mean, rule.epsilon);
        s.tail = fit_tail_rate(times, s.excess_mean);
        s.curvature_final = mean_final(r.curvature, survivors, n_time);
        s.balance_final = mean_final(r.balance, survivors, n_time);
        s.false_support_final = mean_final(r.false_support, survivors, n_time);
    }
    s.regime = classify(s, rule);
    return s;
}

std::string Axis::label(std::size_t i) const {
    if (categorical) return labels.at(i);
    const double x = values.at(i);
    if (integer && std::isfinite(x) && std::abs(x) < 9.0e15) return std::to_string(static_cast<long long>(x));
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    char text[32];
    std::snprintf(text, sizeof text, "%.10g", x);
    return text;
}

bool Axis::same_as(const Axis& other) const {
    return name == other.name && categorical == other.categorical && values == other.values && labels == other.labels;
}

std::size_t grid_size(const std::vector<Axis>& axes) {
    std::size_t n = 1;
    for (const auto& a : axes) n *= a.size();
    return n;
}

std::vector<std::size_t> grid_index(const std::vector<Axis>& axes, std::size_t p) {
    std::vector<std::size_t> index(axes.size(), 0);
    for (std::size_t k = axes.size(); k-- > 0;) {
        const std::size_t n = axes[k].size();
        index[k] = n == 0 ? 0 : p % n;
        p = n == 0 ? 0 : p / n;
    }
    return index;
}

std::size_t grid_point(const std::vector<Axis>& axes, const std::vector<std::size_t>& index) {
    std::size_t p = 0;
    for (std::size_t k = 0; k < axes.size(); ++k) p = p * axes[k].size() + index[k];
    return p;
}

bool is_reference(std::string_view method) { return model::parse_method(method) == model::reference_method; }

std::size_t MethodPhase::reference_point(std::size_t p, const std::vector<Axis>& reference) const {
    const auto here = grid_index(axes, p);
    std::vector<std::size_t> there(reference_axes.size());
    for (std::size_t k = 0; k < reference_axes.size(); ++k) there[k] = here[reference_axes[k]];
    return grid_point(reference, there);
}

const MethodPhase* PhaseTable::find(const std::string& name) const {
    for (const auto& m : methods) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

const MethodPhase* PhaseTable::reference() const {
    for (const auto& m : methods) {
        if (is_reference(m.name)) return &m;
    }
    return nullptr;
}

std::vector<Axis> PhaseTable::all_axes() const {
    std::vector<Axis> all;
    auto position = [&](const std::string& name) {
        for (std::size_t k = 0; k < all.size(); ++k) {
            if (all[k].name == name) return k;
        }
        return all.size();
    };
    for (const auto& m : methods) {
        std::size_t after = 0;  // insert behind the last axis of m already placed
        for (const auto& a : m.axes) {
            const std::size_t k = position(a.name);
            if (k < all.size()) {
                after = k + 1;
                continue;
            }
            all.insert(all.begin() + static_cast<std::ptrdiff_t>(after), a);
            ++after;
        }
    }
    return all;
}

namespace {

std::string reference_name() { return std::string(model::name(model::reference_method)); }

std::string axis_names(const std::vector<Axis>& axes) {
    std::string s = "(";
    for (std::size_t k = 0; k < axes.size(); ++k) s += (k ? ", " : "") + axes[k].name;
    return s + ")";
}

// Places the reference's axes in a method's: every one must be there with the same coordinates,
// and exactly one numeric axis of the method must be left over (the one the reference is the
// limit of). The reference itself maps onto itself and has no limit axis.
void match_reference(MethodPhase& phase, const std::vector<Axis>& reference) {
    phase.reference_axes.clear();
    std::vector<bool> used(phase.axes.size(), false);
    for (const auto& r : reference) {
        std::size_t k = 0;
        while (k < phase.axes.size() && phase.axes[k].name != r.name) ++k;
        if (k == phase.axes.size() || !phase.axes[k].same_as(r)) {
            throw std::invalid_argument("aggregate: the axes of /" + phase.name + " " + axis_names(phase.axes) +
                                        " do not include the " + reference_name() + "'s axis " + r.name +
                                        " with the same values");
        }
        phase.reference_axes.push_back(k);
        used[k] = true;
    }
    phase.limit_axis = MethodPhase::npos;
    for (std::size_t k = 0; k < phase.axes.size(); ++k) {
        if (used[k]) continue;
        if (phase.limit_axis != MethodPhase::npos || phase.axes[k].categorical) {
            throw std::invalid_argument("aggregate: /" + phase.name + " " + axis_names(phase.axes) + " and /" +
                                        reference_name() + " " + axis_names(reference) +
                                        " differ by more than one numeric axis");
        }
        phase.limit_axis = k;
    }
}

}  // namespace

PhaseTable aggregate(const SweepData& sweep, const RegimeRule& rule, const QuantileBand& band) {
    if (!(band.lo >= 0.0 && band.lo < 0.5 && band.hi > 0.5 && band.hi <= 1.0)) {
        throw std::invalid_argument("aggregate: the quantile band must have 0 <= lo < 1/2 < hi <= 1");
    }
    PhaseTable table;
    table.band = band;
    table.source = sweep.source;
    table.sweep_version = sweep.version;
    table.config = sweep.config;
    table.rule = rule;
    table.time = sweep.time;
    const std::size_t n_time = sweep.time.size();

    const SweepData::Method* reference = nullptr;
    for (const auto& m : sweep.methods) {
        MethodPhase phase;
        phase.name = m.name;
        phase.axes = m.axes;
        const std::size_t points = grid_size(m.axes);
        const std::size_t seeds = m.replicates;
        if (m.outcome.size() != points * seeds) throw std::invalid_argument("aggregate: /" + m.name + " has the wrong shape");
        for (const auto* v : {&m.risk, &m.excess, &m.curvature, &m.balance, &m.false_support}) {
            if (v->size() != points * seeds * n_time) {
                throw std::invalid_argument("aggregate: a curve of /" + m.name + " has the wrong shape");
            }
        }
        phase.points.reserve(points);
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
            phase.points.push_back(summarize_point(sweep.time.values, r, rule, band));
        }
        if (is_reference(m.name)) reference = &m;
        table.methods.push_back(std::move(phase));
    }

    // The gap of each finite-d method to the d -> infinity limit, and its power law in d.
    const MethodPhase* limit = table.reference();
    if (limit == nullptr) return table;
    const std::vector<Axis> reference_axes = limit->axes;
    const std::size_t reference_points = grid_size(reference_axes);
    // The reference point's accuracy and predicted rate, carried to every method's grid of the
    // reference's axes.
    auto per_reference = [&](const std::vector<double>& values) {
        return values.size() == reference_points ? values : std::vector<double>(reference_points, kNaN);
    };
    const auto limit_points = limit->points;  // table.methods is modified below
    auto usable = [](const PointSummary& s) { return s.regime != Regime::missing && s.regime != Regime::diverged; };
    for (auto& phase : table.methods) {
        match_reference(phase, reference_axes);
        phase.pde_error_estimate = per_reference(reference->error_estimate);
        phase.predicted_rate = per_reference(reference->predicted_rate);
        if (!phase.has_limit_axis()) continue;
        const Axis& along = phase.axes[phase.limit_axis];
        phase.gap.assign(phase.points.size(), kNaN);
        std::vector<std::vector<double>> xs(reference_points), ys(reference_points);
        std::vector<std::vector<double>> width_xs(reference_points), widths(reference_points);
        for (std::size_t p = 0; p < phase.points.size(); ++p) {
            const std::size_t q = phase.reference_point(p, reference_axes);
            const auto& here = phase.points[p];
            const auto& there = limit_points[q];
            const double x = along.values[grid_index(phase.axes, p)[phase.limit_axis]];
            // The spread over replicates needs no reference curve, only replicates that survived.
            if (usable(here)) {
                width_xs[q].push_back(x);
                widths[q].push_back(here.band_width);
            }
            if (!usable(here) || !usable(there)) continue;
            phase.gap[p] = relative_gap(here.excess_mean, there.excess_mean);
            xs[q].push_back(x);
            ys[q].push_back(phase.gap[p]);
        }
        phase.gap_fit.resize(reference_points);
        phase.band_width_fit.resize(reference_points);
        for (std::size_t q = 0; q < reference_points; ++q) {
            phase.gap_fit[q] = fit_power_law(xs[q], ys[q]);
            phase.band_width_fit[q] = fit_power_law(width_xs[q], widths[q]);
        }
    }
    return table;
}

}  // namespace dln::analysis
