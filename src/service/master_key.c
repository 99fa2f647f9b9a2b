/*
 * master_key.c — the master key that seals secrets and ID numbers at rest:
 * its file, the ring of keys a process knows, sealing and opening, and the
 * key's rotation (`certcontacts key rotate-master`).
 *
 * Every sealed value names the key that sealed it (core.h, cc_aead_seal).
 * The database records its key's id (meta master_key_id) and, during a
 * rotation, the new key's (master_key_next_id) and afterwards the old one's
 * until the files are settled (master_key_prev_id). The key files are
 * MASTER (master_key_file), MASTER.new (the new key, written before the
 * database names it) and MASTER.old (the old key, kept until the rotation
 * has finished). A process finds each key it needs among those three files
 * by its id, so a rotation killed at any point loses nothing: the database
 * names the keys, and the files hold them.
 *
 * A running server seals with the new key as soon as the database names
 * one, and opens a value under whichever key it names, reading the key
 * files again when it meets a key it does not hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/limits.h"
#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

#define KEYS_MAX SVC_KEYS_MAX
#define META_ID "master_key_id"
#define META_NEXT "master_key_next_id"
#define META_PREV "master_key_prev_id"

struct svc_key {
    uint8_t key[CC_KEY_LEN];
    uint8_t fp[16];
    char id[33];
};

struct svc_keyring {
    pthread_mutex_t mu;
    char path[1280];            /* the master key file; "" when there is none (tests) */
    struct svc_key k[KEYS_MAX];
    int n;
    int seal;                   /* the key values are sealed with */
    int evict;                  /* the next slot to reuse when the ring is full */
};

static void key_fill(struct svc_key *k, const uint8_t key[CC_KEY_LEN])
{
    if (k->key != key)
        memmove(k->key, key, CC_KEY_LEN);
    cc_key_fingerprint(key, k->fp);
    cc_hex(k->fp, sizeof k->fp, k->id);
}

/* ---- key files ---------------------------------------------------------------- */

/* Parses 64 hex characters (and an optional newline) into key. */
static int parse_key(const char *data, size_t len, uint8_t key[CC_KEY_LEN])
{
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len != 2 * CC_KEY_LEN)
        return -1;
    for (size_t i = 0; i < CC_KEY_LEN; i++) {
        int v = 0;
        for (int h = 0; h < 2; h++) {
            char c = data[2 * i + (size_t)h];
            int d = c >= '0' && c <= '9' ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
                return -1;
            v = v * 16 + d;
        }
        key[i] = (uint8_t)v;
    }
    return 0;
}

/* Reads the key file at path into key: 0; -1 with errno ENOENT when there
 * is none, EINVAL when it does not hold a key. */
static int read_key_file(const char *path, uint8_t key[CC_KEY_LEN])
{
    char *data = NULL;
    size_t len = 0;
    if (cc_file_read(path, 1024, &data, &len) != 0)
        return -1;
    int rc = parse_key(data, len, key);
    OPENSSL_cleanse(data, len);
    cc_free(data);
    if (rc)
        errno = EINVAL;
    return rc;
}

/* Writes key to path atomically with mode 0600, and makes the directory
 * entry durable. */
static int write_key_file(const char *path, const uint8_t key[CC_KEY_LEN])
{
    char hex[2 * CC_KEY_LEN + 2];
    cc_hex(key, CC_KEY_LEN, hex);
    hex[2 * CC_KEY_LEN] = '\n';
    hex[2 * CC_KEY_LEN + 1] = '\0';
    int rc = cc_file_write_atomic(path, hex, 2 * CC_KEY_LEN + 1, 0600);
    OPENSSL_cleanse(hex, sizeof hex);
    return rc ? rc : cc_fsync_parent(path);
}

/* path with suffix ("", ".new", ".old") into out. */
static void key_path(const char *path, const char *suffix, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s%s", path, suffix);
}

static const char *const suffixes[] = {"", ".new", ".old"};

/* Finds the key whose id is id among path's key files into key: 0, or -1
 * when none holds it (*any: whether any of them exists). */
