// dln run: one grid point (every replicate of every method), printed as CSV on stdout.
//
//   dln run                                   the embedded default point
//   dln run --lr 2 --dim 4000 --run.seeds 4   overrides on the command line
//   dln run --config sweeps/quick.ini --lr 1 --dim 200 --alpha 0.1
//   dln run --method sgd,sde,pde --run.seeds 4   SGD, the SDE and the d -> infinity PDE
//   PETSC_OPTIONS="-ts_type rosw -ts_rtol 1e-8" dln run --method pde   PETSc options for the PDE
//
// For each PDE solve, stderr says the resolution chosen and the error estimated (and the
// controller's warning if pde.rtol was not met).
#include <iostream>
#include <optional>
#include <sstream>

#include "cli.hpp"
#include "standalone_mpi.hpp"
#include "dln/config/config.hpp"
#include "dln/sim/trajectory_csv.hpp"
#include "dln/pde/petsc_session.hpp"
#include "dln/sweep/sweep_grid.hpp"
#include "dln/sweep/unit_runner.hpp"

namespace dln::app {

int run_command(const Args& args) {
    try {
        boost::program_options::options_description desc(110, 60);
        desc.add(config::input_options()).add(config::config_options());
        boost::program_options::variables_map vm;
        if (!parse_command_line(args, "usage: dln run [--config FILE] [--section.key=value ...]", desc, vm)) {
            return 0;
        }
        const auto config = config::resolve(vm);
        config::require_single_point(config);

        std::optional<pde::PetscSession> petsc;
        if (config.has_method(model::Method::pde)) {
            prepare_standalone_mpi();  // PETSc initialises MPI for this one process
            petsc.emplace();
        }
        const sweep::SweepGrid grid(config);
        const auto times = sim::snapshot_times(grid.run_spec());
        sim::write_csv_header(std::cout);
        for (const auto method : config.methods) {
            const std::string name(model::name(method));
            for (std::size_t id = 0; id < grid.size(); ++id) {
                const auto& unit = grid.unit(id);
                // The PDE is the d -> infinity limit: one trajectory, not one per replicate.
                if (!grid.computes(method, unit)) continue;
                const auto computed = sweep::compute_trajectory(grid, unit, method);
                const auto& trajectory = computed.trajectory;
                if (computed.accuracy) {
                    // What the error controller chose and estimated; stdout stays the CSV.
                    config::print_line(std::cerr, "dln run: pde: " + sweep::describe_accuracy(*computed.accuracy));
                    if (!computed.accuracy->warning.empty()) {
                        config::print_line(std::cerr, "dln run: warning: " + computed.accuracy->warning);
                    }
                }
                sim::write_csv_rows(std::cout, name, grid.replicate(unit), times, trajectory.snapshots);
                if (trajectory.diverged) {
                    std::ostringstream line;
                    line << "dln run: " << name << " replicate " << grid.replicate(unit) << " diverged at t = "
                         << trajectory.diverged_at;
                    config::print_line(std::cerr, line.str());
                }
            }
        }
        return 0;
    } catch (const config::ConfigError& e) {
        return report_bad_input("run", e.what());
    } catch (const std::invalid_argument& e) {  // a point a method cannot represent
        return report_bad_input("run", e.what());
    } catch (const std::exception& e) {
        config::print_line(std::cerr, std::string("dln run: error: ") + e.what());
        return 1;
    }
}

}  // namespace dln::app
