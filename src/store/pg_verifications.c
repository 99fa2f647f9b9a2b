/*
 * pg_verifications.c — the PostgreSQL side of verifications: not ported yet; every operation
 * answers that it is not available on PostgreSQL in this build.
 */
#include "store/pg_int.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

CC_STORE_VERIF_OPS(CC_PG_PENDING)

const struct cc_store_verif_ops cc_pg_verif_ops = {CC_STORE_VERIF_OPS(CC_STORE_OP_INIT)};
