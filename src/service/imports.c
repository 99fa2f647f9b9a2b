/*
 * imports.c — contact import jobs: a CSV file of contacts (core/csv_import.c
 * reads it) checked and written in the background, with a report per row.
 *
 * POST /v1/contacts/import parses the file on the request's thread (a file
 * that is not CSV is refused there, without a job), records the job
 * (contact_imports) and queues it for this process's one import worker;
 * each job then runs in two passes:
 *
 *   1. check: every row is validated exactly as a create
 *      (svc_import_prepare, contacts.c), compared with the file's earlier
 *      rows (an email or mobile twice is refused) and matched with the
 *      account's contacts (svc_import_row_tx without applying,
 *      IMPORT_CHECK_BATCH rows to a read transaction): create, update,
 *      unchanged or refuse. The job's "checked" moves, and its progress is
 *      written every few thousand rows (its heartbeat).
 *   2. apply (not for a dry run; for mode=all only when no row was
 *      refused): the rows to create or update are written again through
 *      svc_import_row_tx, with every rule of a create or an update (audit
 *      rows, the search indexes). mode=all writes them all in ONE
 *      transaction: it commits whole or not at all, also when the process
 *      dies (the job is then marked failed at the next start). Its progress
 *      ("processed") is counted in memory meanwhile: the instance running
 *      it answers with it, others see the last progress written. With
 *      SQLite's one writer, every other write waits for that transaction
 *      (docs/api.md gives the cost). mode=skip_bad writes batches of
 *      CC_IMPORT_APPLY_BATCH rows, each its own transaction.
 *
 * Then the report (contact_import_rows) is written, and only then the job's
 * end state, so that a job seen done has its whole report.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <openssl/crypto.h>

#include "core/csv_import.h"
#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

/* ---- limits ---------------------------------------------------------------------------- */
/* Rows of one skip_bad transaction; of one write of the report. */
#define IMPORT_APPLY_BATCH 1000
#define IMPORT_REPORT_BATCH 5000
/* The first pass writes its progress after this many rows, or this many ms. */
#define IMPORT_PROGRESS_ROWS 5000
#define IMPORT_PROGRESS_MS 1000
/* A job queued or running whose heartbeat is this old, on a database that
 * several instances share, is taken for a dead process's at start-up. */
#define IMPORT_STALE_MS (15 * 60 * 1000)
/* Jobs and their reports are kept this long. */
#define IMPORT_KEEP_MS ((int64_t)30 * 24 * 3600 * 1000)

/* ---- one job ------------------------------------------------------------------------------- */
/* Why a row was refused. */
struct refusal {
    char code[48];
    char field[32];
    char *message, *message_zh; /* owned */
};

/* One row's outcome, kept small: a file may have a million. */
struct outcome {
    int64_t contact_id;
    int32_t refusal;       /* index into job->refusals; -1: none */
    uint8_t action;        /* enum cc_import_action */
    uint8_t apply;         /* to write in the second pass */
    char *shown;           /* owned: "name\0email\0mobile\0" as the list shows them */
};

struct job {
    struct job *next;
    struct cc_import j;            /* its record; counts under imports->mu while it runs */
    struct cc_caller caller;
    struct cc_csv_file file;
    struct outcome *out;           /* file.n of them */
    struct refusal *refusals;
    size_t n_refusals, cap_refusals;
};

struct svc_imports {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *head, *tail;       /* queued */
    struct job *live;              /* running now */
    char owner[40];                /* this instance's id, the jobs' owner ("" unknown) */
    pthread_t thread;
    int started, stopping;
};

struct svc_imports *svc_imports_new(void)
{
    struct svc_imports *m = cc_calloc(1, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    return m;
}

static void job_free(struct job *jb)
{
    if (!jb)
        return;
    if (jb->out)
        for (size_t i = 0; i < jb->file.n; i++)
            cc_free(jb->out[i].shown);
    cc_free(jb->out);
    for (size_t i = 0; i < jb->n_refusals; i++) {
        cc_free(jb->refusals[i].message);
        cc_free(jb->refusals[i].message_zh);
    }
    cc_free(jb->refusals);
    /* the file holds ID numbers in the clear */
    if (jb->file.text)
        OPENSSL_cleanse(jb->file.text, jb->file.text_len);
    cc_csv_file_free(&jb->file);
    cc_free(jb);
}

/* ---- progress ------------------------------------------------------------------------------ */
static enum cc_err update_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    return cc_tx_import_update(tx, arg, err);
}