static int find_key(const char *path, const char *id, uint8_t key[CC_KEY_LEN], int *any)
{
    *any = 0;
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        char p[1300];
        struct svc_key k;
        key_path(path, suffixes[i], p, sizeof p);
        if (read_key_file(p, k.key) != 0) {
            *any |= errno != ENOENT;
            continue;
        }
        *any = 1;
        key_fill(&k, k.key);
        int match = strcmp(k.id, id) == 0;
        if (match)
            memcpy(key, k.key, CC_KEY_LEN);
        OPENSSL_cleanse(&k, sizeof k);
        if (match)
            return 0;
    }
    return -1;
}

static enum cc_err missing_key(const char *path, const char *recorded, struct cc_error *err)
{
    return cc_error_set(err, CC_ERR_CONFIG, NULL,
                        "master key file %s is missing, but the database holds data sealed with "
                        "master key %.32s: restore that file from your backup (or set "
                        "master_key_file); a new key could not read that data",
                        path, recorded);
}

enum cc_err cc_service_open_key(struct cc_store *store, const char *path,
                                uint8_t key[CC_KEY_LEN], struct cc_error *err)
{
    char recorded[80];
    enum cc_err rc = cc_store_meta_get(store, META_ID, recorded, sizeof recorded, err);
    if (rc && rc != CC_ERR_NOT_FOUND)
        return rc;
    int has_key = rc == CC_OK, any = 0;
    if (has_key && strcmp(recorded, "unknown") != 0) {
        if (find_key(path, recorded, key, &any) == 0)
            return CC_OK;
        struct stat st;
        if (!any && stat(path, &st) != 0 && errno == ENOENT)
            return missing_key(path, recorded, err);
        struct svc_key k;
        if (read_key_file(path, k.key) != 0)
            return cc_error_set(err, CC_ERR_CONFIG, NULL, "cannot read master key file %s: %s",
                                path, errno == EINVAL ? "it must hold 64 hex characters"
                                                      : strerror(errno));
        key_fill(&k, k.key);
        rc = cc_error_set(err, CC_ERR_CONFIG, NULL,
                          "master key file %s holds key %s, but the database's data is sealed "
                          "with key %.32s: restore the right key file from your backup (or "
                          "set master_key_file)",
                          path, k.id, recorded);
        OPENSSL_cleanse(&k, sizeof k);
        return rc;
    }
    if (read_key_file(path, key) != 0) {
        if (errno == EINVAL)
            return cc_error_set(err, CC_ERR_CONFIG, NULL,
                                "master key file %s must hold 64 hex characters", path);
        if (errno == ENOENT && has_key)
            return missing_key(path, recorded, err);
        if (errno != ENOENT)
            return cc_error_set(err, CC_ERR_CONFIG, NULL, "cannot read master key file %s: %s",
                                path, strerror(errno));
        /* A database that never had a key: make one. */
        cc_random_bytes(key, CC_KEY_LEN);
        if (write_key_file(path, key))
            return cc_error_set(err, CC_ERR_IO, NULL, "cannot write master key file %s: %s",
                                path, strerror(errno));
        cc_log(CC_LOG_INFO, "created master key file", "path", path, NULL);
    }
    struct svc_key k;
    key_fill(&k, key);
    rc = cc_store_meta_set(store, META_ID, k.id, err);
    OPENSSL_cleanse(&k, sizeof k);
    return rc;
}

/* ---- the ring of keys a process knows ------------------------------------------ */

struct svc_keyring *svc_keyring_new(const uint8_t key[CC_KEY_LEN])
{
    struct svc_keyring *r = cc_calloc(1, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    key_fill(&r->k[0], key);
    r->n = 1;
    r->evict = 1;
    return r;
}

void svc_keyring_free(struct svc_keyring *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->mu);
    OPENSSL_cleanse(r, sizeof *r);
    cc_free(r);
}

void cc_service_set_key_file(struct cc_service *svc, const char *path)
{
    pthread_mutex_lock(&svc->keys->mu);
    cc_strlcpy(svc->keys->path, path, sizeof svc->keys->path);
    pthread_mutex_unlock(&svc->keys->mu);
}

/* The slot of the key with this id, tag (CC_KEY_TAG_LEN bytes) or key; -1
 * when the ring lacks it. Under r->mu. */
