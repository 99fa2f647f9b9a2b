/*
 * pg_outbox.c — the PostgreSQL side of outbox: not ported yet; every operation
 * answers that it is not available on PostgreSQL in this build.
 */
#include "store/pg_int.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

CC_STORE_OUTBOX_OPS(CC_PG_PENDING)

const struct cc_store_outbox_ops cc_pg_outbox_ops = {CC_STORE_OUTBOX_OPS(CC_STORE_OP_INIT)};