/* Writes the job's record as it is now (a copy taken under the lock). */
static enum cc_err save(struct cc_service *svc, struct job *jb, struct cc_error *err)
{
    struct svc_imports *m = svc->imports;
    struct cc_import snap;
    pthread_mutex_lock(&m->mu);
    jb->j.heartbeat_at = cc_now_ms();
    snap = jb->j;
    pthread_mutex_unlock(&m->mu);
    return cc_store_write(svc->store, update_tx, &snap, err);
}

static void count(struct svc_imports *m, struct job *jb, enum cc_import_action a, int checked,
                  int processed)
{
    pthread_mutex_lock(&m->mu);
    if (checked)
        jb->j.checked++;
    if (processed) {
        jb->j.processed++;
        switch (a) {
        case CC_IMPORT_CREATE: jb->j.created++; break;
        case CC_IMPORT_UPDATE: jb->j.updated++; break;
        case CC_IMPORT_UNCHANGED: jb->j.unchanged++; break;
        case CC_IMPORT_REFUSE: jb->j.refused++; break;
        }
    }
    pthread_mutex_unlock(&m->mu);
}

/* Records why row i was refused (from e). */
static void refuse(struct job *jb, size_t i, const struct cc_error *e)
{
    if (jb->n_refusals == jb->cap_refusals) {
        jb->cap_refusals = jb->cap_refusals ? jb->cap_refusals * 2 : 64;
        jb->refusals = cc_realloc(jb->refusals, jb->cap_refusals * sizeof *jb->refusals);
    }
    struct refusal *r = &jb->refusals[jb->n_refusals];
    cc_err_code(e->code, e->field, CC_API_REST, r->code, sizeof r->code);
    cc_strlcpy(r->field, e->field, sizeof r->field);
    r->message = cc_strdup(e->message);
    r->message_zh = cc_strdup(e->message_zh);
    jb->out[i].refusal = (int32_t)jb->n_refusals++;
    jb->out[i].action = CC_IMPORT_REFUSE;
    jb->out[i].apply = 0;
}

/* Row i of the file as a contact create. */
static void row_input(const struct job *jb, size_t i, struct cc_contact_input *in)
{
    const struct cc_csv_file *f = &jb->file;
    memset(in, 0, sizeof *in);
    in->present = CC_F_NAME | CC_F_MOBILE;
    in->name = cc_csv_cell(f, i, CC_CSV_NAME);
    in->mobile = cc_csv_cell(f, i, CC_CSV_MOBILE);
    if ((in->email = cc_csv_cell(f, i, CC_CSV_EMAIL)))
        in->present |= CC_F_EMAIL;
    if ((in->id_card = cc_csv_cell(f, i, CC_CSV_ID_CARD)))
        in->present |= CC_F_ID_CARD;
    if ((in->language = cc_csv_cell(f, i, CC_CSV_LANGUAGE)))
        in->present |= CC_F_LANGUAGE;
}

/* Validates row i into *r (NULL when it is refused: *rc CC_OK, its refusal
 * recorded; or a fault of this server: *rc and err). */
static struct svc_import_row *prepare(const struct cc_service *svc, struct job *jb, size_t i,
                                      enum cc_err *rc, struct cc_error *err)
{
    struct cc_contact_input in;
    struct svc_import_row *r = NULL;
    struct cc_error *e = cc_malloc(sizeof *e);
    *rc = CC_OK;
    row_input(jb, i, &in);
    int trust = jb->j.trust_verified;
    enum cc_err v = svc_import_prepare(
        svc, &in, trust && cc_csv_truthy(cc_csv_cell(&jb->file, i, CC_CSV_EMAIL_VERIFIED)),
        trust && cc_csv_truthy(cc_csv_cell(&jb->file, i, CC_CSV_MOBILE_VERIFIED)), &r, e);
    if (v && (cc_err_hides_detail(v) || v == CC_ERR_RETRY)) {
        *err = *e;
        *rc = v;
    } else if (v) {
        refuse(jb, i, e);
    }
    cc_free(e);
    if (v) {
        svc_import_row_free(r);
        return NULL;
    }
    return r;
}

