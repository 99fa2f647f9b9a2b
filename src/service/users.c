/*
 * users.c — console users: argon2id passwords, sign-in with a slow-down per
 * email and lock-outs per (email, source address) and per address, sessions (an opaque random token in a cookie, only its
 * SHA-256 stored, with idle and absolute expiry and a CSRF token), the
 * admin's user management.
 */
#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <pwquality.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

/* argon2id: 2 passes over 19 MiB, one lane (OWASP's minimum). */
#define ARGON_T      2
#define ARGON_M_KIB  19456
#define ARGON_P      1
#define ARGON_SALT   16
#define ARGON_HASH   32
/* Hashes at once at the most, so that a burst of sign-ins cannot take
 * more than this many times 19 MiB; CC_PASSWORD_HASH_QUEUE_MAX more may
 * wait for a slot, and the rest are refused at once (503, Retry-After). */
#define HASH_SLOTS   4
/* last_seen_at is written at most this often per session (and four times
 * per idle time-out when that is shorter, so a session in use never
 * expires for want of a write). */
#define TOUCH_EVERY_MS 60000
/* Sign-ins held back after wrong passwords at once at the most; more are
 * refused at once, so that a flood of them cannot occupy every thread of
 * the blocking pool. */

static pthread_mutex_t wait_mu = PTHREAD_MUTEX_INITIALIZER;
static int waiting;

static pthread_mutex_t slot_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slot_cv = PTHREAD_COND_INITIALIZER;
static int slots_used, slots_waiting;
static pthread_once_t malloc_once = PTHREAD_ONCE_INIT;

/* argon2 allocates its 19 MiB with malloc. glibc's default mmap threshold
 * rises to the size of the last freed mapping, after which each thread's
 * arena keeps such blocks for itself: a flood of sign-ins spread over the
 * blocking pool's threads held hundreds of MiB. A fixed threshold keeps
 * large blocks mapped and returns them on free. */
static void malloc_setup(void)
{
    mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
}

/* A hash slot; 0, or -1 when every slot is taken and enough already wait. */
static int slot_take(void)
{
    pthread_once(&malloc_once, malloc_setup);
    pthread_mutex_lock(&slot_mu);
    if (slots_used >= HASH_SLOTS && slots_waiting >= CC_PASSWORD_HASH_QUEUE_MAX) {
        pthread_mutex_unlock(&slot_mu);
        return -1;
    }
    slots_waiting++;
    while (slots_used >= HASH_SLOTS)
        pthread_cond_wait(&slot_cv, &slot_mu);
    slots_waiting--;
    slots_used++;
    pthread_mutex_unlock(&slot_mu);
    return 0;
}

static enum cc_err hash_busy(struct cc_error *err)
{
    cc_error_set(err, CC_ERR_UNAVAILABLE, NULL,
                 "The server is busy checking passwords; try again in a second.");
    if (err)
        err->retry_after_s = 1;
    return CC_ERR_UNAVAILABLE;
}

static void slot_give(void)
{
    pthread_mutex_lock(&slot_mu);
    slots_used--;
    pthread_cond_signal(&slot_cv);
    pthread_mutex_unlock(&slot_mu);
}

/* libpwquality's checks (cracklib's dictionary among them) with its built-in
 * defaults, not /etc/security/pwquality.conf: the rule of the service does
 * not change with the host. cracklib is not known to be thread-safe, hence
 * the lock (only new passwords are checked, never sign-ins). */
static pthread_mutex_t pwq_mu = PTHREAD_MUTEX_INITIALIZER;

static enum cc_err check_quality(const char *pw, const char *user, struct cc_error *err)
{
    pthread_mutex_lock(&pwq_mu);
    pwquality_settings_t *pwq = pwquality_default_settings();
    void *aux = NULL;
    int score = PWQ_ERROR_MEM_ALLOC;
    char why[256] = "";
    if (pwq) {
        /* the length rule is ours (characters, not bytes with credits) */
        pwquality_set_int_value(pwq, PWQ_SETTING_MIN_LENGTH, 6);
        pwquality_set_int_value(pwq, PWQ_SETTING_DICT_CHECK, 1);
        char name[CC_EMAIL_MAX + 1] = ""; /* the email's local part, if any */
        if (user)
            snprintf(name, sizeof name, "%.*s", (int)strcspn(user, "@"), user);
        score = pwquality_check(pwq, pw, NULL, name[0] ? name : NULL, &aux);
        if (score < 0)
            cc_strlcpy(why, pwquality_strerror(NULL, 0, score, aux), sizeof why);
        pwquality_free_settings(pwq);
    }
    pthread_mutex_unlock(&pwq_mu);
    if (score >= 0)
        return CC_OK;
    return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Password",
                        "The password is too easy to guess: %s. Use a longer passphrase.", why);
}