static int ring_find_id(const struct svc_keyring *r, const char *id)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->k[i].id, id) == 0)
            return i;
    return -1;
}

static int ring_find_tag(const struct svc_keyring *r, const uint8_t *tag)
{
    for (int i = 0; i < r->n; i++)
        if (memcmp(r->k[i].fp, tag, CC_KEY_TAG_LEN) == 0)
            return i;
    return -1;
}

/* Adds key (when new) and returns its slot; a full ring forgets its oldest
 * key other than the sealing one. Under r->mu. */
static int ring_add(struct svc_keyring *r, const uint8_t key[CC_KEY_LEN])
{
    struct svc_key k;
    key_fill(&k, key);
    int i = ring_find_id(r, k.id);
    if (i < 0) {
        if (r->n < KEYS_MAX) {
            i = r->n++;
        } else {
            if (r->evict == r->seal)
                r->evict = (r->evict + 1) % KEYS_MAX;
            i = r->evict;
            r->evict = (r->evict + 1) % KEYS_MAX;
        }
        r->k[i] = k;
    }
    OPENSSL_cleanse(&k, sizeof k);
    return i;
}

/* Reads every key file into the ring. Under r->mu. */
static void ring_scan(struct svc_keyring *r)
{
    if (!r->path[0])
        return;
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        char p[1300];
        uint8_t key[CC_KEY_LEN];
        key_path(r->path, suffixes[i], p, sizeof p);
        if (read_key_file(p, key) == 0)
            ring_add(r, key);
        OPENSSL_cleanse(key, sizeof key);
    }
}

/* Points the ring's sealing key at the one the database says values are
 * sealed with now: the rotation's new key while one runs, else the
 * database's key. Keeps the current one when the database names none (a
 * test's database) or its file cannot be found. */
static void ring_follow_database(const struct cc_service *svc)
{
    struct svc_keyring *r = svc->keys;
    struct cc_error err;
    char id[80];
    if (!svc->store)
        return;
    if (cc_store_meta_get(svc->store, META_NEXT, id, sizeof id, &err) != CC_OK &&
        cc_store_meta_get(svc->store, META_ID, id, sizeof id, &err) != CC_OK)
        return;
    if (strlen(id) != 32)
        return; /* "unknown": the start records the id */
    pthread_mutex_lock(&r->mu);
    int i = ring_find_id(r, id);
    if (i < 0) {
        ring_scan(r);
        i = ring_find_id(r, id);
    }
    if (i >= 0)
        r->seal = i;
    pthread_mutex_unlock(&r->mu);
}

void svc_sealing_key(const struct cc_service *svc, uint8_t key[CC_KEY_LEN],
                     uint8_t fp[CC_KEY_TAG_LEN])
{
    ring_follow_database(svc);
    pthread_mutex_lock(&svc->keys->mu);
    memcpy(key, svc->keys->k[svc->keys->seal].key, CC_KEY_LEN);
    memcpy(fp, svc->keys->k[svc->keys->seal].fp, CC_KEY_TAG_LEN);
    pthread_mutex_unlock(&svc->keys->mu);
}

enum cc_err svc_seal_under(const uint8_t key[CC_KEY_LEN], const uint8_t fp[CC_KEY_TAG_LEN],
                           const char *aad, const char *pt, uint8_t *out, size_t outsz,
                           size_t *outlen, struct cc_error *err)
{
    uint8_t nonce[12];
    cc_random_bytes(nonce, sizeof nonce);
    if (cc_aead_seal(key, fp, nonce, aad, pt, strlen(pt), out, outsz, outlen))
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "encryption failed");
    return CC_OK;
}

