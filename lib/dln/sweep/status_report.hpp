// What `dln status` says about a sweep file, for people (text) and for scripts (JSON; its
// structure is documented in README "The result file", `dln status --json`). Serial, no MPI.
#pragma once

#include <ostream>
#include <string>

#include "dln/io/provenance.hpp"

namespace dln::sweep {

// The build that created the file and a table of its runs, for the end of `dln status`.
void print_provenance(const io::Provenance& provenance, std::ostream& out);

// The whole status as one JSON document (one line). Throws std::invalid_argument if path is not
// a readable sweep file and has no journal to rebuild it from; a damaged file with a journal
// gives {"readable": false, "error": ..., "journal": ...}.
std::string status_json(const std::string& path);

// Per method, the finished pde points that did not meet pde.rtol (0 for other methods).
std::size_t tolerance_unmet(const std::string& path, const std::string& method);

}  // namespace dln::sweep
