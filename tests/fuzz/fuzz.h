/*
 * fuzz.h — what every fuzz target shares: its entry point's prototype and
 * CHECK, an invariant that libFuzzer reports as a crash (abort()) with the
 * input that broke it.
 */
#ifndef CC_FUZZ_H
#define CC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                   \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                               \
        }                                                                          \
    } while (0)

#endif
