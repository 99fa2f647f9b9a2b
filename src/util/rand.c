/*
 * rand.c — randomness from OpenSSL's CSPRNG, for keys, nonces, codes and ids.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/rand.h>

#include "util/util.h"

void cc_random_bytes(void *buf, size_t n)
{
    if (RAND_bytes(buf, (int)n) != 1) {
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"CSPRNG failed\"}\n");
        abort();
    }
}

void cc_random_alnum(char *out, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t i = 0;
    while (i < n) {
        unsigned char b[32];
        cc_random_bytes(b, sizeof b);
        for (size_t j = 0; j < sizeof b && i < n; j++)
            if (b[j] < 248) /* 248 = 4 * 62: keeps the choice unbiased */
                out[i++] = alphabet[b[j] % 62];
    }
    out[n] = '\0';
}

void cc_uuid(char *out)
{
    /* Ids are made on every request: draw the randomness 4 KiB at a time
     * per thread rather than calling into the CSPRNG for each one. */
    static _Thread_local unsigned char pool[4096];
    static _Thread_local size_t left;
    if (left < 16) {
        cc_random_bytes(pool, sizeof pool);
        left = sizeof pool;
    }
    unsigned char *b = pool + sizeof pool - left;
    left -= 16;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) { /* 8-4-4-4-12 */
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = '\0';
}
