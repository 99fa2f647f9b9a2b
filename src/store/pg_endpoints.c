/*
 * pg_endpoints.c — the PostgreSQL side of endpoints: not ported yet; every operation
 * answers that it is not available on PostgreSQL in this build.
 */
#include "store/pg_int.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

CC_STORE_ENDPOINT_OPS(CC_PG_PENDING)

const struct cc_store_endpoint_ops cc_pg_endpoint_ops = {CC_STORE_ENDPOINT_OPS(CC_STORE_OP_INIT)};
