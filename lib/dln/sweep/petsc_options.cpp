#include "dln/sweep/petsc_options.hpp"

#include <cctype>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace dln::sweep {

std::string petsc_options_from_environment() {
    const char* value = std::getenv("PETSC_OPTIONS");
    return value ? value : "";
}

bool is_diagnostic_petsc_option(std::string_view name) {
    auto contains = [&](std::string_view part) { return name.find(part) != std::string_view::npos; };
    auto starts = [&](std::string_view part) { return name.substr(0, part.size()) == part; };
    auto ends = [&](std::string_view part) {
        return name.size() >= part.size() && name.substr(name.size() - part.size()) == part;
    };
    if (contains("monitor") || contains("_view") || starts("view") || starts("log") || ends("converged_reason")) {
        return true;
    }
    for (std::string_view plain : {"help", "info", "version", "options_left", "options_view", "malloc_dump",
                                   "memory_view", "no_signal_handler", "history"}) {
        if (name == plain) return true;
    }
    return false;
}

std::string result_petsc_options(const std::string& text) {
    std::istringstream in(text);
    std::string token, out;
    bool keep = false;  // the current option (and so its values) changes results
    while (in >> token) {
        const bool option = token.size() >= 2 && token[0] == '-' &&
                            (std::isalpha(static_cast<unsigned char>(token[1])) || token[1] == '_');
        if (option) keep = !is_diagnostic_petsc_option(std::string_view(token).substr(1));
        if (keep) out += (out.empty() ? "" : " ") + token;
    }
    return out;
}

std::string show_petsc_options(const std::string& text) {
    return text.empty() ? std::string("unset") : "'" + text + "'";
}

}  // namespace dln::sweep