static enum cc_err check_password(const char *pw, const char *user, struct cc_error *err)
{
    size_t n = strlen(pw);
    if (!cc_utf8_valid(pw, n))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Password",
                            "The password must be valid UTF-8 text.");
    size_t chars = cc_utf8_len(pw, n);
    if (chars < CC_PASSWORD_MIN_CHARS || chars > CC_PASSWORD_MAX_CHARS)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Password",
                            "The password must have %d to %d characters.", CC_PASSWORD_MIN_CHARS,
                            CC_PASSWORD_MAX_CHARS);
    return check_quality(pw, user, err);
}

/* argon2id of password, with no rule checked. */
static enum cc_err hash_raw(const char *password, char *out, size_t outsz, struct cc_error *err)
{
    uint8_t salt[ARGON_SALT];
    cc_random_bytes(salt, sizeof salt);
    if (slot_take())
        return hash_busy(err);
    int a = argon2id_hash_encoded(ARGON_T, ARGON_M_KIB, ARGON_P, password, strlen(password), salt,
                                  sizeof salt, ARGON_HASH, out, outsz);
    slot_give();
    if (a != ARGON2_OK)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "cannot hash a password: %s",
                            argon2_error_message(a));
    return CC_OK;
}

enum cc_err cc_password_hash(const char *password, const char *user, char *out, size_t outsz,
                             struct cc_error *err)
{
    enum cc_err rc = check_password(password, user, err);
    return rc ? rc : hash_raw(password, out, outsz, err);
}

int cc_password_verify(const char *encoded, const char *password)
{
    if (strncmp(encoded, "$argon2id$", 10) != 0)
        return 0;
    if (slot_take())
        return -1;
    int a = argon2id_verify(encoded, password, strlen(password));
    slot_give();
    return a == ARGON2_OK;
}

/* A hash of a random password with the same parameters, made once, so an
 * unknown email costs the same verification as a known one. */
static char dummy_hash[CC_PASSWORD_HASH_MAX + 1];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
    char pw[CC_PASSWORD_GEN_LEN + 1];
    cc_password_generate(pw);
    enum cc_err rc;
    /* made once for good: wait out a busy moment rather than go without */
    for (int i = 0; (rc = hash_raw(pw, dummy_hash, sizeof dummy_hash, NULL)) ==
                        CC_ERR_UNAVAILABLE && i < 3000; i++)
        usleep(10000);
    if (rc)
        dummy_hash[0] = '\0';
}

/* 0, or -1 when the hash slots are busy (as for a known email). */
static int dummy_verify(const char *password)
{
    pthread_once(&dummy_once, make_dummy);
    return dummy_hash[0] && cc_password_verify(dummy_hash, password) < 0 ? -1 : 0;
}

void cc_password_generate(char out[CC_PASSWORD_GEN_LEN + 1])
{
    cc_random_alnum(out, CC_PASSWORD_GEN_LEN);
    out[CC_PASSWORD_GEN_LEN] = '\0';
}

/* A generated password for user that passes the quality check a chosen one
 * must pass: cracklib finds about 3 in 1,000 random ones "too systematic",
 * so another is drawn (a few draws at most in practice). */
void cc_password_generate_for(char out[CC_PASSWORD_GEN_LEN + 1], const char *user)
{
    struct cc_error ignored;
    for (int i = 0; i < 64; i++) {
        cc_password_generate(out);
        if (check_quality(out, user, &ignored) == CC_OK)
            return;
    }
}

enum cc_err cc_password_check(const char *password, const char *user, struct cc_error *err)
{
    return check_password(password, user, err);
}

int cc_csrf_equal(const char *expected, const char *given)
{
    size_t n = strlen(expected);
    if (!given || n == 0 || strlen(given) != n)
        return 0;
    return cc_ct_equal(expected, given, n);
}

/* 32 random bytes as base64url without padding: 43 characters. */
static void random_token(char out[CC_SESSION_TOKEN_LEN + 1])
{
    uint8_t raw[32];
    char b64[48];
    cc_random_bytes(raw, sizeof raw);
    cc_base64_encode(raw, sizeof raw, b64, sizeof b64);
    for (int i = 0; i < CC_SESSION_TOKEN_LEN; i++)
        out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
    out[CC_SESSION_TOKEN_LEN] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
}

