/*
 * help.c — what the program says about itself: `certcontacts --help` and the
 * manual page certcontacts(1) (`certcontacts help --man`, which the Makefile
 * turns into build/certcontacts.1). Both are printed from the same two
 * tables, the subcommands below and the option table of app/config.c, so
 * the manual can never list a command or an option that --help does not, or
 * miss one that it does.
 */
#include <stdio.h>
#include <string.h>

#include "app/config.h"

/* One subcommand: how it is called and what it does. */
struct command {
    const char *synopsis; /* words after "certcontacts" */
    const char *text;
};

static const struct command commands[] = {
    {"serve", "run the HTTP server (applies migrations first)"},
    {"migrate", "apply database migrations and exit"},
    {"check",
     "check the whole database for damage and that every encrypted field decrypts with the "
     "master key (read-only; exit status 1 when damaged, 2 on a usage error)"},
    {"backup FILE [--with-key]",
     "copy the SQLite database to FILE (mode 0600) while the server runs; --with-key also "
     "writes the master key to FILE.key (mode 0600), which the copy is useless without"},
    {"restore FILE [--key KEYFILE]",
     "check FILE and restore it into an empty data directory (no server running), with the "
     "master key KEYFILE (default FILE.key when it exists) once every encrypted field "
     "decrypts with it"},
    {"account create NAME [--json]", "create an account and its first admin key"},
    {"key create --account ID [--role admin|operator|readonly] [--expires TIME] [--json]",
     "create an access key (role admin unless given); TIME: RFC 3339 or YYYY-MM-DD (UTC)"},
    {"key list --account ID [--json]", "list an account's access keys (no secrets)"},
    {"key disable --account ID KEY_ID", "disable an access key at once"},
    {"key rotate-master [--json]",
     "re-seal every stored secret under a new master key (beside a running server; run it "
     "again to finish an interrupted one)"},
    {"user create --account ID --email EMAIL --role admin|operator|readonly "
     "[--password PASSWORD] [--json]",
     "add a console user (a password is generated and printed when none is given)"},
    {"user unlock --account ID --email EMAIL", "lift a console user's sign-in locks"},
    {"audit verify [--json]",
     "check the audit log's hash chain (exit status 1 when an entry was changed or removed)"},
    {"db copy --from URL --to URL [--json]",
     "copy every row of one database into another (sqlite:PATH or postgres://..., either "
     "way), then check each table by count and checksum; run it again to finish an "
     "interrupted copy. Stop the servers first; copy master.key too"},
    {"config example", "print a fully commented example config"},
    {"help [--man]", "this text; with --man, the manual page certcontacts(1) in roff"},
};

/* The options every command takes besides those of the option table. */
static const struct command own_options[] = {
    {"--config FILE", "read options from FILE (NAME = VALUE lines)"},
    {"--json", "print results as one JSON value"},
    {"--help", "this text"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])
#define NOWN (sizeof own_options / sizeof own_options[0])
#define TEXT_COL 38
#define WIDTH 79

/* Prints text word by word from column col, breaking lines before WIDTH and
 * starting each new one at column indent; returns the column it ends at. */
static int wrap(FILE *f, const char *text, int col, int indent)
{
    for (int first = 1; *text; first = 0) {
        size_t n = strcspn(text, " ");
        if (!first && col + 1 + (int)n > WIDTH) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (!first) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", (int)n, text);
        col += (int)n;
        text += n;
        while (*text == ' ')
            text++;
    }
    return col;
}

/* "  SYNOPSIS   text", the text at TEXT_COL (on the next line when the
 * synopsis reaches it). */
static void print_entry(FILE *f, const struct command *c, int synopsis_indent)
{
    fputs("  ", f);
    int col = wrap(f, c->synopsis, 2, synopsis_indent);
    if (col + 2 > TEXT_COL) {
        fputc('\n', f);
        col = 0;
    }
    fprintf(f, "%*s", TEXT_COL - col, "");
    wrap(f, c->text, TEXT_COL, TEXT_COL);
    fputc('\n', f);
}

