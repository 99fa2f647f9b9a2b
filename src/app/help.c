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

#include "app/cli.h"
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
    /* client commands: they talk to a running server over the REST API
     * (--server, --key, --profile); key and user without --account are these */
    {"configure [--profile NAME] --server URL --key ID:SECRET",
     "save a server and an access key as a profile in ~/.config/certcontacts/credentials "
     "(mode 0600; $XDG_CONFIG_HOME is honoured)"},
    {"contact list [--search Q] [--limit N] [--all]",
     "list contacts (one page of N, or every page); \"contacts\" is the same as \"contact\""},
    {"contact get ID", "show a contact"},
    {"contact create --name N --mobile M [--email E] [--id-card X] [--language zh|en]",
     "create a contact"},
    {"contact update ID [--name N] [--email E] [--mobile M] [--id-card X] [--language zh|en] "
     "[--if-match VERSION]",
     "change the fields given (an empty --email or --id-card removes it); with --if-match only "
     "while the contact is at that version"},
    {"contact delete ID", "delete a contact"},
    {"contact verify ID --channel email|mobile [--code CODE]",
     "send a verification code; with --code, confirm it"},
    {"contact test ID --channel email|mobile|webhook [--webhook-id N] [--event-type TYPE]",
     "send a test notification"},
    {"contacts import FILE [--dry-run] [--mode all|skip-bad] [--trust-verified]",
     "import a CSV file of contacts and show the job's progress, its counts and the refused "
     "rows (exit status 1 when the job failed or, in mode all, a row was refused)"},
    {"contacts export [--format csv|jsonl] [--full] [-o FILE]",
     "export every contact (masked unless --full) to FILE or stdout"},
    {"event send --type TYPE --contact ID[,ID...] [--data JSON]", "record a certificate event"},
    {"event get ID", "show an event and its notifications"},
    {"notification list [--contact-id ID] [--event-id ID] [--status S] [--channel C] "
     "[--limit N] [--all]",
     "the delivery log"},
    {"notification get ID", "show a notification and its attempts"},
    {"notification resend ID", "send a finished notification again"},
    {"template list [--custom]", "list the notification templates in use"},
    {"template get EVENT CHANNEL LANG", "show a template"},
    {"template set EVENT CHANNEL LANG --title TITLE [--body TEXT] [--file FILE]",
     "save the account's own template (the body from --body or from FILE)"},
    {"template reset EVENT CHANNEL LANG", "remove the account's own template"},
    {"key list", "list the access keys over the API (with --account: the local form above)"},
    {"key create --role admin|operator|readonly [--expires TIME]",
     "create an access key over the API; its secret is shown once"},
    {"key disable KEY_ID", "disable an access key over the API"},
    {"user list", "list the console users over the API"},
    {"user create --email EMAIL --role ROLE [--password PASSWORD]",
     "add a console user over the API (with --account: the local form above)"},
    {"user update ID [--role ROLE] [--disabled true|false] [--password PASSWORD]",
     "change a console user"},
    {"user delete ID", "delete a console user"},
    {"user unlock ID", "lift a console user's sign-in locks over the API"},
    {"certificate list [--domain D] [--state S] [--expiring-within-days N] [--keyword Q] "
     "[--contact-id ID] [--limit N] [--all]",
     "list certificates"},
    {"certificate get ID", "show a certificate"},
    {"certificate delete ID", "delete a certificate"},
    {"certificate revoke ID [--reason TEXT]", "mark a certificate revoked and notify"},
    {"application list [--state S] [--domain D] [--product P] [--contact-id ID] [--limit N] "
     "[--all]",
     "list certificate applications"},
    {"application get ID", "show a certificate application"},
    {"help --completion", "print the bash completion script"},
};