enum cc_err svc_seal(const struct cc_service *svc, const char *aad, const char *pt,
                     uint8_t *out, size_t outsz, size_t *outlen, struct cc_error *err)
{
    uint8_t key[CC_KEY_LEN], fp[CC_KEY_TAG_LEN];
    svc_sealing_key(svc, key, fp);
    enum cc_err rc = svc_seal_under(key, fp, aad, pt, out, outsz, outlen, err);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

/* Opens in with the key it names (reading the key files when the ring
 * lacks it), or, for a value from before values named their key, with each
 * key the ring holds. 0 or -1. */
static int ring_open(struct svc_keyring *r, const char *aad, const uint8_t *in, size_t inlen,
                     char *out, size_t outsz)
{
    struct svc_key keys[KEYS_MAX];
    int n = 0;
    const uint8_t *tag;
    pthread_mutex_lock(&r->mu);
    if (cc_aead_key_tag(in, inlen, &tag)) {
        int i = ring_find_tag(r, tag);
        if (i < 0) {
            ring_scan(r);
            i = ring_find_tag(r, tag);
        }
        if (i >= 0)
            keys[n++] = r->k[i];
    } else {
        for (int i = 0; i < r->n; i++)
            keys[n++] = r->k[i];
    }
    pthread_mutex_unlock(&r->mu);
    int rc = -1;
    for (int i = 0; i < n && rc; i++)
        rc = cc_aead_open(keys[i].key, aad, in, inlen, out, outsz, NULL) == CC_OK ? 0 : -1;
    OPENSSL_cleanse(keys, sizeof keys);
    return rc;
}

enum cc_err svc_open(const struct cc_service *svc, const char *aad, const uint8_t *in,
                     size_t inlen, char *out, size_t outsz, struct cc_error *err)
{
    if (ring_open(svc->keys, aad, in, inlen, out, outsz))
        return cc_error_set(err, CC_ERR_INTERNAL, NULL,
                            "decryption failed: is this the master key the data was written with?");
    return CC_OK;
}

int svc_hmac_keys(const struct cc_service *svc, uint8_t keys[][CC_KEY_LEN], int max)
{
    /* No database read here: codes are hashed inside write transactions.
     * The sealing key follows the database at the next seal. */
    struct svc_keyring *r = svc->keys;
    pthread_mutex_lock(&r->mu);
    int n = 0;
    if (max > 0)
        memcpy(keys[n++], r->k[r->seal].key, CC_KEY_LEN);
    for (int i = 0; i < r->n && n < max; i++)
        if (i != r->seal)
            memcpy(keys[n++], r->k[i].key, CC_KEY_LEN);
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* ---- rotation --------------------------------------------------------------------- */

/* What each sealed column holds: its associated data and its name in
 * messages. A new sealed column adds its line here (and in store/sealed.h). */
static const struct {
    const char *aad;
    const char *what;
} sealed_columns[CC_SEALED_COLUMNS] = {
    [CC_SEALED_ACCESS_KEY_SECRET] = {CC_AAD_ACCESS_KEY, "access key secret"},
    [CC_SEALED_ID_CARD] = {CC_AAD_ID_CARD, "contact ID number"},
    [CC_SEALED_WEBHOOK_SECRET] = {CC_AAD_WEBHOOK, "robot signing secret"},
    [CC_SEALED_CERT_KEY] = {CC_AAD_CERT_KEY, "certificate private key"},
    [CC_SEALED_WEBHOOK_URL] = {CC_AAD_WEBHOOK_URL, "robot webhook URL"},
    [CC_SEALED_ACME_ACCOUNT_KEY] = {CC_AAD_ACME_ACCOUNT_KEY, "ACME account key"},
    [CC_SEALED_ACME_ORDER_KEY] = {CC_AAD_ACME_ORDER_KEY, "ACME order private key"},
};

struct reseal_op {
    const struct cc_service *svc;
    enum cc_sealed_column col;
    const struct svc_key *to;   /* the new key */
    size_t max;
    size_t done;                /* out: values re-sealed */
};

/* One batch of col's values not sealed under the new key, opened with the
 * key each names and sealed again under the new one, in one transaction. */
static enum cc_err reseal_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct reseal_op *op = arg;
    uint8_t prefix[1 + CC_KEY_TAG_LEN] = {2};
    memcpy(prefix + 1, op->to->fp, CC_KEY_TAG_LEN);
    struct cc_sealed_value *v = NULL;
    size_t n = 0;
    op->done = 0;
    enum cc_err rc = cc_tx_sealed_batch(tx, op->col, prefix, sizeof prefix, op->max, &v, &n, err);
    for (size_t i = 0; i < n && !rc; i++) {
        size_t cap = v[i].len + CC_AEAD_OVERHEAD + 1, len = 0;
        char *pt = cc_malloc(cap);
        uint8_t *ct = cc_malloc(cap);
        if (ring_open(op->svc->keys, sealed_columns[op->col].aad, v[i].blob, v[i].len, pt, cap))
            rc = cc_error_set(err, CC_ERR_INTERNAL, NULL,
                              "the %s of row %s opens with no key the key files hold: restore "
                              "the key it was sealed with (MASTER, MASTER.new or MASTER.old "
                              "from a backup) and run key rotate-master again; nothing was "
                              "lost",
                              sealed_columns[op->col].what, v[i].row_key);
        else if (!(rc = svc_seal_under(op->to->key, op->to->fp, sealed_columns[op->col].aad, pt,
                                       ct, cap, &len, err)))
            rc = cc_tx_sealed_replace(tx, op->col, &v[i], ct, len, err);
        /* A robot URL's keyed hash goes with its sealed value: both under the
         * new key, in the same transaction. */
        if (!rc && op->col == CC_SEALED_WEBHOOK_URL) {
            char tag[CC_URL_TAG_LEN + 1];
            svc_url_tag(op->to->key, pt, tag);
            rc = cc_tx_sealed_url_tag(tx, &v[i], ct, len, tag, err);
        }
        OPENSSL_cleanse(pt, cap);
        OPENSSL_cleanse(ct, cap);
        cc_free(pt);
        cc_free(ct);
    }
    cc_sealed_values_free(v, n);
    if (!rc)
        op->done = n;
    return rc;
}

/* Re-seals every value not under the new key, batch by batch. A drill
 * (r->stop_after) kills the process once that many values are committed,
 * as kill -9 would. */
static enum cc_err reseal_all(struct cc_service *svc, const struct svc_key *to,
                              struct cc_rotation *r, struct cc_error *err)
{
    for (int col = 0; col < CC_SEALED_COLUMNS; col++) {
        for (;;) {
            struct reseal_op op = {svc, (enum cc_sealed_column)col, to, r->batch, 0};
            if (r->stop_after > 0 && r->resealed + (int64_t)op.max > r->stop_after)
                op.max = (size_t)(r->stop_after - r->resealed);
            enum cc_err rc = cc_store_write(svc->store, reseal_tx, &op, err);
            if (rc)
                return rc;
            r->resealed += (int64_t)op.done;
            if (r->stop_after > 0 && r->resealed >= r->stop_after) {
                fflush(stdout);
                raise(SIGKILL);
            }
            if (op.done == 0)
                break;
        }
    }
    return CC_OK;
}

struct switch_op {
    const char *old_id, *new_id;
    const uint8_t *new_fp;
    int64_t left;                /* out: values still under another key */
};

/* The switch to the new key, when no value is left under another: the
 * database's key becomes the new one and the old one is remembered until
 * the files are settled; checked and made in one transaction, so no value
 * sealed under the old key is committed in between. */
static enum cc_err switch_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct switch_op *op = arg;
    uint8_t prefix[1 + CC_KEY_TAG_LEN] = {2};
    memcpy(prefix + 1, op->new_fp, CC_KEY_TAG_LEN);
    op->left = 0;
    for (int col = 0; col < CC_SEALED_COLUMNS; col++) {
        int64_t n = 0;
        enum cc_err rc = cc_tx_sealed_count(tx, (enum cc_sealed_column)col, prefix,
                                            sizeof prefix, &n, err);
        if (rc)
            return rc;
        op->left += n;
    }
    if (op->left)
        return CC_OK;
    /* A sealed column this rotation does not know (its values would be lost
     * with the old key): stop before the switch, with both keys kept. */
    char where[260];
    int64_t unknown = 0;
    enum cc_err rc = cc_tx_sealed_unknown(tx, prefix, sizeof prefix, where, sizeof where,
                                          &unknown, err);
    if (rc)
        return rc;
    if (unknown)
        return cc_error_setn(err, CC_ERR_INTERNAL, NULL, (long)unknown,
                             "%s holds %lld value sealed under another key that this "
                             "rotation does not re-seal (a sealed column it does not know); "
                             "both keys are kept and nothing is lost: upgrade certcontacts and "
                             "run key rotate-master again",
                             "%s holds %lld values sealed under another key that this "
                             "rotation does not re-seal (a sealed column it does not know); "
                             "both keys are kept and nothing is lost: upgrade certcontacts and "
                             "run key rotate-master again",
                             where, (long long)unknown);
    rc = cc_tx_setting_put(tx, META_ID, op->new_id, err);
    if (!rc)
        rc = cc_tx_setting_put(tx, META_PREV, op->old_id, err);
    if (!rc)
        rc = cc_tx_setting_put(tx, META_NEXT, NULL, err);
    return rc;
}