void cc_app_print_usage(FILE *f)
{
    fputs("usage: certcontacts [OPTIONS] COMMAND [ARGS]\n\nCommands:\n", f);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        /* continuation lines under the first argument: "  key create --..." */
        const char *sp = strchr(commands[i].synopsis, ' ');
        int indent = sp ? 2 + (int)(sp - commands[i].synopsis) + 1 : 4;
        print_entry(f, &commands[i], indent);
    }
    fputc('\n', f);
    for (size_t i = 0; i < NOWN; i++)
        print_entry(f, &own_options[i], 4);
    fputc('\n', f);
    cc_config_print_help(f);
}

/* ---- the manual page -------------------------------------------------------- */

/* Text as roff: backslashes and hyphens escaped (a hyphen in an option or a
 * path must stay a minus sign when copied from the page), and a control
 * character at a line's start ('.' or '\'') kept as text. */
static void roff(const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", stdout);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", stdout);
        else if (*s == '-')
            fputs("\\-", stdout);
        else
            putchar(*s);
    }
}

/* A synopsis with its literal words bold and its placeholders (upper case
 * words: NAME, ID, FILE) italic, as man-pages(7) asks. */
static void roff_synopsis(const char *s)
{
    while (*s) {
        size_t n = strcspn(s, " []|");
        if (n == 0) {
            putchar(*s++);
            continue;
        }
        char word[128];
        snprintf(word, sizeof word, "%.*s", (int)n, s);
        int placeholder = word[0] >= 'A' && word[0] <= 'Z';
        fputs(placeholder ? "\\fI" : "\\fB", stdout);
        roff(word);
        fputs("\\fR", stdout);
        s += n;
    }
    putchar('\n');
}

static void man_header(const char *version)
{
    printf(".\\\" certcontacts(1), generated by `certcontacts help --man` from the tables\n"
           ".\\\" that --help prints; do not edit.\n"
           ".TH CERTCONTACTS 1 \"\" \"certcontacts %s\" \"User Commands\"\n"
           ".nh\n"
           ".SH NAME\n"
           "certcontacts \\- certificate contacts, expiry reminders and notifications "
           "server\n"
           ".SH SYNOPSIS\n",
           version);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        fputs(".br\n\\fBcertcontacts\\fR [\\fIOPTIONS\\fR] ", stdout);
        roff_synopsis(commands[i].synopsis);
    }
    fputs(".SH DESCRIPTION\n"
          "certcontacts keeps an organisation's contacts for its TLS certificates, "
          "verifies their email addresses and mobile numbers, and notifies them (email, "
          "SMS, DingTalk, Feishu, Lark, WeCom) of certificate events and expiry. "
          "\\fBserve\\fR runs the HTTP server: the REST API, the Alibaba Cloud CAS API "
          "and the web console; the other commands work on the same database beside it.\n"
          ".PP\n"
          "Every option of the \\fBOPTIONS\\fR below can be given as a flag "
          "(\\fB\\-\\-NAME\\fR \\fIVALUE\\fR or \\fB\\-\\-NAME=\\fR\\fIVALUE\\fR, before or "
          "after the command), as an environment variable \\fBCERTCONTACTS_\\fR\\fINAME\\fR, "
          "or as a \\fINAME\\fR = \\fIVALUE\\fR line of the file given with "
          "\\fB\\-\\-config\\fR. Flags win over the environment, which wins over the file.\n",
          stdout);
}

static void man_commands(void)
{
    fputs(".SH COMMANDS\n", stdout);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        fputs(".TP\n", stdout);
        roff_synopsis(commands[i].synopsis);
        roff(commands[i].text);
        fputs(".\n", stdout);
    }
}

/* "max_body_bytes" -> "CERTCONTACTS_MAX_BODY_BYTES" */
static void env_name(const char *name, char *out, size_t outsz)
{
    size_t n = (size_t)snprintf(out, outsz, "CERTCONTACTS_");
    for (; *name && n + 1 < outsz; name++)
        out[n++] = (char)(*name >= 'a' && *name <= 'z' ? *name - 'a' + 'A' : *name);
    out[n] = '\0';
}