static int token_well_formed(const char *t)
{
    size_t n = strlen(t);
    if (n != CC_SESSION_TOKEN_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static int64_t idle_ms(const struct cc_service *svc)
{
    return (svc->cfg.session_idle_s > 0 ? svc->cfg.session_idle_s : CC_SESSION_IDLE_DEFAULT_S) * 1000;
}

static int64_t touch_ms(const struct cc_service *svc)
{
    int64_t quarter = idle_ms(svc) / 4;
    return quarter < TOUCH_EVERY_MS ? quarter : TOUCH_EVERY_MS;
}

static int64_t max_age_s(const struct cc_service *svc)
{
    return svc->cfg.session_max_age_s > 0 ? svc->cfg.session_max_age_s : CC_SESSION_MAX_AGE_DEFAULT_S;
}

/* The caller a write is audited as: caller, or the command line in
 * account_id. */
static void who(const struct cc_caller *caller, int64_t account_id, struct cc_caller *out)
{
    if (caller)
        *out = *caller;
    else
        cc_caller_cli(out, account_id);
}

/* ---- users ------------------------------------------------------------------ */

/* A console user's email: what contacts accept, and also NAME@localhost
 * (the first admin of a development install has no real domain). */
static enum cc_err user_email(const char *in, char *out, size_t outsz, char *norm, size_t normsz,
                              struct cc_error *err)
{
    static const char local[] = "@localhost";
    size_t n = strlen(in), l = sizeof local - 1;
    if (n <= l || n > CC_EMAIL_MAX || strcasecmp(in + n - l, local) != 0)
        return cc_validate_email(in, out, outsz, norm, normsz, err);
    char probe[CC_EMAIL_MAX + 16];
    snprintf(probe, sizeof probe, "%.*s@example.com", (int)(n - l), in);
    enum cc_err rc = cc_validate_email(probe, out, outsz, norm, normsz, err);
    if (rc)
        return rc;
    char *at = strrchr(out, '@'), *nat = strrchr(norm, '@');
    if (!at || !nat || (size_t)(at - out) + l >= outsz || (size_t)(nat - norm) + l >= normsz)
        return cc_validate_email(in, out, outsz, norm, normsz, err);
    memcpy(at, local, l + 1);
    memcpy(nat, local, l + 1);
    return CC_OK;
}

struct user_op {
    const struct cc_caller *caller;
    struct cc_user *u;
    enum cc_audit_action action;
    int kill_sessions;
    int delete;
    enum cc_role old_role;           /* an update: what changed */
    int64_t old_disabled_at;
    int password_changed;
    int unlock;                      /* forget its wrong-password counts and locks */
};

/* The changed fields of a user write: the email (masked) on create and
 * delete, the role, whether it is disabled, and that the password changed. */
static json_t *user_changes(const struct user_op *op)
{
    const struct cc_user *u = op->u;
    json_t *ch = json_object();
    int upd = op->action == CC_AUDIT_USER_UPDATE;
    if (op->action == CC_AUDIT_USER_CREATE)
        svc_change_str(ch, "email", SVC_PII_EMAIL, NULL, u->email);
    if (op->action == CC_AUDIT_USER_DELETE)
        svc_change_str(ch, "email", SVC_PII_EMAIL, u->email, NULL);
    svc_change_str(ch, "role", SVC_PII_NONE, upd ? cc_role_name(op->old_role) : NULL,
                   op->delete ? NULL : cc_role_name(u->role));
    if (upd && !!op->old_disabled_at != !!u->disabled_at)
        svc_change_str(ch, "status", SVC_PII_NONE, op->old_disabled_at ? "disabled" : "enabled",
                       u->disabled_at ? "disabled" : "enabled");
    if (op->password_changed)
        svc_change_str(ch, "password", SVC_PII_NONE, NULL, "changed");
    return ch;
}

static enum cc_err user_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct user_op *op = arg;
    struct cc_user *u = op->u;
    int64_t now = cc_now_ms();
    enum cc_err rc;
    if (op->delete)
        rc = cc_tx_user_delete(tx, u->account_id, u->id, err);
    else if (u->id)
        rc = cc_tx_user_update(tx, u, err);
    else if (!(rc = cc_tx_account_exists(tx, u->account_id, err)))
        rc = cc_tx_user_insert(tx, u, err);
    if (!rc && op->kill_sessions)
        rc = cc_tx_session_delete(tx, NULL, u->id, err);
    if (!rc && op->unlock)
        rc = cc_tx_sign_in_unlock(tx, u->email_norm, err);
    (void)now;
    if (!rc && op->action) {
        struct cc_caller w;
        who(op->caller, u->account_id, &w);
        rc = svc_audit(tx, &w, op->action, u->id, user_changes(op), err);
    }
    return rc;
}

/* Unlocking writes no user field: the locks live apart from the user. */
static enum cc_err unlock_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct user_op *op = arg;
    enum cc_err rc = cc_tx_sign_in_unlock(tx, op->u->email_norm, err);
    if (!rc) {
        struct cc_caller w;
        who(op->caller, op->u->account_id, &w);
        json_t *ch = json_object();
        svc_change_str(ch, "email", SVC_PII_EMAIL, NULL, op->u->email);
        rc = svc_audit(tx, &w, op->action, op->u->id, ch, err);
    }
    return rc;
}

