/*
 * store_ops.h — how one list of operations becomes the store's interface.
 *
 * Each aggregate header (store/accounts.h, store/contacts.h, ...) lists its
 * operations once, as an X-macro:
 *
 *     #define CC_STORE_CONTACT_OPS(X)                                        \
 *         X(read, contact_get, (int64_t account_id, int64_t id,              \
 *           struct cc_contact *out, struct cc_error *err),                   \
 *           (account_id, id, out, err))
 *
 * kind read: cc_store_<name>(struct cc_store *, parameters) reads on the
 *            calling thread's own connection, in parallel with other reads.
 * kind tx:   cc_tx_<name>(struct cc_tx *, parameters) writes (or reads)
 *            inside a cc_tx_fn given to cc_store_write.
 * Every operation returns enum cc_err and takes struct cc_error *err last.
 *
 * From that list come the public prototypes (CC_STORE_DECLARE, in the
 * aggregate header), the members of the aggregate's table of operations
 * (store_int.h), the forwarders (store.c) and each backend's table
 * (CC_STORE_OP_INIT in the backend's file for the aggregate). Adding an
 * operation is one line in the list and its implementation in each backend.
 */
#ifndef CC_STORE_OPS_H
#define CC_STORE_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct cc_store;
struct cc_tx;

#define CC_STORE_UNPAREN(...) __VA_ARGS__

/* The handle an operation of each kind takes, and its public name. */
#define CC_STORE_HANDLE_read struct cc_store *
#define CC_STORE_HANDLE_tx struct cc_tx *
#define CC_STORE_PUBLIC_read(name) cc_store_##name
#define CC_STORE_PUBLIC_tx(name) cc_tx_##name
#define CC_STORE_PUBLIC(kind, name) CC_STORE_PUBLIC_##kind(name)

/* X for a list: the public prototype of each operation. */
#define CC_STORE_DECLARE(kind, name, params, args)                                         \
    enum cc_err CC_STORE_PUBLIC(kind, name)(CC_STORE_HANDLE_##kind h,                      \
                                            CC_STORE_UNPAREN params);

#endif