static void man_options(void)
{
    fputs(".SH OPTIONS\n", stdout);
    for (size_t i = 0; i < NOWN; i++) {
        fputs(".TP\n", stdout);
        roff_synopsis(own_options[i].synopsis);
        roff(own_options[i].text);
        fputs(".\n", stdout);
    }
    struct cc_config_option o;
    for (size_t i = 0; cc_config_option_at(i, &o) == 0; i++) {
        char flag[64], env[80];
        snprintf(flag, sizeof flag, "%s", o.name);
        for (char *p = flag; *p; p++)
            if (*p == '_')
                *p = '-';
        env_name(o.name, env, sizeof env);
        fputs(".TP\n\\fB\\-\\-", stdout);
        roff(flag);
        fputs(o.is_bool ? "\\fR\n" : "\\fR \\fIVALUE\\fR\n", stdout);
        roff(o.help);
        if (o.choices) {
            fputs(" One of: ", stdout);
            roff(o.choices);
            fputs(".", stdout);
        }
        fputs("\n.br\nDefault: ", stdout);
        if (o.def[0]) {
            fputs("\\fB", stdout);
            roff(o.def);
            fputs("\\fR", stdout);
        } else {
            fputs("(see text)", stdout);
        }
        fputs(". Config file: \\fB", stdout);
        roff(o.name);
        fputs("\\fR; environment: \\fB", stdout);
        roff(env);
        fputs("\\fR.\n", stdout);
    }
}

static void man_footer(void)
{
    fputs(".SH EXIT STATUS\n"
          "0 on success; 1 when the command failed (for \\fBcheck\\fR and "
          "\\fBaudit verify\\fR: when they found damage); 2 on a usage or configuration "
          "error.\n"
          ".SH ENVIRONMENT\n"
          ".TP\n\\fBCERTCONTACTS_\\fR\\fINAME\\fR\n"
          "the option \\fINAME\\fR in upper case (see \\fBOPTIONS\\fR).\n"
          ".TP\n\\fBNOTIFY_SOCKET\\fR\n"
          "set by systemd for a \\fBType=notify\\fR service: \\fBserve\\fR reports "
          "\\fBREADY=1\\fR once it answers (and \\fB/readyz\\fR answers 200), "
          "\\fBRELOADING=1\\fR around a reload on \\fBSIGHUP\\fR and \\fBSTOPPING=1\\fR "
          "when it stops.\n"
          ".SH SIGNALS\n"
          "\\fBserve\\fR stops on \\fBSIGTERM\\fR or \\fBSIGINT\\fR (requests and "
          "deliveries in flight finish first) and reads the HTTPS certificate and key "
          "again on \\fBSIGHUP\\fR.\n"
          ".SH FILES\n"
          ".TP\n\\fI/etc/certcontacts/certcontacts.conf\\fR\n"
          "the configuration of the packaged service (\\fBNAME = VALUE\\fR lines, every "
          "option commented with its default).\n"
          ".TP\n\\fI/var/lib/certcontacts/\\fR\n"
          "the packaged service's data directory (\\fBdata_dir\\fR): the SQLite database "
          "\\fIcertcontacts.db\\fR, the master key \\fImaster.key\\fR (without it the "
          "encrypted secrets cannot be read: back it up apart from the database), "
          "\\fIcertcontacts.lock\\fR and \\fIinstance.id\\fR.\n"
          ".TP\n\\fI/usr/lib/systemd/system/certcontacts.service\\fR\n"
          "the systemd unit (\\fBsystemctl reload certcontacts\\fR sends \\fBSIGHUP\\fR; "
          "the log is in \\fBjournalctl \\-u certcontacts\\fR).\n"
          ".SH SEE ALSO\n"
          ".BR systemd.service (5),\n"
          ".BR systemd.exec (5),\n"
          ".BR journalctl (1),\n"
          ".BR sqlite3 (1)\n",
          stdout);
}

void cc_app_print_man(const char *version)
{
    man_header(version);
    man_commands();
    man_options();
    man_footer();
}