/* The options every command takes besides those of the option table. */
static const struct command own_options[] = {
    {"--config FILE", "read options from FILE (NAME = VALUE lines)"},
    {"--json", "print results as one JSON value"},
    {"--help", "this text"},
    {"--server URL",
     "client commands: the server (env CERTCONTACTS_SERVER, else the profile, else "
     "http://127.0.0.1:8080)"},
    {"--key ID:SECRET",
     "client commands: the access key (env CERTCONTACTS_KEY, else the profile); for restore: "
     "the master key file"},
    {"--profile NAME",
     "client commands: the profile of the credentials file (env CERTCONTACTS_PROFILE, default "
     "\"default\"); flags win over the environment, which wins over the profile"},
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
    fputs("Client commands (talking to a running server) exit with 0 ok; 1 the request was\n"
          "refused (4xx) or the import failed; 2 usage error or no credentials; 3 not found\n"
          "(404); 4 conflict (409, 412); 5 server error (5xx) or the server unreachable.\n\n",
          f);
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
          "and the web console; the other commands work on the same database beside it, "
          "except the client commands (\\fBconfigure\\fR, \\fBcontact\\fR, \\fBevent\\fR, "
          "\\fBnotification\\fR, \\fBtemplate\\fR, \\fBcertificate\\fR, "
          "\\fBapplication\\fR, and \\fBkey\\fR and \\fBuser\\fR without "
          "\\fB\\-\\-account\\fR), which talk to a running server over its REST API with an "
          "access key (\\fB\\-\\-server\\fR, \\fB\\-\\-key\\fR, \\fB\\-\\-profile\\fR).\n"
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
          ".PP\n"
          "The client commands (those that talk to a running server) add: 1 the request "
          "was refused (a 4xx answer) or the import failed; 2 also when no credentials were "
          "given; 3 not found (404); 4 conflict (409, 412); 5 server error (5xx) or the "
          "server could not be reached. Errors print the API's code and message on "
          "stderr.\n"
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
          ".TP\n\\fBCERTCONTACTS_SERVER\\fR, \\fBCERTCONTACTS_KEY\\fR, "
          "\\fBCERTCONTACTS_PROFILE\\fR\n"
          "the client commands' server, access key (\\fIID\\fR:\\fISECRET\\fR) and "
          "profile, between the flags and the profile file in precedence.\n"
          ".SH FILES\n"
          ".TP\n\\fI~/.config/certcontacts/credentials\\fR\n"
          "the client's profiles (\\fB[NAME]\\fR sections of \\fBserver\\fR, "
          "\\fBkey_id\\fR and \\fBkey_secret\\fR; under \\fB$XDG_CONFIG_HOME\\fR when "
          "set), written by \\fBcertcontacts configure\\fR; refused when group or others "
          "may read or write it.\n"
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

/* ---- bash completion ------------------------------------------------------------
 * Generated from the command table, so it completes exactly what --help
 * lists: the commands, each command's second words, and the options its
 * synopses name. */

/* Appends the distinct words of the table onto out: the first words when
 * group is NULL, else group's second words ("verb" words: lower case, not an
 * option) or, with options set, the --options of every synopsis of group. */
static void words(const char *group, int options, char *out, size_t outsz)
{
    out[0] = '\0';
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const char *s = commands[i].synopsis;
        size_t n0 = strcspn(s, " ");
        char first[32];
        snprintf(first, sizeof first, "%.*s", (int)n0, s);
        for (int w = 0; *s; w++) {
            size_t n = strcspn(s, " ");
            char word[64];
            snprintf(word, sizeof word, "%.*s", (int)n, s);
            s += n;
            while (*s == ' ')
                s++;
            char *cut = word + strspn(word, "[(");
            cut[strcspn(cut, "]=)")] = '\0';
            if (cut[0] == '-' && strchr(cut, '|'))
                *strchr(cut, '|') = '\0';
            int take;
            if (!group)
                take = w == 0;
            else if (strcmp(first, group) && !(!strcmp(group, "contact") && !strcmp(first, "contacts")))
                take = 0;
            else if (options)
                take = !strncmp(cut, "--", 2);
            else
                take = w == 1 && cut[0] >= 'a' && cut[0] <= 'z';
            if (!take || !cut[0])
                continue;
            char padded[80];
            snprintf(padded, sizeof padded, " %s ", cut);
            char have[2100];
            snprintf(have, sizeof have, " %s ", out);
            if (strstr(have, padded))
                continue;
            size_t len = strlen(out);
            snprintf(out + len, outsz - len, "%s%s", len ? " " : "", cut);
        }
    }
}

void cc_app_print_completion(FILE *f)
{
    char all[2048];
    words(NULL, 0, all, sizeof all);
    fputs("# bash completion for certcontacts(1), generated by "
          "`certcontacts help --completion` from the command table; do not edit.\n"
          "_certcontacts()\n{\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} cmd= sub= i w\n"
          "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "        w=${COMP_WORDS[i]}\n"
          "        case $w in -*) continue ;; esac\n"
          "        if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; fi\n"
          "    done\n"
          "    if [[ -z $cmd ]]; then\n", f);
    fprintf(f, "        COMPREPLY=($(compgen -W \"%s --server --key --profile --json --help\" -- "
               "\"$cur\"))\n        return\n    fi\n    case $cmd in\n", all);
    for (const char *p = all; *p;) {
        size_t n = strcspn(p, " ");
        char g[32], subs[2048], opts[2048];
        snprintf(g, sizeof g, "%.*s", (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
        if (!strcmp(g, "contacts"))
            continue; /* completed as contact (its words are collected there) */
        words(g, 0, subs, sizeof subs);
        words(g, 1, opts, sizeof opts);
        fprintf(f, "    %s%s)\n", g, !strcmp(g, "contact") ? "|contacts" : "");
        if (subs[0])
            fprintf(f, "        if [[ -z $sub ]]; then COMPREPLY=($(compgen -W \"%s\" -- "
                       "\"$cur\")); return; fi\n",
                    subs);
        fprintf(f, "        case $cur in -*) COMPREPLY=($(compgen -W \"%s --server --key "
                   "--profile --json --help\" -- \"$cur\")); return ;; esac\n"
                   "        COMPREPLY=($(compgen -f -- \"$cur\"))\n        ;;\n",
                opts);
    }
    fputs("    esac\n}\ncomplete -F _certcontacts certcontacts\n", f);
}