/* ---- pass 1: check ------------------------------------------------------------------------ */
/* An email or mobile an earlier row of the file has refuses this one. */
static int repeated(GHashTable *seen, const char *key, size_t i, struct job *jb, int mobile)
{
    if (!key)
        return 0;
    gpointer was = g_hash_table_lookup(seen, key);
    if (!was) {
        g_hash_table_insert(seen, g_strdup(key), GSIZE_TO_POINTER(i + 1));
        return 0;
    }
    struct cc_error e;
    long long line = (long long)jb->file.rows[GPOINTER_TO_SIZE(was) - 1].line;
    if (mobile)
        cc_error_set(&e, CC_ERR_ALREADY_EXISTS, "Mobile",
                     "Row %lld of the file has this mobile number too.", line);
    else
        cc_error_set(&e, CC_ERR_ALREADY_EXISTS, "Email",
                     "Row %lld of the file has this email address too.", line);
    refuse(jb, i, &e);
    return 1;
}

/* The rows of one read transaction of the first pass: on PostgreSQL a
 * transaction of its own per row cost more round trips than the row's checks. */
#define IMPORT_CHECK_BATCH 100

struct check_op {
    const struct cc_service *svc;
    const struct cc_caller *caller;
    struct svc_import_row **rows;   /* n; NULL: refused already */
    size_t n;
    enum cc_import_action *action;
    int64_t *contact_id;
    struct cc_error *refusal;       /* n */
    int64_t contacts;               /* out: the account's contacts now */
};

static enum cc_err check_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct check_op *op = arg;
    enum cc_err crc = cc_tx_contact_count(tx, op->caller->account_id, &op->contacts, err);
    if (crc)
        return crc;
    for (size_t k = 0; k < op->n; k++) {
        if (!op->rows[k])
            continue;
        enum cc_err rc = svc_import_row_tx(tx, op->svc, op->caller, op->rows[k], 0, NULL,
                                           &op->action[k], &op->contact_id[k],
                                           &op->refusal[k], err);
        if (rc)
            return rc;
    }
    return CC_OK;
}

/* Validates row i and compares it with the file's earlier rows: the row to
 * match, or NULL when it is refused (recorded) or on a fault (*rc). */
static struct svc_import_row *check_one(struct cc_service *svc, struct job *jb, size_t i,
                                        GHashTable *emails, GHashTable *mobiles,
                                        enum cc_err *rc, struct cc_error *err)
{
    struct outcome *o = &jb->out[i];
    o->refusal = -1;
    if (jb->file.rows[i].extra) {
        struct cc_error e;
        cc_error_set(&e, CC_ERR_INVALID_PARAMETER, "Row",
                     "The row has more cells than the header has columns.");
        refuse(jb, i, &e);
        return NULL;
    }
    struct svc_import_row *r = prepare(svc, jb, i, rc, err);
    if (!r)
        return NULL;
    char name[CC_NAME_MAX_BYTES + 1], email[CC_EMAIL_MAX + 1], mobile[CC_MOBILE_MAX + 8];
    svc_import_row_shown(r, name, sizeof name, email, sizeof email, mobile, sizeof mobile);
    size_t a = strlen(name) + 1, b = strlen(email) + 1, c = strlen(mobile) + 1;
    o->shown = cc_malloc(a + b + c);
    memcpy(o->shown, name, a);
    memcpy(o->shown + a, email, b);
    memcpy(o->shown + a + b, mobile, c);
    if (repeated(emails, svc_import_row_key(r, 0), i, jb, 0) ||
        repeated(mobiles, svc_import_row_key(r, 1), i, jb, 1)) {
        svc_import_row_free(r);
        return NULL;
    }
    return r;
}

