/*
 * admin.h — the local admin commands of `certcontacts` (admin.c): account
 * create, key create/list/disable/rotate-master, user create/unlock and audit
 * verify. Unlike the client commands (cli.h) they work on the data
 * directory's database, not over the REST API: main.c opens the service,
 * fills struct cc_admin_args from its command line and calls the one for
 * the command.
 */
#ifndef CC_APP_ADMIN_H
#define CC_APP_ADMIN_H

#include "service/service.h"

/* What the admin commands read of the command line. Every pointer is
 * borrowed from main.c's argv for the call. */
struct cc_admin_args {
    const char *const *pos;   /* the words: pos[0] is the command ("key") */
    int npos;
    int json;                 /* --json */
    const char *account;      /* --account ID, or NULL */
    const char *role;         /* --role, or NULL */
    const char *email;        /* --email, or NULL */
    const char *password;     /* --password, or NULL */
    const char *expires;      /* --expires, or NULL */
};

/* Each returns the process exit status: 0 ok, 1 refused or failed (the
 * reason on stderr), 2 usage. svc is borrowed. */
/* `certcontacts account create NAME [--json]` */
int cc_admin_account(const struct cc_admin_args *a, struct cc_service *svc);
/* `certcontacts key create|list|disable|rotate-master` */
int cc_admin_key(const struct cc_admin_args *a, struct cc_service *svc);
/* `certcontacts user create|unlock` */
int cc_admin_user(const struct cc_admin_args *a, struct cc_service *svc);
/* `certcontacts audit verify [--json]`: 1 too when the chain is broken. */
int cc_admin_audit(const struct cc_admin_args *a, struct cc_service *svc);

/* A message that stops a command: "certcontacts: ..." on stderr for the
 * person at the terminal, or, after cc_say_to_log(1) (serve, whose stderr
 * is its log), an error log line. */
void cc_say_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cc_say_to_log(int on);

/* A new access key with its secret, to stdout (one JSON line with json),
 * for the commands above and serve's first start. k is borrowed; the JSON
 * text is wiped before it is freed, k is the caller's to wipe. */
void cc_admin_print_key(const struct cc_new_key *k, int json);
/* A console user, with its password when password is not "" (shown once). */
void cc_admin_print_user(const struct cc_user *u, const char *password, int json);

#endif