enum cc_err cc_user_create(struct cc_service *svc, const struct cc_caller *caller,
                           int64_t account_id, const char *email, const char *role,
                           const char *password, struct cc_user *out, char *gen_password,
                           struct cc_error *err)
{
    enum cc_err rc;
    if (caller) {
        if ((rc = cc_service_require(caller, CC_ROLE_ADMIN, err)))
            return rc;
        account_id = caller->account_id;
    }
    memset(out, 0, sizeof *out);
    gen_password[0] = '\0';
    if (!email)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Email", "The email is required.");
    if ((rc = user_email(email, out->email, sizeof out->email, out->email_norm,
                         sizeof out->email_norm, err)))
        return rc;
    out->role = cc_role_parse(role);
    if (out->role == CC_ROLE_NONE)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Role",
                            "The role must be admin, operator or readonly.");
    if (!password) {
        cc_password_generate_for(gen_password, out->email);
        password = gen_password;
    }
    if ((rc = cc_password_hash(password, out->email, out->password_hash,
                               sizeof out->password_hash, err)))
        return rc;
    out->account_id = account_id;
    cc_strlcpy(out->language, "en", sizeof out->language);
    out->created_at = cc_now_ms();
    struct user_op op = {caller, out, CC_AUDIT_USER_CREATE, 0, 0, 0, 0, 0, 0};
    rc = cc_store_write(svc->store, user_tx, &op, err);
    if (rc)
        gen_password[0] = '\0';
    OPENSSL_cleanse(out->password_hash, sizeof out->password_hash);
    return rc;
}

enum cc_err cc_user_list(struct cc_service *svc, const struct cc_caller *caller,
                         struct cc_user **out, size_t *n, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_ADMIN, err);
    if (rc)
        return rc;
    rc = cc_store_user_list(svc->store, caller->account_id, out, n, err);
    for (size_t i = 0; !rc && i < *n; i++)
        OPENSSL_cleanse((*out)[i].password_hash, sizeof (*out)[i].password_hash);
    return rc;
}

enum cc_err cc_user_count(struct cc_service *svc, int64_t account_id, size_t *n,
                          struct cc_error *err)
{
    struct cc_user *users = NULL;
    enum cc_err rc = cc_store_user_list(svc->store, account_id, &users, n, err);
    cc_free(users);
    return rc;
}

/* The user id of the caller's account, or CC_ERR_NOT_FOUND. */
static enum cc_err own_user(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                            struct cc_user *u, struct cc_error *err)
{
    enum cc_err rc = cc_store_user_get(svc->store, id, u, err);
    if (!rc && u->account_id != caller->account_id)
        rc = cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "There is no such user.");
    return rc;
}

enum cc_err cc_user_update(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                           const struct cc_user_change *ch, struct cc_user *out,
                           struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_ADMIN, err);
    if (rc)
        return rc;
    if ((rc = own_user(svc, caller, id, out, err)))
        return rc;
    int self = caller->user_id == id;
    struct user_op op = {caller, out, CC_AUDIT_USER_UPDATE, 0, 0, out->role, out->disabled_at, 0, 0};
    if (ch->role) {
        enum cc_role r = cc_role_parse(ch->role);
        if (r == CC_ROLE_NONE)
            rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Role",
                              "The role must be admin, operator or readonly.");
        else if (self && r != out->role)
            rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Role",
                              "You cannot change your own role; ask another admin.");
        out->role = r;
    }
    if (!rc && ch->disabled >= 0) {
        if (self && ch->disabled)
            rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Disabled",
                              "You cannot disable yourself; ask another admin.");
        else if (ch->disabled && !out->disabled_at) {
            out->disabled_at = cc_now_ms();
            op.kill_sessions = 1;
        } else if (!ch->disabled) {
            out->disabled_at = 0;
        }
    }
    if (!rc && ch->password) {
        rc = cc_password_hash(ch->password, out->email, out->password_hash,
                              sizeof out->password_hash, err);
        op.kill_sessions = !self || op.kill_sessions;
        op.password_changed = 1;
        op.unlock = 1; /* a new password makes old guesses moot */
    }
    if (!rc)
        rc = cc_store_write(svc->store, user_tx, &op, err);
    OPENSSL_cleanse(out->password_hash, sizeof out->password_hash);
    return rc;
}

enum cc_err cc_user_delete(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                           struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_ADMIN, err);
    if (rc)
        return rc;
    struct cc_user u;
    if ((rc = own_user(svc, caller, id, &u, err)))
        return rc;
    if (caller->user_id == id)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "User",
                            "You cannot delete yourself; ask another admin.");
    struct user_op op = {caller, &u, CC_AUDIT_USER_DELETE, 1, 1, 0, 0, 0, 1};
    rc = cc_store_write(svc->store, user_tx, &op, err);
    OPENSSL_cleanse(u.password_hash, sizeof u.password_hash);
    return rc;
}

