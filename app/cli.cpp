#include "cli.hpp"

#include "dln/config/config.hpp"

namespace po = boost::program_options;

namespace dln::app {

bool parse_command_line(const Args& args, const std::string& usage, po::options_description desc,
                        po::variables_map& vm, const po::positional_options_description* positional) {
    desc.add_options()("help,h", "print this help and exit");
    try {
        po::command_line_parser parser(args);
        parser.options(desc);
        if (positional) parser.positional(*positional);
        po::store(parser.run(), vm);
    } catch (const po::unknown_option& e) {
        throw config::ConfigError(e.get_option_name(), "unknown option");
    } catch (const po::error& e) {
        throw config::ConfigError(e.what());
    }
    if (vm.count("help")) {
        std::cout << usage << '\n' << desc << '\n';
        return false;
    }
    return true;
}

int report_bad_input(const std::string& command, const std::string& what) {
    config::print_line(std::cerr, "dln " + command + ": error: " + config::one_line(what));
    return kExitBadInput;
}

}  // namespace dln::app