struct setting_op {
    const char *name, *value;
};

static enum cc_err setting_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct setting_op *op = arg;
    return cc_tx_setting_put(tx, op->name, op->value, err);
}

/* The key with id into *out, reading the key files when the ring lacks
 * it: 0, or -1 when no file holds it. */
static int ring_key(struct svc_keyring *r, const char *id, struct svc_key *out)
{
    pthread_mutex_lock(&r->mu);
    int i = ring_find_id(r, id);
    if (i < 0) {
        ring_scan(r);
        i = ring_find_id(r, id);
    }
    if (i >= 0)
        *out = r->k[i];
    pthread_mutex_unlock(&r->mu);
    return i < 0 ? -1 : 0;
}

/* The start of a rotation: the new key in MASTER.new (a run killed before
 * the database named it left it there: it is taken again), then named in
 * the database as the key values are sealed with from now on. */
static enum cc_err start_rotation(struct cc_service *svc, const char *cur, struct svc_key *to,
                                  struct cc_error *err)
{
    struct svc_keyring *r = svc->keys;
    char p[1300];
    uint8_t key[CC_KEY_LEN];
    key_path(r->path, ".new", p, sizeof p);
    if (read_key_file(p, key) != 0) {
        if (errno != ENOENT)
            return cc_error_set(err, CC_ERR_CONFIG, NULL,
                                "cannot read %s: %s; move it aside and run key rotate-master "
                                "again", p, errno == EINVAL ? "it does not hold a key"
                                                           : strerror(errno));
        cc_random_bytes(key, sizeof key);
        if (write_key_file(p, key)) {
            OPENSSL_cleanse(key, sizeof key);
            return cc_error_set(err, CC_ERR_IO, NULL, "cannot write %s: %s", p, strerror(errno));
        }
    }
    key_fill(to, key);
    OPENSSL_cleanse(key, sizeof key);
    if (strcmp(to->id, cur) == 0)
        return cc_error_set(err, CC_ERR_CONFIG, NULL,
                            "%s holds the database's current key; remove it and run key "
                            "rotate-master again", p);
    pthread_mutex_lock(&r->mu);
    ring_add(r, to->key);
    pthread_mutex_unlock(&r->mu);
    struct setting_op op = {META_NEXT, to->id};
    return cc_store_write(svc->store, setting_tx, &op, err);
}