static enum cc_err check_all(struct cc_service *svc, struct job *jb, struct cc_error *err)
{
    struct svc_imports *m = svc->imports;
    GHashTable *emails = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTable *mobiles = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    struct svc_import_row *rows[IMPORT_CHECK_BATCH];
    enum cc_import_action action[IMPORT_CHECK_BATCH];
    int64_t contact_id[IMPORT_CHECK_BATCH];
    struct cc_error *refusal = cc_calloc(IMPORT_CHECK_BATCH, sizeof *refusal);
    enum cc_err rc = CC_OK;
    int64_t last_save = cc_mono_ms();
    int64_t creates = 0; /* rows so far that would create a contact */
    for (size_t from = 0; from < jb->file.n && !rc; from += IMPORT_CHECK_BATCH) {
        if (__atomic_load_n(&m->stopping, __ATOMIC_RELAXED)) { /* set under mu, read here without it */
            rc = cc_error_set(err, CC_ERR_UNAVAILABLE, NULL,
                              "The server stopped during the import.");
            break;
        }
        size_t n = jb->file.n - from < IMPORT_CHECK_BATCH ? jb->file.n - from
                                                           : IMPORT_CHECK_BATCH;
        memset(rows, 0, sizeof rows);
        for (size_t k = 0; k < n && !rc; k++)
            rows[k] = check_one(svc, jb, from + k, emails, mobiles, &rc, err);
        struct check_op op = {svc, &jb->caller, rows, n, action, contact_id, refusal, 0};
        if (!rc)
            rc = cc_store_read(svc->store, check_tx, &op, err);
        for (size_t k = 0; k < n; k++) {
            struct outcome *o = &jb->out[from + k];
            if (!rc && rows[k]) {
                /* the write would refuse it: max_contacts_per_account */
                if (action[k] == CC_IMPORT_CREATE && op.contacts + creates++ >= svc->cfg.max_contacts) {
                    action[k] = CC_IMPORT_REFUSE;
                    cc_error_set(&refusal[k], CC_ERR_LIMIT_EXCEEDED, "Contacts",
                                 "This account already has %lld contacts, the most it may have.",
                                 (long long)svc->cfg.max_contacts);
                }
                if (action[k] == CC_IMPORT_REFUSE) {
                    refuse(jb, from + k, &refusal[k]);
                } else {
                    o->action = (uint8_t)action[k];
                    o->contact_id = contact_id[k];
                    o->apply = action[k] == CC_IMPORT_CREATE || action[k] == CC_IMPORT_UPDATE;
                }
            }
            svc_import_row_free(rows[k]);
            if (!rc)
                count(m, jb, (enum cc_import_action)o->action, 1, 0);
        }
        size_t batches = from / IMPORT_CHECK_BATCH + 1;
        if (!rc && (batches % (IMPORT_PROGRESS_ROWS / IMPORT_CHECK_BATCH) == 0 ||
                    cc_mono_ms() - last_save > IMPORT_PROGRESS_MS)) {
            struct cc_error ignored;
            save(svc, jb, &ignored);
            last_save = cc_mono_ms();
        }
    }
    cc_service_thread_done(svc); /* the read connection goes back before the long write */
    cc_free(refusal);
    g_hash_table_destroy(emails);
    g_hash_table_destroy(mobiles);
    return rc;
}

/* ---- pass 2: apply ---------------------------------------------------------------------------- */
struct apply_op {
    struct cc_service *svc;
    struct job *jb;
    size_t from, to;          /* rows [from, to) */
    int64_t processed;        /* the job's count before this write (it may run again) */
    int all;                  /* mode=all: a refusal undoes everything */
    size_t refused_row;       /* mode=all: the row that undid it */
    struct cc_error *refusal;
};

static enum cc_err apply_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct apply_op *op = arg;
    struct job *jb = op->jb;
    struct svc_imports *m = op->svc->imports;
    int64_t account = jb->caller.account_id, contacts = 0;
    enum cc_err rc = cc_tx_contact_count(tx, account, &contacts, err);
    if (rc || (rc = cc_tx_contact_count_defer(tx, err)))
        return rc;
    int64_t before = contacts;
    pthread_mutex_lock(&m->mu);
    jb->j.processed = op->processed;
    pthread_mutex_unlock(&m->mu);
    for (size_t i = op->from; i < op->to && !rc; i++) {
        struct outcome *o = &jb->out[i];
        if (!o->apply)
            continue;
        if (__atomic_load_n(&m->stopping, __ATOMIC_RELAXED))
            return cc_error_set(err, CC_ERR_UNAVAILABLE, NULL,
                                "The server stopped during the import.");
        struct svc_import_row *r = prepare(op->svc, jb, i, &rc, err);
        if (!r) {
            /* validated in the first pass: only a fault of this server comes here */
            if (!rc)
                rc = cc_error_set(err, CC_ERR_INTERNAL, NULL, "A row changed between passes.");
            break;
        }
        enum cc_import_action action = CC_IMPORT_REFUSE;
        int64_t contact_id = 0;
        rc = svc_import_row_tx(tx, op->svc, &jb->caller, r, 1, &contacts, &action, &contact_id,
                               op->refusal, err);
        svc_import_row_free(r);
        if (rc)
            break;
        if (action == CC_IMPORT_REFUSE) {
            if (op->all) {
                op->refused_row = i + 1;
                return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "File",
                                    "Row %lld was refused while it was written: nothing was "
                                    "imported (mode=all).",
                                    (long long)jb->file.rows[i].line);
            }
            refuse(jb, i, op->refusal);
            o->apply = 0;
        } else {
            o->action = (uint8_t)action;
            o->contact_id = contact_id;
        }
        pthread_mutex_lock(&m->mu);
        jb->j.processed++;
        pthread_mutex_unlock(&m->mu);
    }
    return rc ? rc : cc_tx_contact_count_settle(tx, account, contacts - before, err);
}

