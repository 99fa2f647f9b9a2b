/*
 * pg_users.c — the PostgreSQL side of users: not ported yet; every operation
 * answers that it is not available on PostgreSQL in this build.
 */
#include "store/pg_int.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

CC_STORE_USER_OPS(CC_PG_PENDING)

const struct cc_store_user_ops cc_pg_user_ops = {CC_STORE_USER_OPS(CC_STORE_OP_INIT)};