/* The end of a rotation: MASTER holds the new key, MASTER.old the old one
 * until the database forgets it, then MASTER.old is removed. Each step
 * checks what is already done, so a killed run is finished by the next. */
static enum cc_err settle_files(struct cc_service *svc, const struct svc_key *to,
                                struct cc_error *err)
{
    const char *path = svc->keys->path;
    char pnew[1300], pold[1300];
    uint8_t key[CC_KEY_LEN];
    key_path(path, ".new", pnew, sizeof pnew);
    key_path(path, ".old", pold, sizeof pold);
    struct svc_key k;
    memset(&k, 0, sizeof k);
    if (read_key_file(path, key) == 0)
        key_fill(&k, key);
    int in_place = strcmp(k.id, to->id) == 0;
    OPENSSL_cleanse(&k, sizeof k);
    OPENSSL_cleanse(key, sizeof key);
    if (!in_place) {
        /* MASTER (the old key) stays reachable as MASTER.old, and MASTER is
         * replaced in one rename: there is always a MASTER. */
        if (access(path, F_OK) == 0 && access(pold, F_OK) != 0 && link(path, pold) != 0)
            return cc_error_set(err, CC_ERR_IO, NULL, "cannot keep the old key as %s: %s",
                                pold, strerror(errno));
        if (rename(pnew, path) != 0 || cc_fsync_parent(path) != 0)
            return cc_error_set(err, CC_ERR_IO, NULL, "cannot move %s to %s: %s", pnew, path,
                                strerror(errno));
    }
    struct setting_op op = {META_PREV, NULL};
    enum cc_err rc = cc_store_write(svc->store, setting_tx, &op, err);
    if (rc)
        return rc;
    if ((unlink(pold) != 0 && errno != ENOENT) || cc_fsync_parent(path) != 0)
        return cc_error_set(err, CC_ERR_IO, NULL, "cannot remove the old key %s: %s", pold,
                            strerror(errno));
    return CC_OK;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static enum cc_err rotate(struct cc_service *svc, struct cc_rotation *rot, struct cc_error *err);

enum cc_err cc_master_key_rotate(struct cc_service *svc, struct cc_rotation *rot,
                                 struct cc_error *err)
{
    struct svc_keyring *r = svc->keys;
    rot->resealed = 0;
    rot->resumed = 0;
    if (rot->batch == 0)
        rot->batch = CC_ROTATE_BATCH;
    if (!r->path[0])
        return cc_error_set(err, CC_ERR_CONFIG, NULL, "no master key file");
    /* One rotation at a time; servers need no lock. */
    char lockp[1300];
    long holder = 0;
    key_path(r->path, ".lock", lockp, sizeof lockp);
    int lock = cc_file_lock(lockp, &holder);
    if (lock < 0)
        return errno == EWOULDBLOCK
                   ? cc_error_set(err, CC_ERR_UNAVAILABLE, NULL,
                                  "another key rotate-master (pid %ld) is running", holder)
                   : cc_error_set(err, CC_ERR_IO, NULL, "cannot lock %s: %s", lockp,
                                  strerror(errno));
    enum cc_err rc = rotate(svc, rot, err);
    close(lock);
    return rc;
}

/* The rotation itself, under its lock. */
static enum cc_err rotate(struct cc_service *svc, struct cc_rotation *rot, struct cc_error *err)
{
    struct svc_keyring *r = svc->keys;
    char cur[80], next[80], prev[80];
    struct svc_key to;
    enum cc_err rc;
    if ((rc = cc_store_meta_get(svc->store, META_ID, cur, sizeof cur, err)))
        return rc;
    int has_next = cc_store_meta_get(svc->store, META_NEXT, next, sizeof next, err) == CC_OK;
    int has_prev = cc_store_meta_get(svc->store, META_PREV, prev, sizeof prev, err) == CC_OK;
    memset(&to, 0, sizeof to);
    if (has_next) {
        /* A rotation killed half-way: go on with its key. */
        rot->resumed = 1;
        if (ring_key(r, next, &to))
            return cc_error_set(err, CC_ERR_CONFIG, NULL,
                                "a rotation to master key %.32s was started, but no key file "
                                "holds that key (%s.new): restore it from your backup",
                                next, r->path);
        cc_strlcpy(rot->old_id, cur, sizeof rot->old_id);
    } else if (has_prev) {
        /* Killed after the switch: only the files are left to settle. */
        rot->resumed = 1;
        if (ring_key(r, cur, &to))
            return cc_error_set(err, CC_ERR_CONFIG, NULL, "no key file holds key %.32s", cur);
        cc_strlcpy(rot->old_id, prev, sizeof rot->old_id);
    } else {
        cc_strlcpy(rot->old_id, cur, sizeof rot->old_id);
        if ((rc = start_rotation(svc, cur, &to, err)))
            goto out;
    }
    cc_strlcpy(rot->new_id, to.id, sizeof rot->new_id);
    if (!has_prev) {
        struct switch_op sw = {cur, to.id, to.fp, 1};
        for (int pass = 0; sw.left && pass < CC_ROTATE_PASSES; pass++) {
            if ((rc = reseal_all(svc, &to, rot, err)) ||
                (rc = cc_store_write(svc->store, switch_tx, &sw, err)))
                goto out;
        }
        if (sw.left) {
            rc = cc_error_set(err, CC_ERR_UNAVAILABLE, NULL,
                              "values sealed under the old key keep being written; run key "
                              "rotate-master again");
            goto out;
        }
    }
    /* A server that sealed a value just before the switch may commit it just
     * after: wait that out, then sweep once more while the old key is still
     * at hand. */
    sleep_ms(rot->settle_ms);
    if ((rc = reseal_all(svc, &to, rot, err)))
        goto out;
    rc = settle_files(svc, &to, err);
out:
    OPENSSL_cleanse(&to, sizeof to);
    return rc;
}

/* ---- verifying that every sealed value opens (`certcontacts check`, restore) ---- */

/* Each sealed column's table, the column naming its row, and its own name,
 * by enum cc_sealed_column (store/sealed.h), for the report. */
static const char *const sealed_names[CC_SEALED_COLUMNS][3] = {
    [CC_SEALED_ACCESS_KEY_SECRET] = {"access_keys", "id", "secret_enc"},
    [CC_SEALED_ID_CARD] = {"contacts", "id", "id_card_enc"},
    [CC_SEALED_WEBHOOK_SECRET] = {"contact_webhooks", "id", "secret_enc"},
    [CC_SEALED_CERT_KEY] = {"certificates", "id", "private_key_enc"},
    [CC_SEALED_WEBHOOK_URL] = {"contact_webhook_urls", "webhook_id", "url_enc"},
    [CC_SEALED_ACME_ACCOUNT_KEY] = {"acme_accounts", "id", "key_enc"},
    [CC_SEALED_ACME_ORDER_KEY] = {"acme_orders", "application_id", "key_enc"},
};

struct verify_op {
    struct svc_keyring *ring;
    const struct cc_sealed_report *rep;
    int64_t checked, failed; /* out */
};

#define VERIFY_PAGE 500

/* Opens each of the n values v of col, reporting those that do not open. */
static void verify_values(struct verify_op *op, enum cc_sealed_column col,
                          const struct cc_sealed_value *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t cap = v[i].len + CC_AEAD_OVERHEAD + 1;
        char *pt = cc_malloc(cap);
        op->checked++;
        if (ring_open(op->ring, sealed_columns[col].aad, v[i].blob, v[i].len, pt, cap)) {
            op->failed++;
            if (op->rep && op->rep->bad)
                op->rep->bad(op->rep->arg, sealed_names[col][0], sealed_names[col][1],
                             v[i].row_key, sealed_names[col][2], sealed_columns[col].what);
        }
        OPENSSL_cleanse(pt, cap);
        cc_free(pt);
    }
}

