/*
 * cli.h — the client commands of `certcontacts` (contact, event,
 * notification, template, certificate, application, key and user without
 * --account, configure): they talk to a running server over its REST API
 * instead of opening the data directory. main.c asks cc_cli_wants() first and
 * hands the whole command line over when it says yes.
 */
#ifndef CC_APP_CLI_H
#define CC_APP_CLI_H

#include <stdio.h>

/* 1 when argv names a client command (or `help --completion`), else 0. */
int cc_cli_wants(int argc, char **argv);
/* Runs a client command; returns the process exit status (0 ok, 1 refused,
 * 2 usage, 3 not found, 4 conflict, 5 server error or unreachable). */
int cc_cli_main(int argc, char **argv);

/* help.c: the bash completion script, generated from the command table. */
void cc_app_print_completion(FILE *f);

#endif
