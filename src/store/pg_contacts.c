/*
 * pg_contacts.c — the PostgreSQL side of contacts: not ported yet; every operation
 * answers that it is not available on PostgreSQL in this build.
 */
#include "store/pg_int.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

CC_STORE_CONTACT_OPS(CC_PG_PENDING)

const struct cc_store_contact_ops cc_pg_contact_ops = {CC_STORE_CONTACT_OPS(CC_STORE_OP_INIT)};