enum cc_err cc_user_unlock(struct cc_service *svc, const struct cc_caller *caller,
                           int64_t account_id, int64_t id, const char *email,
                           struct cc_user *out, struct cc_error *err)
{
    enum cc_err rc;
    if (caller) {
        if ((rc = cc_service_require(caller, CC_ROLE_ADMIN, err)) ||
            (rc = own_user(svc, caller, id, out, err)))
            return rc;
    } else {
        char clean[CC_EMAIL_MAX + 1], norm[CC_EMAIL_MAX + 1];
        if (!email)
            return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Email", "The email is required.");
        if ((rc = user_email(email, clean, sizeof clean, norm, sizeof norm, err)))
            return rc;
        int many;
        if ((rc = cc_store_user_by_email(svc->store, norm, account_id, out, &many, err)))
            return rc;
    }
    OPENSSL_cleanse(out->password_hash, sizeof out->password_hash);
    struct user_op op = {caller, out, CC_AUDIT_USER_UNLOCK, 0, 0, 0, 0, 0, 1};
    rc = cc_store_write(svc->store, unlock_tx, &op, err);
    if (!rc)
        out->locked_until = 0;
    return rc;
}

/* ---- sessions ---------------------------------------------------------------- */

/* Wrong passwords are counted under three keys (sign_in_failures rows):
 *   EMAIL            from anywhere: slows every try for the email down, never
 *                    locks it, since whoever sends them could be anyone;
 *   EMAIL "\n" ADDR  from one source address: locks the email there only;
 *   "\n" ADDR        from one address whatever the email: locks that address
 *                    (spraying many emails).
 * The real user, elsewhere, is never locked out by someone else's guesses.
 * An email cannot hold a newline, so the keys never meet. */
#define SIGN_IN_KEY_MAX (CC_EMAIL_MAX + CC_ADDR_TEXT_MAX + 2)

struct sign_in_keys {
    char email[CC_EMAIL_MAX + 1];
    char pair[SIGN_IN_KEY_MAX + 1];
    char addr[CC_ADDR_TEXT_MAX + 2];
};

static void sign_in_keys(struct sign_in_keys *k, const char *email_norm, const char *source)
{
    if (!source || !source[0] || strlen(source) > CC_ADDR_TEXT_MAX)
        source = "-";
    cc_strlcpy(k->email, email_norm, sizeof k->email);
    snprintf(k->pair, sizeof k->pair, "%s\n%s", email_norm, source);
    snprintf(k->addr, sizeof k->addr, "\n%s", source);
}

struct sign_in_op {
    const struct sign_in_keys *keys;
    const struct cc_origin *origin;  /* may be NULL */
    const char *email_norm;
    const char *why;                 /* a failure: why, for the audit log */
    int64_t account_id, user_id;     /* the user of the email; 0 when unknown */
    int ok;                          /* 1: clear failures, add the session */
    struct cc_session sess;
    struct cc_user *user;
    struct cc_sign_in_failures pair, addr; /* out, after a failure */
};

static enum cc_err count_failure(struct cc_tx *tx, struct sign_in_op *op, int64_t now,
                                 struct cc_error *err)
{
    const int64_t win = CC_SIGN_IN_WINDOW_S * 1000LL, lock = CC_SIGN_IN_LOCK_S * 1000LL;
    struct cc_sign_in_failures mail;
    enum cc_err rc = cc_tx_sign_in_failure(tx, op->keys->email, now, win, INT64_MAX, 0, &mail, err);
    if (!rc)
        rc = cc_tx_sign_in_failure(tx, op->keys->pair, now, win, CC_SIGN_IN_MAX_FAILURES, lock,
                                   &op->pair, err);
    if (!rc)
        rc = cc_tx_sign_in_failure(tx, op->keys->addr, now, win, CC_SIGN_IN_ADDR_MAX_FAILURES,
                                   lock, &op->addr, err);
    return rc;
}

/* A sign-in, good or not, as the audit log has it: actor "user:ID" (an
 * unknown email: "anonymous"), the email masked, and why it failed. */
static enum cc_err audit_sign_in(struct cc_tx *tx, const struct sign_in_op *op, int ok,
                                 struct cc_error *err)
{
    struct cc_caller w;
    memset(&w, 0, sizeof w);
    w.account_id = op->account_id;
    if (op->user_id)
        snprintf(w.key_id, sizeof w.key_id, "user:%lld", (long long)op->user_id);
    else
        cc_strlcpy(w.key_id, "anonymous", sizeof w.key_id);
    if (op->origin)
        w.origin = *op->origin;
    json_t *ch = json_object();
    svc_change_str(ch, "email", SVC_PII_EMAIL, NULL, op->email_norm);
    if (!ok)
        svc_change_str(ch, "reason", SVC_PII_NONE, NULL, op->why);
    return svc_audit(tx, &w, ok ? CC_AUDIT_USER_SIGN_IN : CC_AUDIT_USER_SIGN_IN_FAILED,
                     op->user_id, ch, err);
}

static enum cc_err sign_in_refused_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    return audit_sign_in(tx, arg, 0, err);
}