/* The counts from the outcomes (after pass 1, or pass 2). */
static void recount(struct svc_imports *m, struct job *jb, int processed_all)
{
    int64_t n[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < jb->file.n; i++)
        n[jb->out[i].action & 3]++;
    pthread_mutex_lock(&m->mu);
    jb->j.created = n[CC_IMPORT_CREATE];
    jb->j.updated = n[CC_IMPORT_UPDATE];
    jb->j.unchanged = n[CC_IMPORT_UNCHANGED];
    jb->j.refused = n[CC_IMPORT_REFUSE];
    if (processed_all)
        jb->j.processed = (int64_t)jb->file.n;
    pthread_mutex_unlock(&m->mu);
}

static enum cc_err apply_all(struct cc_service *svc, struct job *jb, struct cc_error *err)
{
    struct svc_imports *m = svc->imports;
    /* the rows that need no write are final already */
    int64_t final = 0;
    for (size_t i = 0; i < jb->file.n; i++)
        final += !jb->out[i].apply;
    pthread_mutex_lock(&m->mu);
    jb->j.processed = final;
    pthread_mutex_unlock(&m->mu);
    struct cc_error *refusal = cc_malloc(sizeof *refusal);
    enum cc_err rc = CC_OK;
    if (!jb->j.skip_bad) {
        struct apply_op op = {svc, jb, 0, jb->file.n, final, 1, 0, refusal};
        rc = cc_store_write(svc->store, apply_tx, &op, err);
        if (rc) {
            pthread_mutex_lock(&m->mu);
            jb->j.processed = final;
            pthread_mutex_unlock(&m->mu);
            if (op.refused_row) /* the one row that stopped it, in the report */
                refuse(jb, op.refused_row - 1, refusal);
            for (size_t i = 0; i < jb->file.n; i++) /* nothing was written */
                if (jb->out[i].action == CC_IMPORT_CREATE)
                    jb->out[i].contact_id = 0;
        }
    } else {
        for (size_t from = 0; from < jb->file.n && !rc; from += IMPORT_APPLY_BATCH) {
            size_t to = from + IMPORT_APPLY_BATCH < jb->file.n ? from + IMPORT_APPLY_BATCH
                                                                : jb->file.n;
            int64_t before = jb->j.processed;
            struct apply_op op = {svc, jb, from, to, before, 0, 0, refusal};
            rc = cc_store_write(svc->store, apply_tx, &op, err);
            if (rc == CC_OK) {
                struct cc_error ignored;
                save(svc, jb, &ignored);
            } else {
                pthread_mutex_lock(&m->mu);
                jb->j.processed = before;
                pthread_mutex_unlock(&m->mu);
            }
        }
    }
    cc_free(refusal);
    return rc;
}

/* ---- the report ------------------------------------------------------------------------------ */
struct rows_op {
    int64_t id;
    const struct cc_import_row *rows;
    size_t n;
};

static enum cc_err rows_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct rows_op *op = arg;
    return cc_tx_import_rows_add(tx, op->id, op->rows, op->n, err);
}

static enum cc_err write_report(struct cc_service *svc, struct job *jb, struct cc_error *err)
{
    struct cc_import_row *rows = cc_calloc(IMPORT_REPORT_BATCH, sizeof *rows);
    enum cc_err rc = CC_OK;
    size_t n = 0;
    for (size_t i = 0; i < jb->file.n && !rc; i++) {
        const struct outcome *o = &jb->out[i];
        struct cc_import_row *r = &rows[n++];
        memset(r, 0, sizeof *r);
        r->row = jb->file.rows[i].line;
        r->action = (enum cc_import_action)o->action;
        r->contact_id = o->contact_id;
        if (o->shown) {
            const char *s = o->shown;
            cc_strlcpy(r->name, s, sizeof r->name);
            s += strlen(s) + 1;
            cc_strlcpy(r->email, s, sizeof r->email);
            s += strlen(s) + 1;
            cc_strlcpy(r->mobile, s, sizeof r->mobile);
        } else { /* a refused row's name as the file has it */
            const char *name = cc_csv_cell(&jb->file, i, CC_CSV_NAME);
            cc_strlcpy(r->name, name ? name : "", sizeof r->name);
            cc_utf8_trim(r->name);
        }
        if (o->refusal >= 0) {
            const struct refusal *f = &jb->refusals[o->refusal];
            cc_strlcpy(r->code, f->code, sizeof r->code);
            cc_strlcpy(r->field, f->field, sizeof r->field);
            cc_strlcpy(r->message, f->message, sizeof r->message);
            cc_strlcpy(r->message_zh, f->message_zh, sizeof r->message_zh);
        }
        if (n == IMPORT_REPORT_BATCH || i + 1 == jb->file.n) {
            struct rows_op op = {jb->j.id, rows, n};
            rc = cc_store_write(svc->store, rows_tx, &op, err);
            n = 0;
        }
    }
    cc_free(rows);
    return rc;
}

