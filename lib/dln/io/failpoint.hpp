// Named places where a test can stop the program, to kill it there with SIGKILL.
//
// A sweep must survive `kill -9` at any moment; the moments that matter most (the file half
// created, a unit journaled but not yet in the file, a slab half written, every unit done but the
// file not closed) last microseconds, too short to hit by timing. With
//     DLN_FAILPOINT=<name>:<n>  DLN_FAILPOINT_MARKER=<path>
// the n-th time this process passes failpoint(<name>) it creates <path> and sleeps until killed;
// the test waits for <path> and kills the job. With DLN_FAILPOINT=<name>:<n>:resume it sleeps
// only until the test removes <path>, then goes on: the test can act at that moment (send a
// signal, say) and see what the program does next. With DLN_FAILPOINT=<name>:<n>:enospc it
// throws there the StorageError a full disk would cause (a quota that fills while the file is
// created, say, which no file system a test can make fails at that very moment). Without
// DLN_FAILPOINT this is one branch on a cached flag.
#pragma once

namespace dln::io {

void failpoint(const char* name);

}  // namespace dln::io
