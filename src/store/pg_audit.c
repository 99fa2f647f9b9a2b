/*
 * pg_audit.c — the PostgreSQL side of audit: not ported yet; every operation
 * answers that it is not available on PostgreSQL in this build.
 */
#include "store/pg_int.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

CC_STORE_AUDIT_OPS(CC_PG_PENDING)

const struct cc_store_audit_ops cc_pg_audit_ops = {CC_STORE_AUDIT_OPS(CC_STORE_OP_INIT)};