/* ---- the worker --------------------------------------------------------------------------------- */
static void finish(struct cc_service *svc, struct job *jb, enum cc_import_state state,
                   const struct cc_error *e)
{
    struct svc_imports *m = svc->imports;
    pthread_mutex_lock(&m->mu);
    jb->j.state = state;
    jb->j.finished_at = cc_now_ms();
    if (e) {
        cc_err_code(e->code, e->field, CC_API_REST, jb->j.error_code, sizeof jb->j.error_code);
        cc_strlcpy(jb->j.error_message,
                   cc_err_hides_detail(e->code) ? cc_err_hidden_message() : e->message,
                   sizeof jb->j.error_message);
    }
    pthread_mutex_unlock(&m->mu);
    struct cc_error err;
    if (save(svc, jb, &err))
        cc_log(CC_LOG_ERROR, "cannot record an import's end", "error", err.message, NULL);
}

static void run(struct cc_service *svc, struct job *jb)
{
    struct svc_imports *m = svc->imports;
    struct cc_error err;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)jb->j.id);
    jb->out = cc_calloc(jb->file.n ? jb->file.n : 1, sizeof *jb->out);
    pthread_mutex_lock(&m->mu);
    jb->j.state = CC_IMPORT_RUNNING;
    pthread_mutex_unlock(&m->mu);
    enum cc_err rc = save(svc, jb, &err);
    if (!rc)
        rc = check_all(svc, jb, &err);
    if (rc) {
        cc_log(CC_LOG_WARN, "import failed", "import", id, "error", err.message, NULL);
        finish(svc, jb, CC_IMPORT_FAILED, &err);
        return;
    }
    recount(m, jb, jb->j.dry_run);
    int refused_all = !jb->j.skip_bad && jb->j.refused > 0;
    if (!jb->j.dry_run && !refused_all)
        rc = apply_all(svc, jb, &err);
    struct cc_error fail;
    int failed = rc != CC_OK;
    if (failed) {
        fail = err;
    } else if (refused_all && !jb->j.dry_run) {
        failed = 1;
        cc_error_setn(&fail, CC_ERR_INVALID_PARAMETER, "File", (long)jb->j.refused,
                      "%ld row was refused: nothing was imported (mode=all).",
                      "%ld rows were refused: nothing was imported (mode=all).",
                      (long)jb->j.refused);
    }
    if (!rc)
        recount(m, jb, 1);
    if (failed && !jb->j.dry_run) { /* nothing was written: the counts say so */
        pthread_mutex_lock(&m->mu);
        jb->j.processed = (int64_t)jb->file.n;
        if (!jb->j.skip_bad)
            jb->j.created = jb->j.updated = jb->j.unchanged = 0;
        int64_t refused = 0;
        for (size_t i = 0; i < jb->file.n; i++)
            refused += jb->out[i].action == CC_IMPORT_REFUSE;
        jb->j.refused = refused;
        pthread_mutex_unlock(&m->mu);
    }
    struct cc_error rerr;
    if (write_report(svc, jb, &rerr)) {
        cc_log(CC_LOG_ERROR, "cannot write an import's report", "import", id, "error",
               rerr.message, NULL);
        if (!failed) {
            failed = 1;
            fail = rerr;
        }
    }
    finish(svc, jb, failed ? CC_IMPORT_FAILED : CC_IMPORT_DONE, failed ? &fail : NULL);
    cc_log(CC_LOG_INFO, "import finished", "import", id, "state",
           cc_import_state_name(jb->j.state), NULL);
}

