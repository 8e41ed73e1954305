// What every subcommand shares: parsing with --help, and turning bad input into one line + exit 2.
#pragma once

#include <boost/program_options.hpp>
#include <iostream>
#include <string>

#include "commands.hpp"
#include "dln/config/config.hpp"

namespace dln::app {

// Parses args with desc (plus --help), and bare arguments by positional if given. Returns false
// after printing help if --help was asked; throws config::ConfigError for anything it rejects.
bool parse_command_line(const Args& args, const std::string& usage,
                        boost::program_options::options_description desc,
                        boost::program_options::variables_map& vm,
                        const boost::program_options::positional_options_description* positional = nullptr);

// "dln <command>: error: <what>" on stderr; returns the bad-input exit status.
int report_bad_input(const std::string& command, const std::string& what);

}  // namespace dln::app
