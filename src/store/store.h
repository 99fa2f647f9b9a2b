/*
 * store.h — the one storage interface. Everything above store/ sees the
 * database through this header: the store's own lifecycle below, and one
 * header per aggregate (accounts and keys, contacts, verifications, the
 * outbox, templates, users and sessions, audit), each listing its
 * operations once (see store_ops.h). SQLite (store/sqlite*.c) and
 * PostgreSQL (store/pg*.c) implement the same tables of operations.
 *
 * Reads and writes take different paths:
 *  - cc_store_<thing>_get/list read on a connection private to the calling
 *    thread (SQLite) or one taken from the pool for the call (PostgreSQL),
 *    in parallel with other readers.
 *  - cc_store_read(store, fn, arg, err) runs fn's cc_tx_* reads on that
 *    connection in one read transaction: one snapshot for several reads.
 *  - cc_store_write(store, fn, arg, err) runs fn inside a transaction and
 *    returns once that transaction is durable. fn uses only the cc_tx_*
 *    functions on the tx it is given. On SQLite one writer thread runs the
 *    waiting writes together, each in its own SAVEPOINT, and commits them
 *    with one fsync (group commit); on PostgreSQL fn runs in an ordinary
 *    transaction and is run again after a serialization failure. So fn must
 *    be safe to run more than once: it may only change *arg's outputs.
 *    A non-zero return from fn undoes everything fn did and nothing else.
 */
#ifndef CC_STORE_H
#define CC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "store/accounts.h"
#include "store/applications.h"
#include "store/audit.h"
#include "store/contacts.h"
#include "store/outbox.h"
#include "store/templates.h"
#include "store/users.h"
#include "store/verifications.h"
#include "store/certificates.h"
#include "store/reminders.h"
#include "store/sealed.h"
#include "store/endpoints.h"
#include "store/acme.h"
#include "store/stats.h"
#include "store/imports.h"

struct cc_store;
struct cc_tx;

struct cc_store_config {
    const char *url;          /* "sqlite:/path/to.db", a plain path, or "postgres://..." */
    int synchronous_full;     /* 1: an acknowledged write survives a power cut */
    int busy_timeout_ms;      /* waiting for another process's write lock */
    int max_batch;            /* writes committed together at the most */
    int quick_check_s;        /* bound of the start-up PRAGMA quick_check; 0 skips it */
    int pool_size;            /* PostgreSQL: connections at the most (0: 10) */
};

typedef enum cc_err (*cc_tx_fn)(struct cc_tx *tx, void *arg, struct cc_error *err);

/* Opens the database named by cfg->url, creating it only where no file
 * exists. An existing file is examined before anything writes to it and
 * refused, unchanged, when it is not certcontacts' own, has a newer schema
 * than this binary knows, or is damaged (CC_ERR_STORAGE_CORRUPT); the
 * message says what to do. At run time a damaged file fails writes with
 * CC_ERR_STORAGE_CORRUPT from then on, a full disk with CC_ERR_STORAGE_FULL
 * until a write commits again; both fail the "store" component of
 * util/health. */
enum cc_err cc_store_open(const struct cc_store_config *cfg, struct cc_store **out,
                          struct cc_error *err);
/* The full check of the database named by cfg->url, read-only: each problem
 * found goes to line(arg, text). CC_OK when there is none,
 * CC_ERR_STORAGE_CORRUPT when there are, another code (with the reason)
 * when the file cannot be examined or is not ours. */
enum cc_err cc_store_check(const struct cc_store_config *cfg,
                           void (*line)(void *arg, const char *text), void *arg,
                           struct cc_error *err);
/* What cc_store_backup tells while it copies: pages copied of total. */
struct cc_backup_progress {
    void (*fn)(void *arg, int64_t done, int64_t total);
    void *arg;
};
/* A consistent copy of the SQLite database named by url into the file dest,
 * beside a running server (SQLite's online backup API, the source opened
 * read-only and held in one read transaction: the copy is the database as
 * of one moment). The copy is written to a temporary file in dest's
 * directory (mode 0600), fsynced and then renamed to dest, so dest is
 * never a half-written copy. *bytes (may be NULL): the copy's size.
 * CC_ERR_CONFIG for a PostgreSQL url: pg_dump is the tool there. */
