/*
 * pg_templates.c — the PostgreSQL side of templates: not ported yet; every operation
 * answers that it is not available on PostgreSQL in this build.
 */
#include "store/pg_int.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

CC_STORE_TEMPLATE_OPS(CC_PG_PENDING)

const struct cc_store_template_ops cc_pg_template_ops = {CC_STORE_TEMPLATE_OPS(CC_STORE_OP_INIT)};
