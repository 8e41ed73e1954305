// LD_PRELOAD library for tests/e2e/file_locking.sh: flock fails with ENOSYS, as it does on a
// file system mounted without locks (some Lustre and NFS mounts), where HDF5 1.10's H5Fopen
// fails with "unable to lock file" unless told to ignore that.
#include <errno.h>
#include <sys/file.h>

int flock(int fd, int operation) {
    (void)fd;
    (void)operation;
    errno = ENOSYS;
    return -1;
}
