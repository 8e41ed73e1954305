// Aggregation of a sweep into phase diagrams: the numbers per grid point (replicate statistics,
// time to reach epsilon, the late-time exponential rate, the regime label) and per (lr, alpha)
// (how the SGD-PDE gap shrinks with d). Pure numerics on arrays: reading and writing files is
// phase_file's business, so everything here is tested on curves built by hand.
//
// Decay quantities (time to epsilon, tail rate, regime, gap) are computed on the excess risk
// E = R - sigma^2/2, which is the risk itself without label noise: with noise the risk never
// falls below sigma^2/2, and "R <= epsilon" would then say more about sigma than about SGD.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace dln::analysis {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// What became of one replicate, as the aggregation sees it. A unit that is pending (not computed
// yet) or failed (the computation threw) carries no result: missing, never an error.
enum class Outcome : std::int8_t { missing, finished, diverged };

// The regime of a grid point (for one method). The rule, in this order, is `classify` below.
enum class Regime : std::int8_t { missing = 0, converged = 1, converging = 2, stalled = 3, collapsed = 4, diverged = 5 };
inline constexpr std::array<std::string_view, 6> regime_names = {"missing",  "converged", "converging",
                                                                 "stalled",  "collapsed", "diverged"};
inline std::string_view regime_name(Regime r) { return regime_names[static_cast<std::size_t>(r)]; }

// The thresholds of the regime rule (README "Aggregating a sweep" states them in words).
struct RegimeRule {
    double epsilon = 1e-3;           // converged: E(T) <= epsilon
    double diverged_fraction = 0.5;  // diverged: at least this fraction of the computed replicates
    double collapse_balance = 1e-10; // collapsed: Q(T) < this * Q(0) ...
    double collapse_risk = 0.1;      // ... while E(T) > this * E(0) (the risk stayed near its start)
    // converging: the fitted tail falls by at least a factor 2 over its window (rate * span >= ln 2)
    double falling_log = 0.6931471805599453;
};

// Excess risks below this fraction of their start are not fitted: a rate is only trusted where
// all three methods resolve the curve (and far above the double-precision floor of (w - beta*)^2).
inline constexpr double kFitFloor = 1e-12;

// ---- curves -------------------------------------------------------------------------------------

// The first time the curve reaches values <= level, interpolating linearly in log(value) between
// snapshots (exact for an exponential). times[0] if it starts there; NaN if it never gets there
// (or the curve is not finite before it does).
double time_to_reach(const std::vector<double>& times, const std::vector<double>& values, double level);

struct TailFit {
    double rate = kNaN;       // -d log(value)/dt, least squares; > 0 for a falling curve
    double t_start = kNaN;    // the window fitted
    double t_end = kNaN;
    std::size_t points = 0;
};

// The exponential rate of the tail: least squares of log(value) on t over the second half (in
// time) of the stretch from times[0] to the last snapshot before the curve first stops being finite
// or falls below floor * values[0]. At least 3 points, else rate NaN.
TailFit fit_tail_rate(const std::vector<double>& times, const std::vector<double>& values,
                      double floor = kFitFloor);

// sup_t |a(t) - b(t)| / b(t) over the times where both are finite and b > floor * b[0]. NaN if
// there is no such time.
double relative_gap(const std::vector<double>& a, const std::vector<double>& b, double floor = kFitFloor);

struct PowerLawFit {
    double exponent = kNaN;     // p in y = c x^p, least squares of log y on log x
    double prefactor = kNaN;    // c
    // The standard error of p from the residuals, sqrt(sum r^2 / (n - 2) / sum (log x - mean)^2):
    // the ordinary least-squares one, which takes the scatter of the points about the line as
    // their noise. NaN for fewer than 3 points (no residual degree of freedom).
    double exponent_se = kNaN;
    std::size_t points = 0;
};

// Uses the pairs with x > 0 and y finite and > 0; at least 2 distinct x, else NaN.
PowerLawFit fit_power_law(const std::vector<double>& x, const std::vector<double>& y);

// ---- quantiles over replicates ------------------------------------------------------------------

// The quantile estimator of every band: Hyndman and Fan's type 7 (R's default, numpy's 'linear'):
// with the sample sorted, x_(0) <= ... <= x_(n-1), and h = (n - 1) p, Q(p) = x_(floor h) + (h -
// floor h) (x_(floor h + 1) - x_(floor h)). It interpolates between order statistics, so Q(0) is
// the minimum, Q(1) the maximum, Q(1/2) the usual median, and it is continuous in p.
inline constexpr const char* kQuantileDefinition =
    "Hyndman-Fan type 7 (linear interpolation between order statistics at h = (n-1)p; numpy's default)";