static enum cc_err sign_in_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct sign_in_op *op = arg;
    int64_t now = cc_now_ms();
    if (!op->ok) {
        enum cc_err rc = count_failure(tx, op, now, err);
        return rc ? rc : audit_sign_in(tx, op, 0, err);
    }
    /* the address's own count stays: one good password must not excuse
     * guesses at other emails */
    enum cc_err rc = cc_tx_sign_in_clear(tx, op->keys->email, err);
    if (!rc)
        rc = cc_tx_sign_in_clear(tx, op->keys->pair, err);
    if (!rc)
        rc = cc_tx_session_insert(tx, &op->sess, err);
    if (!rc) {
        op->user->last_sign_in_at = now;
        rc = cc_tx_user_update(tx, op->user, err);
    }
    if (!rc)
        rc = audit_sign_in(tx, op, 1, err);
    return rc;
}

static enum cc_err locked(struct cc_error *err, int64_t until, int64_t now)
{
    int64_t s = (until - now + 999) / 1000;
    int64_t min = (s + 59) / 60;
    cc_error_setn(err, CC_ERR_USER_LOCKED, NULL, (long)min,
                  "Too many wrong passwords from this address; try again in %lld minute, or "
                  "ask an admin to unlock you.",
                  "Too many wrong passwords from this address; try again in %lld minutes, or "
                  "ask an admin to unlock you.", (long long)min);
    if (err)
        err->retry_after_s = s > 0 ? s : 1;
    return CC_ERR_USER_LOCKED;
}

static enum cc_err address_locked(struct cc_error *err, int64_t until, int64_t now)
{
    int64_t s = (until - now + 999) / 1000;
    int64_t min = (s + 59) / 60;
    cc_error_setn(err, CC_ERR_THROTTLED, "SignIn", (long)min,
                  "Too many wrong passwords from this address; try again in %lld minute.",
                  "Too many wrong passwords from this address; try again in %lld minutes.",
                  (long long)min);
    if (err)
        err->retry_after_s = s > 0 ? s : 1;
    return CC_ERR_THROTTLED;
}

/* One answer for every failure, so it tells nobody whether an email is
 * known, or known in several accounts. */
static enum cc_err bad_credentials(struct cc_error *err)
{
    return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL,
                        "The email or password is wrong (if your email is in more than one "
                        "account, name the account too).");
}

/* Refuses a locked address or (email, address), or holds the try back when
 * the email has recent failures from anywhere: from the third on, each
 * waits a step (a second) longer, up to ten steps, whoever sends it — a
 * slow-down, never a lock. Waiters are bounded, so a flood cannot hold the
 * blocking pool. */
