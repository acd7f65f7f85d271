/* fuzz_main.h: what a fuzz target (tests/fuzz/fuzz_*.c) gives the shared plain-program
 * driver in fuzz_main.c. Linked with -fsanitize=fuzzer, a target is a libFuzzer target and
 * fuzz_main.c is left out; otherwise fuzz_main.c's main() runs the files named on the
 * command line through the target's LLVMFuzzerTestOneInput and prints "<file>: <class>";
 * with --check it also compares each file's class with the one its name starts with
 * ("corrupt-truncated.png" must give DG_INPUT_CORRUPT), which is how the regression corpora
 * in tests/corpus are tested. */
#ifndef DIGITD_FUZZ_MAIN_H
#define DIGITD_FUZZ_MAIN_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The target's verdict on one input, an index into dg_fuzz_classes (what --check
 * compares). */
int dg_fuzz_classify(const uint8_t *data, size_t size);

/* The target's class names, NULL-terminated: the file-name prefixes of its corpus. The
 * targets whose verdict is a dg_input_err share fuzz_input_classes.c's. */
extern const char *const dg_fuzz_classes[];

/* The program name for the usage line. */
extern const char dg_fuzz_name[];

#endif
