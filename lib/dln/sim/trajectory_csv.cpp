#include "dln/sim/trajectory_csv.hpp"

#include <cmath>
#include <cstdio>

namespace dln::sim {

void write_csv_header(std::ostream& out) {
    out << "method,seed,t";
    for (const auto name : model::observable_names) out << ',' << name;
    out << '\n';
}

void write_csv_rows(std::ostream& out, const std::string& method, std::size_t replicate,
                    const std::vector<double>& times, const std::vector<model::Observables>& snapshots) {
    char number[32];
    auto put = [&](double x) {
        if (std::isnan(x)) {
            out << ",nan";
        } else {
            std::snprintf(number, sizeof number, ",%.12g", x);  // enough digits to compare runs
            out << number;
        }
    };
    for (std::size_t j = 0; j < times.size(); ++j) {
        out << method << ',' << replicate;
        put(times[j]);
        for (double x : snapshots[j]) put(x);
        out << '\n';
    }
}

}  // namespace dln::sim