static enum cc_err sign_in_gate(struct cc_service *svc, const struct sign_in_keys *k,
                                int64_t now, int *lock, struct cc_error *err)
{
    struct cc_sign_in_failures f;
    *lock = 0;
    enum cc_err rc = cc_store_sign_in_failures(svc->store, k->addr, &f, err);
    if (!rc && f.locked_until > now) {
        *lock = 1;
        return address_locked(err, f.locked_until, now);
    }
    if (!rc && !(rc = cc_store_sign_in_failures(svc->store, k->pair, &f, err)) &&
        f.locked_until > now) {
        *lock = 1;
        return locked(err, f.locked_until, now);
    }
    if (rc || (rc = cc_store_sign_in_failures(svc->store, k->email, &f, err)))
        return rc;
    int64_t recent = now - f.first_failure_at <= CC_SIGN_IN_WINDOW_S * 1000LL ? f.failures : 0;
    if (recent < 2)
        return CC_OK;
    pthread_mutex_lock(&wait_mu);
    int full = waiting >= CC_SIGN_IN_WAITING_MAX;
    if (!full)
        waiting++;
    pthread_mutex_unlock(&wait_mu);
    if (full) {
        cc_error_set(err, CC_ERR_THROTTLED, "SignIn",
                     "Too many sign-ins are waiting after wrong passwords; try again shortly.");
        if (err)
            err->retry_after_s = 1;
        return CC_ERR_THROTTLED;
    }
    int64_t step = svc->cfg.sign_in_wait_step_ms > 0 ? svc->cfg.sign_in_wait_step_ms
                                                      : CC_SIGN_IN_WAIT_STEP_MS;
    int64_t wait_ms = (recent - 1 < 10 ? recent - 1 : 10) * step;
    struct timespec ts = {(time_t)(wait_ms / 1000), (long)(wait_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
    pthread_mutex_lock(&wait_mu);
    waiting--;
    pthread_mutex_unlock(&wait_mu);
    return CC_OK;
}

enum cc_err cc_session_sign_in(struct cc_service *svc, const char *email, const char *password,
                               int64_t account_id, const char *source,
                               struct cc_new_session *out, struct cc_error *err)
{
    struct cc_origin o;
    memset(&o, 0, sizeof o);
    cc_strlcpy(o.source, source ? source : "", sizeof o.source);
    return cc_session_sign_in_to(svc, &o, account_id, email, password, out, err);
}

enum cc_err cc_session_sign_in_from(struct cc_service *svc, const struct cc_origin *origin,
                                    const char *email, const char *password,
                                    struct cc_new_session *out, struct cc_error *err)
{
    return cc_session_sign_in_to(svc, origin, 0, email, password, out, err);
}

/* Records a refused sign-in that wrote nothing else (a locked or disabled
 * user); a failure to write it is logged, the refusal stands. */
static void audit_refusal(struct cc_service *svc, struct sign_in_op *op, const char *why)
{
    struct cc_error e;
    op->why = why;
    if (cc_store_write(svc->store, sign_in_refused_tx, op, &e))
        cc_log(CC_LOG_WARN, "cannot audit a refused sign-in", "error", e.message, NULL);
}

/* A refusal for a lock, audited like main's "locked" (the user named when
 * the email has one on the server). */
static void audit_lock(struct cc_service *svc, const struct cc_origin *origin, const char *norm)
{
    struct sign_in_op lk = {.origin = origin, .email_norm = norm};
    struct cc_user lu;
    int many = 0;
    if (!cc_store_user_by_email(svc->store, norm, 0, &lu, &many, NULL) && !many) {
        lk.account_id = lu.account_id;
        lk.user_id = lu.id;
    }
    OPENSSL_cleanse(lu.password_hash, sizeof lu.password_hash);
    audit_refusal(svc, &lk, "locked");
}

enum cc_err cc_session_sign_in_to(struct cc_service *svc, const struct cc_origin *origin,
                                  int64_t account_id, const char *email, const char *password,
                                  struct cc_new_session *out, struct cc_error *err)
{
    char clean[CC_EMAIL_MAX + 1], norm[CC_EMAIL_MAX + 1];
    memset(out, 0, sizeof *out);
    if (!email || !password || user_email(email, clean, sizeof clean, norm, sizeof norm, NULL) ||
        strlen(password) > 4 * CC_PASSWORD_MAX_CHARS) {
        if (password && strlen(password) <= 4 * CC_PASSWORD_MAX_CHARS && dummy_verify(password))
            return hash_busy(err);
        return bad_credentials(err);
    }
    pthread_once(&dummy_once, make_dummy); /* not on an unknown email's time only */
    int64_t now = cc_now_ms();
    struct sign_in_keys keys;
    sign_in_keys(&keys, norm, origin ? origin->source : NULL);
    int lock;
    enum cc_err rc = sign_in_gate(svc, &keys, now, &lock, err);
    if (rc && lock)
        audit_lock(svc, origin, norm);
    if (rc)
        return rc;
    struct cc_user *u = &out->user;
    int many = 0;
    rc = cc_store_user_by_email(svc->store, norm, account_id > 0 ? account_id : 0, u, &many, err);
    if (rc && rc != CC_ERR_NOT_FOUND)
        return rc;
    int ok;
    if (rc == CC_ERR_NOT_FOUND || many) /* nobody, or nobody in particular: same work */
        ok = dummy_verify(password);
    else
        ok = cc_password_verify(u->password_hash, password);
    if (ok < 0) { /* busy: refused before any answer about the password */
        OPENSSL_cleanse(u->password_hash, sizeof u->password_hash);
        memset(u, 0, sizeof *u);
        return hash_busy(err);
    }
    struct sign_in_op op = {.keys = &keys, .origin = origin, .email_norm = norm, .ok = ok,
                            .user = u};
    if (rc != CC_ERR_NOT_FOUND && !many) {
        op.account_id = u->account_id;
        op.user_id = u->id;
    }
    if (!ok) {
        op.why = rc == CC_ERR_NOT_FOUND ? "unknown email" : "wrong password";
        memset(u, 0, sizeof *u);
        rc = cc_store_write(svc->store, sign_in_tx, &op, err);
        if (rc)
            return rc;
        if (op.pair.locked_until > now)
            return locked(err, op.pair.locked_until, cc_now_ms());
        return bad_credentials(err);
    }
    if (u->disabled_at) {
        OPENSSL_cleanse(u->password_hash, sizeof u->password_hash);
        memset(u, 0, sizeof *u);
        audit_refusal(svc, &op, "disabled");
        return cc_error_set(err, CC_ERR_FORBIDDEN, NULL,
                            "This console user is disabled; ask an admin of the account.");
    }
    random_token(out->token);
    random_token(out->csrf_token);
    cc_sha256_hex(out->token, strlen(out->token), op.sess.token_hash);
    cc_strlcpy(op.sess.csrf_token, out->csrf_token, sizeof op.sess.csrf_token);
    op.sess.user_id = u->id;
    op.sess.created_at = op.sess.last_seen_at = now;
    out->max_age_s = max_age_s(svc);
    op.sess.expires_at = now + out->max_age_s * 1000;
    rc = cc_store_write(svc->store, sign_in_tx, &op, err);
    OPENSSL_cleanse(u->password_hash, sizeof u->password_hash);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

enum cc_err cc_session_authenticate(struct cc_service *svc, const char *token,
                                    struct cc_caller *out, char *csrf, int *touch,
                                    struct cc_error *err)
{
    static const char *const expired = N_("The session has ended; sign in again.");
    *touch = 0;
    if (!token_well_formed(token))
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "%s", expired);
    char hash[CC_TOKEN_HASH_LEN + 1];
    cc_sha256_hex(token, strlen(token), hash);
    struct cc_session s;
    struct cc_user u;
    struct cc_error serr;
    enum cc_err rc = cc_store_session_get(svc->store, hash, &s, &u, &serr);
    if (rc == CC_ERR_NOT_FOUND)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "%s", expired);
    if (rc) {
        if (err)
            *err = serr;
        return rc;
    }
    OPENSSL_cleanse(u.password_hash, sizeof u.password_hash);
    int64_t now = cc_now_ms();
    if (u.disabled_at || now >= s.expires_at || now - s.last_seen_at > idle_ms(svc))
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "%s", expired);
    memset(out, 0, sizeof *out);
    out->account_id = u.account_id;
    out->role = u.role;
    out->user_id = u.id;
    snprintf(out->key_id, sizeof out->key_id, "user:%lld", (long long)u.id);
    cc_strlcpy(out->session, hash, sizeof out->session);
    cc_strlcpy(out->language, u.language, sizeof out->language);
    cc_strlcpy(csrf, s.csrf_token, CC_CSRF_LEN + 1);
    *touch = now - s.last_seen_at >= touch_ms(svc);
    return CC_OK;
}

