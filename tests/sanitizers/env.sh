# The sanitizer runtime's settings for the tests of a -DDLN_SANITIZE=address,undefined build:
#   source tests/sanitizers/env.sh; ctest --test-dir build-asan -E '^slurm:'
# (.ci/run does so). Every process the tests start inherits them: dln and the test binaries,
# mpiexec and Python, which carry no sanitizer runtime and ignore them. Any finding ends the
# process with a report and a non-zero status, so the test fails.
sanitizers_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# halt_on_error: stop at the first error. detect_leaks: LeakSanitizer at exit, with the leaks of
# dependencies suppressed (lsan.supp says why each one is there). abort_on_error=0: exit with
# status 1 rather than abort (no core files). fast_unwind_on_malloc=0: whole stacks for the
# suppressions (lsan.supp); it doubles the CPU time of a short sweep (1.5 to 3.0 s, 2026-12-01).
export ASAN_OPTIONS=suppressions=$sanitizers_dir/asan.supp:halt_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=0:print_stacktrace=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export LSAN_OPTIONS=suppressions=$sanitizers_dir/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$sanitizers_dir/ubsan.supp
unset sanitizers_dir
