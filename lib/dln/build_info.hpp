// What this dln binary was built from, captured at build time (cmake/build_info.cmake): recorded
// in every sweep file it writes (io/provenance.hpp).
#pragma once

namespace dln::build {
const char* commit();      // the git commit of the source tree (40 hex digits), or "unknown"
int dirty();               // 1: tracked files differed from that commit; 0: they did not; -1: unknown
const char* compiler();    // "GNU 12.2.0"
const char* flags();       // the C++ flags of the build type and every compile option (-march=...)
const char* arch();        // DLN_ARCH (empty: none)
const char* build_type();  // CMAKE_BUILD_TYPE
}  // namespace dln::build
