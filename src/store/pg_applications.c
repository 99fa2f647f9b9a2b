/*
 * pg_applications.c — the PostgreSQL side of applications: not ported yet; every operation
 * answers that it is not available on PostgreSQL in this build.
 */
#include "store/pg_int.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

CC_STORE_APPLICATION_OPS(CC_PG_PENDING)

const struct cc_store_application_ops cc_pg_application_ops = {CC_STORE_APPLICATION_OPS(CC_STORE_OP_INIT)};