enum cc_err cc_store_backup(const char *url, const char *dest,
                            const struct cc_backup_progress *pr, int64_t *bytes,
                            struct cc_error *err);
/* The database's own setting name (such as "master_key_id") into out (cut
 * to outsz); CC_ERR_NOT_FOUND when it has none. */
enum cc_err cc_store_meta_get(struct cc_store *s, const char *name, char *out, size_t outsz,
                              struct cc_error *err);
/* Records the setting name, durably. */
enum cc_err cc_store_meta_set(struct cc_store *s, const char *name, const char *value,
                              struct cc_error *err);
/* What cc_store_copy tells while it works: after each batch of a table
 * (rows copied so far, whether more follow) and after each table's check
 * (rows on both sides, the source's SHA-256 of them, whether they agree). */
struct cc_copy_report {
    void (*progress)(void *arg, const char *table, int64_t rows_done, int more);
    void (*verified)(void *arg, const char *table, int64_t rows_from, int64_t rows_to,
                     const char *sha256, int ok);
    void *arg;
};
/* Copies every row of the database at from_url into the one at to_url
 * (SQLite or PostgreSQL, either way), both first brought to this release's
 * schema, then checks every table on both sides by row count and checksum.
 * The target must be empty, or a copy of from_url that was interrupted: it
 * goes on after the last batch that committed. See store/copy.c. */
enum cc_err cc_store_copy(const char *from_url, const char *to_url,
                          const struct cc_copy_report *rep, struct cc_error *err);
/* Stops the writer after the writes already queued, closes every connection. */
void cc_store_close(struct cc_store *s);
/* Applies the embedded migrations not yet recorded in schema_migrations. */
enum cc_err cc_store_migrate(struct cc_store *s, struct cc_error *err);
/* Whether this process should run the singleton job named job (the
 * reminder scheduler, ACME orders) now: *leader 1 or 0. With SQLite one
 * process owns the database, so it always leads; with PostgreSQL the
 * instance holding the job's advisory lock leads, and when it dies (its
 * session ends) the next instance to ask takes the lock over. Jobs ask on
 * each wake-up and sleep CC_LEADER_POLL_MS when they do not lead. */
enum cc_err cc_store_lead(struct cc_store *s, const char *job, int *leader,
                          struct cc_error *err);
/* ---- limits of the whole deployment (shared.c of each backend) -----------
 * Whether several processes may share this database (PostgreSQL): then the
 * limits that must hold for the whole deployment (a robot's rate, an access
 * key's rate and nonces) are kept in it with the two calls below; with
 * SQLite one process owns the database and keeps them in memory. */
int cc_store_shared(const struct cc_store *s);
/* The largest state cc_store_state_update keeps, with its NUL. */
#define CC_STORE_STATE_MAX 4096
/* Changes the state in place (a NUL-terminated string of at most
 * CC_STORE_STATE_MAX - 1 bytes; "" when there is none yet) and sets
 * *forget_at, the time (ms) after which the state may be dropped. Called
 * with the state's row locked against every other process; called again
 * when the store runs the transaction again, so it must work from the state
 * alone (what it tells its caller is what its last call said). */
typedef void (*cc_state_fn)(void *ctx, char *state, int64_t *forget_at);
/* Runs fn on the state named name (at most 128 bytes) under its row lock,
 * and keeps what fn left. States past their forget_at are dropped now and
 * then. */
enum cc_err cc_store_state_update(struct cc_store *s, const char *name, int64_t now_ms,
                                  cc_state_fn fn, void *ctx, struct cc_error *err);
/* Remembers nonce (at most 128 bytes) of scope (at most 64) until
 * expires_ms, atomically across processes: *verdict CC_NONCE_NEW when it
 * was not in use (or its time had passed), CC_NONCE_REPLAY when a live one
 * was there already, CC_NONCE_FULL when scope holds per_key live nonces
 * already (then *retry_ms is the time until its first one passes). Nonces
 * past their time are dropped now and then. */
enum { CC_NONCE_NEW = 0, CC_NONCE_REPLAY = 1, CC_NONCE_FULL = 2 };
enum cc_err cc_store_nonce_take(struct cc_store *s, const char *scope, const char *nonce,
                                int64_t expires_ms, int64_t now_ms, int64_t per_key,
                                int *verdict, int64_t *retry_ms, struct cc_error *err);