static void *worker(void *arg)
{
    struct cc_service *svc = arg;
    struct svc_imports *m = svc->imports;
    pthread_mutex_lock(&m->mu);
    for (;;) {
        while (!m->head && !m->stopping)
            pthread_cond_wait(&m->cv, &m->mu);
        struct job *jb = m->head;
        if (!jb)
            break; /* stopping, nothing queued */
        m->head = jb->next;
        if (!m->head)
            m->tail = NULL;
        m->live = jb;
        pthread_mutex_unlock(&m->mu);
        if (m->stopping) {
            struct cc_error e;
            cc_error_set(&e, CC_ERR_UNAVAILABLE, NULL, "The server stopped during the import.");
            finish(svc, jb, CC_IMPORT_FAILED, &e);
        } else {
            run(svc, jb);
        }
        pthread_mutex_lock(&m->mu);
        m->live = NULL;
        pthread_mutex_unlock(&m->mu);
        job_free(jb);
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    cc_service_thread_done(svc);
    return NULL;
}

void svc_imports_free(struct cc_service *svc)
{
    struct svc_imports *m = svc->imports;
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    __atomic_store_n(&m->stopping, 1, __ATOMIC_RELAXED);
    int started = m->started;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    if (started)
        pthread_join(m->thread, NULL);
    while (m->head) { /* never started: nothing to record them with but the next start */
        struct job *jb = m->head;
        m->head = jb->next;
        job_free(jb);
    }
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    cc_free(m);
    svc->imports = NULL;
}

/* ---- the use cases ------------------------------------------------------------------------------- */
struct start_op {
    const struct cc_caller *caller;
    struct cc_import *j;
};

static enum cc_err start_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct start_op *op = arg;
    enum cc_err rc = cc_tx_import_insert(tx, op->j, op->j->created_at - IMPORT_KEEP_MS,
                                         &op->j->id, err);
    if (rc || !op->j->trust_verified)
        return rc;
    /* An import that says which addresses are verified skips their verification:
     * who did it is on record. */
    json_t *ch = json_object();
    svc_change_int(ch, "rows", 0, 0, 1, op->j->total);
    svc_change_int(ch, "trust_verified", 0, 0, 1, 1);
    svc_change_int(ch, "dry_run", 0, 0, 1, op->j->dry_run);
    svc_change_str(ch, "mode", SVC_PII_NONE, NULL, op->j->skip_bad ? "skip_bad" : "all");
    return svc_audit(tx, op->caller, CC_AUDIT_CONTACT_IMPORT, op->j->id, ch, err);
}

enum cc_err cc_import_start(struct cc_service *svc, const struct cc_caller *caller,
                            const char *data, size_t len, const struct cc_import_options *o,
                            struct cc_import *out, struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    if (o->trust_verified && (rc = cc_service_require(caller, CC_ROLE_ADMIN, err)))
        return cc_error_set(err, CC_ERR_FORBIDDEN, "TrustVerified",
                            "Only an admin may import addresses as verified "
                            "(trust_verified=true).");
    struct svc_imports *m = svc->imports;
    if (!m)
        return cc_error_set(err, CC_ERR_UNAVAILABLE, NULL, "Imports do not run here.");
    struct job *jb = cc_calloc(1, sizeof *jb);
    size_t max_rows = CC_IMPORT_ROWS_MAX;
    if ((rc = cc_csv_import_parse(data, len, max_rows, &jb->file, err))) {
        job_free(jb);
        return rc;
    }
    jb->caller = *caller;
    struct cc_import *j = &jb->j;
    j->account_id = caller->account_id;
    cc_strlcpy(j->actor, caller->key_id[0] ? caller->key_id : "system", sizeof j->actor);
    j->state = CC_IMPORT_QUEUED;
    j->dry_run = o->dry_run;
    j->skip_bad = o->skip_bad;
    j->trust_verified = o->trust_verified;
    cc_strlcpy(j->encoding, jb->file.encoding, sizeof j->encoding);
    cc_strlcpy(j->ignored_columns, jb->file.ignored, sizeof j->ignored_columns);
    j->total = (int64_t)jb->file.n;
    j->created_at = j->heartbeat_at = cc_now_ms();
    pthread_mutex_lock(&m->mu);
    cc_strlcpy(j->owner, m->owner, sizeof j->owner);
    pthread_mutex_unlock(&m->mu);
    struct start_op op = {caller, j};
    if ((rc = cc_store_write(svc->store, start_tx, &op, err))) {
        job_free(jb);
        return rc;
    }
    *out = *j;
    pthread_mutex_lock(&m->mu);
    if (m->stopping) {
        pthread_mutex_unlock(&m->mu);
        job_free(jb);
        return cc_error_set(err, CC_ERR_UNAVAILABLE, NULL, "The server is stopping.");
    }
    if (!m->started) {
        if (pthread_create(&m->thread, NULL, worker, svc) != 0) {
            pthread_mutex_unlock(&m->mu);
            job_free(jb);
            return cc_error_set(err, CC_ERR_INTERNAL, NULL, "cannot start the import worker");
        }
        m->started = 1;
    }
    if (m->tail)
        m->tail->next = jb;
    else
        m->head = jb;
    m->tail = jb;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    return CC_OK;
}