struct session_op {
    const struct cc_caller *caller;
    int sign_out;
    struct cc_user *user;            /* language change */
    const char *old_language;
};

static enum cc_err session_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct session_op *op = arg;
    if (op->sign_out) {
        enum cc_err rc = cc_tx_session_delete(tx, op->caller->session, 0, err);
        return rc ? rc
                  : svc_audit(tx, op->caller, CC_AUDIT_USER_SIGN_OUT, op->caller->user_id, NULL,
                              err);
    }
    if (op->user) {
        enum cc_err rc = cc_tx_user_update(tx, op->user, err);
        if (rc || !strcmp(op->old_language, op->user->language))
            return rc;
        json_t *ch = json_object();
        svc_change_str(ch, "language", SVC_PII_NONE, op->old_language, op->user->language);
        return svc_audit(tx, op->caller, CC_AUDIT_USER_UPDATE, op->user->id, ch, err);
    }
    return cc_tx_session_touch(tx, op->caller->session, cc_now_ms(), err);
}

enum cc_err cc_session_touch(struct cc_service *svc, const struct cc_caller *caller,
                             struct cc_error *err)
{
    struct session_op op = {caller, 0, NULL, NULL};
    return cc_store_write(svc->store, session_tx, &op, err);
}

static enum cc_err need_session(const struct cc_caller *caller, struct cc_error *err)
{
    if (!caller->user_id || !caller->session[0])
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, NULL,
                            "This call is for a console session; an access key has none.");
    return CC_OK;
}

enum cc_err cc_session_get(struct cc_service *svc, const struct cc_caller *caller,
                           struct cc_user *user, char *csrf, struct cc_error *err)
{
    enum cc_err rc = need_session(caller, err);
    if (rc)
        return rc;
    struct cc_session s;
    rc = cc_store_session_get(svc->store, caller->session, &s, user, err);
    if (rc == CC_ERR_NOT_FOUND)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL,
                            "The session has ended; sign in again.");
    OPENSSL_cleanse(user->password_hash, sizeof user->password_hash);
    if (!rc)
        cc_strlcpy(csrf, s.csrf_token, CC_CSRF_LEN + 1);
    return rc;
}

enum cc_err cc_session_set_language(struct cc_service *svc, const struct cc_caller *caller,
                                    const char *language, struct cc_user *user,
                                    struct cc_error *err)
{
    enum cc_err rc = need_session(caller, err);
    if (rc)
        return rc;
    char lang[CC_LANG_MAX + 1];
    if (!language)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Language",
                            "The language is required: en or zh-CN.");
    if ((rc = cc_validate_language(language, lang, sizeof lang, err)))
        return rc;
    /* the stored hash is written back as it is */
    if ((rc = cc_store_user_get(svc->store, caller->user_id, user, err)))
        return rc;
    char old[CC_LANG_MAX + 1];
    cc_strlcpy(old, user->language, sizeof old);
    cc_strlcpy(user->language, lang, sizeof user->language);
    struct session_op op = {caller, 0, user, old};
    rc = cc_store_write(svc->store, session_tx, &op, err);
    OPENSSL_cleanse(user->password_hash, sizeof user->password_hash);
    return rc;
}

enum cc_err cc_session_sign_out(struct cc_service *svc, const struct cc_caller *caller,
                                struct cc_error *err)
{
    enum cc_err rc = need_session(caller, err);
    if (rc)
        return rc;
    struct session_op op = {caller, 1, NULL, NULL};
    return cc_store_write(svc->store, session_tx, &op, err);
}