/* The backend's name: "sqlite" or "postgres". */
const char *cc_store_backend(const struct cc_store *s);
/* CC_OK when the database answers a trivial query. */
enum cc_err cc_store_ping(struct cc_store *s, struct cc_error *err);
/* Runs fn(tx, arg, err) in a transaction; see the top of this file. */
enum cc_err cc_store_write(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err);
/* A relaxed write: like cc_store_write, but it returns once committed, not
 * once durable: a process crash (kill -9) loses nothing of it, a power cut
 * or an OS crash may lose it, and then only with every relaxed write
 * committed after it (a suffix: the first durable write after it makes it
 * durable too). For bookkeeping whose loss costs a resend the idempotency
 * key absorbs (the dispatcher's leases and outcomes), never for what a
 * client was told is saved. SQLite: its batch commits with
 * synchronous=NORMAL (no fsync in WAL mode) unless it shares the batch with
 * a durable write; PostgreSQL: synchronous_commit = off for its
 * transaction. See docs/delivery-guarantees.md. */
enum cc_err cc_store_write_relaxed(struct cc_store *s, cc_tx_fn fn, void *arg,
                                   struct cc_error *err);
/* A write whose fn refuses (its own errors: a clash, a limit) only before
 * it changes any row; after its first change only the database can fail it.
 * SQLite runs it without a savepoint of its own (cheaper by the pages it
 * changes); should it fail after a change all the same, every write of the
 * batch it shares fails with it, none kept. Durable as cc_store_write. */
enum cc_err cc_store_write_checks_first(struct cc_store *s, cc_tx_fn fn, void *arg,
                                        struct cc_error *err);
enum { CC_STORE_WRITE_RELAXED = 1, CC_STORE_WRITE_CHECKS_FIRST = 2 };
/* Called once a queued write (cc_store_write_queued) is committed or has
 * failed, with its outcome; on the store's writer thread, so it only hands
 * the outcome on (it must not wait, nor use the store). */
typedef void (*cc_write_done_fn)(void *arg, enum cc_err rc);
/* 1 when this store can queue a write without a thread waiting for it
 * (cc_store_write_queued): SQLite's writer thread; 0 on PostgreSQL, whose
 * writes run on the caller's thread. */
int cc_store_queues_writes(const struct cc_store *s);
/* A write like cc_store_write_flags's (flags: CC_STORE_WRITE_*), but queued
 * for the writer without waiting: CC_OK when queued, and done(done_arg, rc)
 * is called once it is committed (durable as the flags say) or has failed,
 * when err (kept alive by the caller until then) says why. Any other answer:
 * not queued (the store refuses writes, or CC_ERR_UNSUPPORTED_OPERATION
 * where cc_store_queues_writes is 0); done is not called. */
enum cc_err cc_store_write_queued(struct cc_store *s, cc_tx_fn fn, void *arg, unsigned flags,
                                  cc_write_done_fn done, void *done_arg, struct cc_error *err);
/* Runs fn(tx, arg, err) in one read transaction on the calling thread's
 * read connection, so that every cc_tx_* read it makes sees one snapshot
 * (a contact and what hangs on it, read together). fn only reads: the
 * connection refuses writes. Runs once; never inside a cc_store_write. */
enum cc_err cc_store_read(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err);
/* on: the reads the calling thread makes from now on share one read
 * transaction (one snapshot, one lock of the database), until off; a write
 * the thread makes ends it first, so that later reads see the write. For a
 * request's reads together (the access key and the contact). Nests with
 * cc_store_read. No-op where a read costs no lock (PostgreSQL). */
void cc_store_read_hold(struct cc_store *s, int on);
/* The mark of what the calling thread's reads see now (inside
 * cc_store_read_hold: its snapshot). Equal marks from one thread saw the
 * same committed data, so what was made from reads after an earlier mark
 * still holds while the mark is equal; a commit anywhere (another process
 * too) changes it. Read the mark before the reads it stands for.
 * CC_ERR_UNSUPPORTED_OPERATION where a mark is not cheap (PostgreSQL). */
enum cc_err cc_store_read_mark(struct cc_store *s, struct cc_read_mark *mark,
                               struct cc_error *err);
/* Drops the calling thread's read connection (threads that end call this). */
void cc_store_thread_done(struct cc_store *s);

#endif