struct get_op {
    int64_t account_id, id;
    struct cc_import *out;
};

static enum cc_err get_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct get_op *op = arg;
    return cc_tx_import_get(tx, op->account_id, op->id, op->out, err);
}

enum cc_err cc_import_get(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                          struct cc_import *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    struct get_op op = {caller->account_id, id, out};
    if ((rc = cc_store_read(svc->store, get_tx, &op, err)))
        return rc;
    /* The job running here: its progress as counted now (a mode=all write
     * cannot write it down until it commits). */
    struct svc_imports *m = svc->imports;
    if (m) {
        pthread_mutex_lock(&m->mu);
        if (m->live && m->live->j.id == id && out->state != CC_IMPORT_DONE &&
            out->state != CC_IMPORT_FAILED) {
            /* the state as recorded: a job is done once its report is written */
            const struct cc_import *l = &m->live->j;
            out->checked = l->checked;
            out->processed = l->processed;
            out->created = l->created;
            out->updated = l->updated;
            out->unchanged = l->unchanged;
            out->refused = l->refused;
        }
        pthread_mutex_unlock(&m->mu);
    }
    return CC_OK;
}

struct rows_list_op {
    int64_t account_id, id;
    int action;
    int64_t offset;
    size_t limit;
    struct cc_import_row *rows;
    size_t n;
    int64_t total;
};

static enum cc_err rows_list_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct rows_list_op *op = arg;
    struct cc_import j;
    enum cc_err rc = cc_tx_import_get(tx, op->account_id, op->id, &j, err);
    if (rc)
        return rc;
    return cc_tx_import_rows_list(tx, op->id, op->action, op->offset, op->limit, op->rows,
                                  &op->n, &op->total, err);
}

enum cc_err cc_import_rows(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                           int action, int64_t offset, int64_t limit,
                           struct cc_import_row **rows, size_t *n, int64_t *total,
                           struct cc_error *err)
{
    *rows = NULL;
    *n = 0;
    *total = 0;
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    if (offset < 0)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Offset",
                            "offset must be 0 or more.");
    if (limit < 1 || limit > CC_IMPORT_ROWS_PAGE_MAX)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Limit",
                            "limit must be from 1 to %d.", CC_IMPORT_ROWS_PAGE_MAX);
    struct rows_list_op op = {caller->account_id, id, action, offset, (size_t)limit, NULL, 0, 0};
    op.rows = cc_calloc((size_t)limit, sizeof *op.rows);
    if ((rc = cc_store_read(svc->store, rows_list_tx, &op, err))) {
        cc_free(op.rows);
        return rc;
    }
    *rows = op.rows;
    *n = op.n;
    *total = op.total;
    return CC_OK;
}

struct stale_op {
    int64_t before;
    const char *owner;
    int64_t n;
};

static enum cc_err stale_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct stale_op *op = arg;
    return cc_tx_import_fail_stale(tx, op->before, op->owner, cc_now_ms(), "ServiceUnavailable",
                                   "The server stopped during the import; nothing of a "
                                   "mode=all import was kept.",
                                   &op->n, err);
}

enum cc_err cc_imports_recover(struct cc_service *svc, const char *instance,
                               struct cc_error *err)
{
    struct svc_imports *m = svc->imports;
    if (m && instance) {
        pthread_mutex_lock(&m->mu);
        cc_strlcpy(m->owner, instance, sizeof m->owner);
        pthread_mutex_unlock(&m->mu);
    }
    /* One process per SQLite file: whatever it left unfinished is dead. A shared
     * database's other instances may be running theirs: this instance's own, and
     * those whose heartbeat is old. */
    struct stale_op op = {cc_service_shared(svc) ? cc_now_ms() - IMPORT_STALE_MS : INT64_MAX,
                          instance && instance[0] ? instance : "\x01", 0};
    enum cc_err rc = cc_store_write(svc->store, stale_tx, &op, err);
    if (!rc && op.n) {
        char n[24];
        snprintf(n, sizeof n, "%lld", (long long)op.n);
        cc_log(CC_LOG_WARN, "imports left unfinished marked failed", "imports", n, NULL);
    }
    return rc;
}