// Q(p) of the sample by the definition above. NaN if the sample is empty or holds a NaN (a value
// that is not a number has no rank: the quantile is not silently taken over the rest). p in [0, 1].
double quantile(std::vector<double> sample, double p);

// The quantile band of the plots: lo and hi as fractions, 0 <= lo < 1/2 < hi <= 1 (so the median
// lies inside it). The field's convention, and the default: 10-90%.
struct QuantileBand {
    double lo = 0.10, hi = 0.90;
};

// "LO,HI" in percent (e.g. "10,90", "2.5,97.5") -> the band. Throws std::invalid_argument with
// one line saying what is wrong unless both are numbers with 0 <= LO < 50 < HI <= 100.
QuantileBand parse_band(const std::string& text);

// Median and band of one observable over replicates, per time: NaN where there is no survivor.
struct QuantileCurves {
    std::vector<double> median, lo, hi;
};

// ---- one grid point of one method ---------------------------------------------------------------

// The replicates of one grid point, replicate-major: value of replicate s at time j is [s * n_time + j].
struct Replicates {
    std::vector<Outcome> outcome;
    std::vector<double> risk, excess, curvature, balance, false_support;
};

struct PointSummary {
    std::size_t computed = 0;   // replicates with a result (finished or diverged)
    std::size_t diverged = 0;
    double diverged_fraction = kNaN;
    // Over the replicates that did not diverge ("survivors"):
    double risk_final_mean = kNaN;
    double risk_final_std = kNaN;  // sample standard deviation (n - 1); NaN for fewer than 2
    double time_to_epsilon = kNaN; // of the mean excess curve
    TailFit tail;                  // of the mean excess curve
    double curvature_final = kNaN, balance_final = kNaN, false_support_final = kNaN;  // means at T
    Regime regime = Regime::missing;
    // Quantiles of R(T) over the survivors (QuantileBand's lo, 1/2, hi).
    double risk_final_median = kNaN, risk_final_band_lo = kNaN, risk_final_band_hi = kNaN;
    // Per time: the survivors' mean excess and its range.
    std::vector<double> excess_mean, excess_lo, excess_hi;
    std::vector<double> balance_mean;
    // Per time, over the survivors: median and quantile band of every curve aggregation reads
    // (the risk's is the excess's shifted by sigma^2/2, so it is not repeated).
    QuantileCurves excess_q, curvature_q, balance_q, false_support_q;
    // The relative width of the excess band, averaged over time: the mean over the snapshots with
    // a finite, positive median of (hi - lo) / median. The concentration study's measure of the
    // spread over replicates (d^(-1/2) expected). NaN for fewer than 2 survivors.
    double band_width = kNaN;
};

// band_width of the curves (the mean over j with median_j finite and > 0 and lo_j, hi_j finite
// of (hi_j - lo_j) / median_j); NaN if there is no such j.
double relative_band_width(const QuantileCurves& q);

// The regime rule, in order: missing (no replicate computed); diverged (diverged fraction >=
// rule.diverged_fraction); converged (E(T) <= epsilon); collapsed (Q(T) < collapse_balance Q(0)
// and E(T) > collapse_risk E(0)); converging (the tail fit falls by >= falling_log over its
// window); stalled (none of these: the risk stopped falling above epsilon, e.g. on the noise floor).
Regime classify(const PointSummary& s, const RegimeRule& rule);

// Mean, range and quantile statistics over the survivors: the replicates that finished without
// diverging. Diverged ones are excluded from every statistic (and counted in diverged_fraction),
// pending and failed ones do not count at all.
PointSummary summarize_point(const std::vector<double>& times, const Replicates& replicates, const RegimeRule& rule,
                             const QuantileBand& band = {});

// ---- the whole sweep ----------------------------------------------------------------------------

// One axis of a sweep, as its file has it: a dimension with its coordinates. Numeric (float64 or,
// for dim and seed, whole numbers) or categorical (names, e.g. data.spectrum). Which axes a method
// has, and in which order, comes from the file: nothing here knows that the PDE has no dim.
struct Axis {
    std::string name;       // the dimension name: lr, dim, alpha, noise, spectrum, ...
    std::string key;        // the configuration key (netCDF attribute dln_key): sweep.lr, data.noise, ...
    std::string long_name;
    bool categorical = false;
    bool integer = false;             // numeric with whole-number coordinates (int64 in the files)
    std::vector<double> values;       // numeric coordinates
    std::vector<std::string> labels;  // categorical coordinates
    std::size_t size() const { return categorical ? labels.size() : values.size(); }
    // Coordinate i as text: a name, a whole number, or %.10g.
    std::string label(std::size_t i) const;
    // Same name, kind and coordinates.
    bool same_as(const Axis& other) const;
};