/* Every value of col, page by page in row-key order (bounded memory). */
static enum cc_err verify_column(struct cc_tx *tx, struct verify_op *op, enum cc_sealed_column col,
                                 struct cc_error *err)
{
    char after[sizeof ((struct cc_sealed_value *)0)->row_key];
    int first = 1;
    for (;;) {
        struct cc_sealed_value *v = NULL;
        size_t n = 0;
        enum cc_err rc = cc_tx_sealed_page(tx, col, first ? NULL : after, VERIFY_PAGE, &v, &n,
                                           err);
        if (rc)
            return rc;
        verify_values(op, col, v, n);
        if (n)
            cc_strlcpy(after, v[n - 1].row_key, sizeof after);
        cc_sealed_values_free(v, n);
        if (n < VERIFY_PAGE)
            return CC_OK;
        first = 0;
    }
}

static enum cc_err verify_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct verify_op *op = arg;
    op->checked = op->failed = 0;
    for (int col = 0; col < CC_SEALED_COLUMNS; col++) {
        enum cc_err rc = verify_column(tx, op, (enum cc_sealed_column)col, err);
        if (rc)
            return rc;
    }
    return CC_OK;
}

enum cc_err cc_service_verify_sealed(struct cc_store *store, const char *key_path,
                                     const struct cc_sealed_report *rep, int64_t *checked,
                                     int64_t *failed, struct cc_error *err)
{
    struct svc_keyring *r = cc_calloc(1, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    cc_strlcpy(r->path, key_path, sizeof r->path);
    pthread_mutex_lock(&r->mu);
    ring_scan(r);
    pthread_mutex_unlock(&r->mu);
    struct verify_op op = {r, rep, 0, 0};
    enum cc_err rc = cc_store_read(store, verify_tx, &op, err);
    svc_keyring_free(r);
    *checked = op.checked;
    *failed = op.failed;
    return rc;
}