// The number of points of a row-major grid over these axes (1 for none).
std::size_t grid_size(const std::vector<Axis>& axes);
// The multi-index of point p of that grid, and back.
std::vector<std::size_t> grid_index(const std::vector<Axis>& axes, std::size_t p);
std::size_t grid_point(const std::vector<Axis>& axes, const std::vector<std::size_t>& index);

// What aggregation needs of a sweep file, as plain arrays in the file's row-major order.
struct SweepData {
    std::string source;          // where it was read from
    std::string schema, version, config;
    Axis time;                   // the snapshot times (numeric)
    struct Method {
        std::string name;                 // sgd, sde or pde
        // The axes of its grid points, in file order (sgd: lr, dim, alpha, extras...; pde: lr,
        // alpha, extras...), without the replicate (seed) axis, which is the last axis of the
        // file's datasets when the method has one.
        std::vector<Axis> axes;
        std::size_t replicates = 1;       // the length of the seed axis (1 without one)
        std::vector<Outcome> outcome;     // [points, replicates]
        std::vector<double> risk, excess, curvature, balance, false_support;  // [points, replicates, time]
        // Per point (the PDE's): the solver's error estimate and the linearisation's late-time
        // rate (NaN for units without a result); empty if the file has none.
        std::vector<double> error_estimate, predicted_rate;
    };
    std::vector<Method> methods;  // in the order sgd, sde, pde, those present
};

// Whether a method (by its group name) is the one the gaps are measured against, model's
// reference_method (the PDE, the d -> infinity limit of the replicate mean): the one place
// analysis asks. Its axes (from its file group) are the grid of gap_exponent, gap_prefactor,
// predicted_rate and pde_error_estimate.
bool is_reference(std::string_view method);

struct MethodPhase {
    std::string name;
    std::vector<Axis> axes;            // of its points, as in the sweep file (no seed axis)
    std::vector<PointSummary> points;  // row-major over axes
    // When the sweep has the reference (the PDE): reference_axes[k] is the index in `axes` of the
    // reference's k-th axis, so the reference's grid (lr, alpha, extras...) is a sub-grid of this
    // method's. Empty without a reference.
    std::vector<std::size_t> reference_axes;
    // The axis this method has and the reference lacks (dim: the reference is its limit), over
    // which the gap's power law is fitted; npos for the reference itself or without one.
    std::size_t limit_axis = npos;
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    // Methods with a limit axis: the relative gap to the reference point with the same
    // coordinates on its axes, per point (NaN where either side is missing or diverged), and per
    // reference point the power law of that gap along the limit axis. Empty otherwise.
    std::vector<double> gap;                 // [points]
    std::vector<PowerLawFit> gap_fit;        // [reference points]
    // The power law of band_width along the limit axis, per reference point (the same points as
    // gap_fit); empty without a limit axis.
    std::vector<PowerLawFit> band_width_fit;  // [reference points]
    // Every method when the sweep has the reference, per reference point: its error estimate (the
    // accuracy of the limit that gap compares with) and the late-time rate its linearisation
    // predicts (beside the measured tail_rate). NaN where the file has none.
    std::vector<double> pde_error_estimate;  // [reference points]
    std::vector<double> predicted_rate;      // [reference points]
    bool has_limit_axis() const { return limit_axis != npos; }
    // The reference point of point p (requires reference_axes).
    std::size_t reference_point(std::size_t p, const std::vector<Axis>& reference) const;
};

struct PhaseTable {
    std::string source, sweep_version, config;
    RegimeRule rule;
    QuantileBand band;
    Axis time;
    std::vector<MethodPhase> methods;
    const MethodPhase* find(const std::string& name) const;
    const MethodPhase* reference() const;  // nullptr if the sweep has none
    // Every axis of any method, each once, in axis order (lr, dim, alpha, extras...): the columns
    // of phase.csv. An axis is placed after the axes that precede it in the method that has it.
    std::vector<Axis> all_axes() const;
};

// Throws std::invalid_argument if the arrays do not have the shapes of the axes, or if a
// method's axes do not contain the reference's (same names and coordinates) plus exactly one
// numeric axis to fit the gap over.
PhaseTable aggregate(const SweepData& sweep, const RegimeRule& rule, const QuantileBand& band = {});

}  // namespace dln::analysis
