/*
 * smtp.c — email over SMTP with libcurl: smtp:// upgraded with STARTTLS
 * (required or opportunistic, by configuration) or smtps://, an optional
 * login, and one MIME multipart/alternative message (text/plain and
 * text/html, UTF-8, quoted-printable) per call. The headers are built here:
 * From, To, Subject (RFC 2047 encoded words when not plain ASCII, folded to
 * fit 76 columns), Date (RFC 5322, UTC), Message-ID and MIME-Version.
 *
 * The outcome comes from the server's replies, which a libcurl debug
 * callback records (the verb of each command we send and the first failing
 * reply line; never command arguments, so never the AUTH exchange): a refused
 * recipient is an invalid target, a refused sender or login is our account,
 * 4xx and transport failures are worth a retry. In development mode with no
 * smtp_url the message goes to the log instead.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

#define HEADERS_MAX 16384
#define LINE_LIMIT 76   /* fold before this column (RFC 2047 and 5322 advice) */
#define EW_OVERHEAD 12  /* strlen("=?UTF-8?B?") + strlen("?=") */

/* ---- addresses ------------------------------------------------------------ */

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Copies s[0..n) without surrounding blanks into out (always terminated). */
static int copy_trimmed(const char *s, size_t n, char *out, size_t outsz)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n + 1 > outsz)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* An address usable in MAIL FROM / RCPT TO and in a header: local@domain,
 * nothing that would end the path or the header line. */
static int address_ok(const char *a)
{
    size_t n = strlen(a);
    const char *at = strrchr(a, '@');
    if (n < 3 || n > 254 || !at || at == a || !at[1])
        return 0;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || strchr("<>()[],;:\\\"", *p))
            return 0;
    return 1;
}

int cc_smtp_parse_address(const char *in, char *name, size_t namesz, char *addr,
                          size_t addrsz)
{
    const char *lt = strchr(in, '<');
    name[0] = addr[0] = '\0';
    if (!lt) {
        if (copy_trimmed(in, strlen(in), addr, addrsz))
            return -1;
        return address_ok(addr) ? 0 : -1;
    }
    const char *gt = strchr(lt, '>');
    if (!gt || *skip_ws(gt + 1))
        return -1;
    if (copy_trimmed(lt + 1, (size_t)(gt - lt - 1), addr, addrsz) || !address_ok(addr))
        return -1;
    if (copy_trimmed(in, (size_t)(lt - in), name, namesz))
        return -1;
    size_t nl = strlen(name);
    if (nl >= 2 && name[0] == '"' && name[nl - 1] == '"') {
        /* Unquote: drop the quotes and the backslashes of quoted pairs. */
        size_t j = 0;
        for (size_t i = 1; i + 1 < nl; i++) {
            if (name[i] == '\\' && i + 2 < nl)
                i++;
            name[j++] = name[i];
        }
        name[j] = '\0';
    }
    return 0;
}

/* ---- header encoding ------------------------------------------------------ */

/* Plain printable ASCII without "=?" can go as is; anything else (UTF-8,
 * control characters, CR/LF that would inject a header) is encoded. */
static int needs_encoding(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p >= 0x7f || (p[0] == '=' && p[1] == '?'))
            return 1;
    return 0;
}

static int fold(struct cc_buf *out, size_t *col)
{
    *col = 1;
    return cc_buf_puts(out, "\r\n ");
}

/* Appends s as RFC 2047 B-encoded words, each at most 75 characters, folding
 * between words so that lines stay within LINE_LIMIT where possible. Words
 * never split a UTF-8 sequence, so each decodes on its own. *col is the
 * current column, before and after. */
static int put_encoded_words(struct cc_buf *out, const char *s, size_t *col)
{
    size_t n = strlen(s), i = 0;
    char b64[64];
    while (i < n) {
        size_t room = *col < LINE_LIMIT ? LINE_LIMIT - *col : 0;
        size_t maxb = room > EW_OVERHEAD ? (room - EW_OVERHEAD) / 4 * 3 : 0;
        if (maxb > 45)
            maxb = 45; /* 60 base64 characters: a 72-character word */
        if (maxb < 12 && *col > 1) {
            if (fold(out, col))
                return -1;
            continue;
        }
        if (maxb < 3)
            maxb = 3;
        size_t take = n - i < maxb ? n - i : maxb;
        while (take && take < n - i && ((unsigned char)s[i + take] & 0xC0) == 0x80)
            take--;
        if (!take) /* not UTF-8 at all: split anywhere */
            take = n - i < maxb ? n - i : maxb;
        size_t bl = cc_base64_encode(s + i, take, b64, sizeof b64);
        if (cc_buf_puts(out, "=?UTF-8?B?") || cc_buf_append(out, b64, bl) ||
            cc_buf_puts(out, "?="))
            return -1;
        *col += EW_OVERHEAD + bl;
        i += take;
        if (i < n && fold(out, col))
            return -1;
    }
    return 0;
}

/* Appends printable ASCII text, folding at spaces when the line would pass
 * LINE_LIMIT (unfolding restores the exact text). */
static int put_ascii_folded(struct cc_buf *out, const char *s, size_t *col)
{
    int first = 1;
    while (first || *s) {
        const char *sp = strchr(s, ' ');
        size_t len = sp ? (size_t)(sp - s) : strlen(s);
        if (!first) {
            if (*col + 1 + len > LINE_LIMIT && *col > 1) {
                if (cc_buf_puts(out, "\r\n "))
                    return -1;
                *col = 1;
            } else {
                if (cc_buf_append(out, " ", 1))
                    return -1;
                (*col)++;
            }
        }
        if (cc_buf_append(out, s, len))
            return -1;
        *col += len;
        first = 0;
        if (!sp)
            break;
        s = sp + 1;
    }
    return 0;
}

/* Appends a display name: as is when it is a plain atom phrase, quoted when
 * it holds specials, encoded words when it is not plain ASCII. */
static int put_display_name(struct cc_buf *out, const char *name, size_t *col)
{
    if (needs_encoding(name))
        return put_encoded_words(out, name, col);
    if (!strpbrk(name, "()<>[]:;@\\,.\"")) {
        return put_ascii_folded(out, name, col);
    }
    if (cc_buf_append(out, "\"", 1))
        return -1;
    (*col)++;
    for (const char *p = name; *p; p++) {
        if ((*p == '"' || *p == '\\') && cc_buf_append(out, "\\", 1))
            return -1;
        if (cc_buf_append(out, p, 1))
            return -1;
        (*col) += 1 + (*p == '"' || *p == '\\');
    }
    (*col)++;
    return cc_buf_append(out, "\"", 1);
}

/* "Field: [name ]<addr>\r\n" (the bare address when there is no name). */
static int put_address_header(struct cc_buf *out, const char *field, const char *name,
                              const char *addr)
{
    size_t col = strlen(field) + 2;
    if (cc_buf_puts(out, field) || cc_buf_puts(out, ": "))
        return -1;
    if (!name || !*name)
        return cc_buf_puts(out, addr) || cc_buf_puts(out, "\r\n");
    if (put_display_name(out, name, &col))
        return -1;
    if (col + 3 + strlen(addr) > LINE_LIMIT) {
        if (cc_buf_puts(out, "\r\n <"))
            return -1;
    } else if (cc_buf_puts(out, " <")) {
        return -1;
    }
    return cc_buf_puts(out, addr) || cc_buf_puts(out, ">\r\n");
}

/* RFC 5322 date in UTC, with English names whatever the locale. */
static int put_date(struct cc_buf *out, int64_t now_s)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    time_t t = (time_t)now_s;
    if (!gmtime_r(&t, &tm))
        return -1;
    return cc_buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
                         days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
                         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int cc_smtp_build_headers(const char *from, const struct cc_email *m, int64_t now_s,
                          struct cc_buf *out, char *mail_from, size_t mail_from_sz, char *err,
                          size_t errsz)
{
    char from_name[256], from_addr[320], rnd[25];
    if (!from || cc_smtp_parse_address(from, from_name, sizeof from_name, from_addr,
                                       sizeof from_addr)) {
        snprintf(err, errsz, "smtp_from is not an email address or \"Name <address>\"");
        return -1;
    }
    if (!m->to || !address_ok(m->to)) {
        snprintf(err, errsz, "the recipient is not a usable email address");
        return -1;
    }
    if (strlen(from_addr) + 1 > mail_from_sz) {
        snprintf(err, errsz, "smtp_from is too long");
        return -1;
    }
    cc_strlcpy(mail_from, from_addr, mail_from_sz);
    cc_random_alnum(rnd, 24);
    size_t col = 9;
    if (put_address_header(out, "From", from_name, from_addr) ||
        put_address_header(out, "To", m->to_name, m->to) || cc_buf_puts(out, "Subject: ") ||
        (needs_encoding(m->subject ? m->subject : "")
             ? put_encoded_words(out, m->subject, &col)
             : put_ascii_folded(out, m->subject ? m->subject : "", &col)) ||
        cc_buf_puts(out, "\r\n") || put_date(out, now_s) ||
        cc_buf_printf(out, "Message-ID: <%s.%lld@%s>\r\n", rnd, (long long)now_s,
                      strrchr(from_addr, '@') + 1) ||
        cc_buf_puts(out, "MIME-Version: 1.0\r\n")) {
        snprintf(err, errsz, "the message headers are too long");
        return -1;
    }
    return 0;
}

/* Splits the header block into one libcurl list entry per header, keeping
 * folded continuation lines inside their header. Returns NULL on failure;
 * the caller frees the list with curl_slist_free_all(). */
static struct curl_slist *header_list(const char *block)
{
    struct curl_slist *l = NULL;
    struct cc_buf one;
    cc_buf_init(&one, HEADERS_MAX);
    const char *p = block;
    while (*p) {
        const char *e = strstr(p, "\r\n");
        while (e && (e[2] == ' ' || e[2] == '\t'))
            e = strstr(e + 2, "\r\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        cc_buf_reset(&one);
        if (cc_buf_append(&one, p, n))
            goto fail;
        struct curl_slist *t = curl_slist_append(l, one.data);
        if (!t)
            goto fail;
        l = t;
        p += n + (e ? 2 : 0);
    }
    /* libcurl adds the boundary to a Content-Type of its own root part. */
    struct curl_slist *t = curl_slist_append(l, "Content-Type: multipart/alternative");
    if (!t)
        goto fail;
    cc_buf_free(&one);
    return t;
fail:
    cc_buf_free(&one);
    curl_slist_free_all(l);
    return NULL;
}

/* ---- the SMTP conversation ------------------------------------------------ */

struct trace {
    char cmd[12];         /* verb of the last command sent */
    char fail_cmd[12];    /* the command the first 4xx/5xx reply answered */
    long fail_code;       /* that reply's code, 0 if none */
    char fail_reply[160]; /* that reply's first line, control characters removed */
    char last_reply[160]; /* the last reply line */
};

static void copy_line(char *dst, size_t dstsz, const char *src, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < dstsz; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '\r' || c == '\n')
            break;
        dst[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    dst[j] = '\0';
}

/* Records command verbs and reply lines; ignores command arguments and
 * message data, so credentials and the code never pass through here. */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
    static const char *const verbs[] = {"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL",
                                        "RCPT", "DATA", "QUIT", "RSET", "NOOP"};
    struct trace *t = arg;
    (void)h;
    if (type == CURLINFO_HEADER_OUT) {
        for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
            size_t vl = strlen(verbs[i]);
            if (size >= vl && !strncasecmp(data, verbs[i], vl) &&
                (size == vl || data[vl] == ' ' || data[vl] == '\r')) {
                cc_strlcpy(t->cmd, verbs[i], sizeof t->cmd);
                break;
            }
        }
    } else if (type == CURLINFO_HEADER_IN && size >= 3) {
        copy_line(t->last_reply, sizeof t->last_reply, data, size);
        long code = 0;
        if (data[0] >= '1' && data[0] <= '5' && data[1] >= '0' && data[1] <= '9' &&
            data[2] >= '0' && data[2] <= '9')
            code = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');
        if (code >= 400 && !t->fail_code) {
            t->fail_code = code;
            cc_strlcpy(t->fail_cmd, t->cmd, sizeof t->fail_cmd);
            copy_line(t->fail_reply, sizeof t->fail_reply, data, size);
        }
    }
    return 0;
}

/* Refused recipient: an address problem (5.1.x, or 550/551/553/501 without
 * an enhanced code) is an invalid target; policy and the rest are refusals. */
static enum cc_send_status rcpt_status(long code, const char *reply)
{
    const char *enh = strlen(reply) > 4 ? skip_ws(reply + 4) : "";
    if (!strncmp(enh, "5.1.", 4))
        return CC_SEND_INVALID_TARGET;
    if (!strncmp(enh, "5.7.", 4) || !strncmp(enh, "5.2.", 4) || !strncmp(enh, "5.3.", 4))
        return CC_SEND_REJECTED;
    return (code == 550 || code == 551 || code == 553 || code == 501) ? CC_SEND_INVALID_TARGET
                                                                      : CC_SEND_REJECTED;
}

/* Turns libcurl's result and the recorded replies into *res. */
static void classify(CURLcode cr, long resp_code, long oserr, const struct trace *t,
                     const char *where, const char *errbuf, int64_t timeout_ms,
                     struct cc_send_result *res)
{
    char code[32];
    long sc = t->fail_code ? t->fail_code : resp_code;
    const char *reply = t->fail_code ? t->fail_reply : t->last_reply;
    if (sc >= 400)
        snprintf(code, sizeof code, "%ld", sc);
    else
        snprintf(code, sizeof code, "curl:%d", (int)cr);
    if (cr == CURLE_OK) {
        snprintf(code, sizeof code, "%ld", resp_code ? resp_code : 250);
        cc_delivery_set(res, CC_SEND_OK, code, "accepted by the SMTP server: %s", reply);
        return;
    }
    switch (cr) {
    case CURLE_OPERATION_TIMEDOUT:
        cc_delivery_set(res, CC_SEND_RETRY, code, "SMTP server %s did not answer within %lld ms",
                        where, (long long)timeout_ms);
        return;
    case CURLE_COULDNT_CONNECT:
        if (oserr == ECONNREFUSED)
            cc_delivery_set(res, CC_SEND_RETRY, code, "SMTP server %s refused the connection",
                            where);
        else
            cc_delivery_set(res, CC_SEND_RETRY, code, "SMTP server %s could not be reached: %s",
                            where, errbuf);
        return;
    case CURLE_COULDNT_RESOLVE_HOST:
        cc_delivery_set(res, CC_SEND_RETRY, code, "SMTP server %s could not be resolved", where);
        return;
    case CURLE_LOGIN_DENIED:
        cc_delivery_set(res, CC_SEND_GATEWAY_ACCOUNT, code,
                        "SMTP server %s refused the login (smtp_user, smtp_password): %s", where,
                        reply);
        return;
    case CURLE_USE_SSL_FAILED:
        cc_delivery_set(res, CC_SEND_GATEWAY_ACCOUNT, code,
                        "SMTP server %s does not offer STARTTLS, and smtp_starttls is required",
                        where);
        return;
    case CURLE_PEER_FAILED_VERIFICATION:
        cc_delivery_set(res, CC_SEND_GATEWAY_ACCOUNT, code,
                        "the TLS certificate of SMTP server %s is not trusted: %s", where, errbuf);
        return;
    default:
        break;
    }
    if (sc >= 500) {
        const char *cmd = t->fail_code ? t->fail_cmd : t->cmd;
        if (!strcmp(cmd, "AUTH") || sc == 530 || sc == 534 || sc == 535 || sc == 538)
            cc_delivery_set(res, CC_SEND_GATEWAY_ACCOUNT, code,
                            "SMTP server %s requires a working login (smtp_user, "
                            "smtp_password): %s", where, reply);
        else if (!strcmp(cmd, "RCPT"))
            cc_delivery_set(res, rcpt_status(sc, reply), code,
                            "SMTP server refused the recipient: %s", reply);
        else if (!strcmp(cmd, "MAIL"))
            cc_delivery_set(res, CC_SEND_GATEWAY_ACCOUNT, code,
                            "SMTP server refused the sender (smtp_from): %s", reply);
        else
            cc_delivery_set(res, CC_SEND_REJECTED, code, "SMTP server refused the message: %s",
                            reply);
        return;
    }
    if (sc >= 400) {
        cc_delivery_set(res, CC_SEND_RETRY, code, "SMTP server deferred the message: %s", reply);
        return;
    }
    cc_delivery_set(res, CC_SEND_RETRY, code, "sending through SMTP server %s failed: %s", where,
                    errbuf[0] ? errbuf : curl_easy_strerror(cr));
}

/* Copies text with every bare LF made CRLF: libcurl's quoted-printable
 * encoder only takes CRLF for a line break (a lone LF would become "=0A").
 * The caller frees the result with cc_free(). */
static char *crlf_text(const char *text)
{
    size_t n = strlen(text), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += text[i] == '\n' && (i == 0 || text[i - 1] != '\r');
    char *out = cc_malloc(n + extra + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
            *o++ = '\r';
        *o++ = text[i];
    }
    *o = '\0';
    return out;
}

/* Development mode without an SMTP server: the message goes to the log. */
static int send_log(const struct cc_email *m, struct cc_send_result *res)
{
    char masked[CC_MASKED_MAX];
    cc_mask_email(m->to, masked, sizeof masked);
    cc_log(CC_LOG_INFO, "email (development mode: not sent)", "to", masked, "subject",
           m->subject ? m->subject : "", "text", m->text ? m->text : "", NULL);
    cc_delivery_set(res, CC_SEND_OK, "log", "written to the log (development mode)");
    return 0;
}

/* What an SMTP transfer keeps until it finished. */
struct smtp_ctx {
    struct trace tr;
};

static void smtp_ctx_free(void *p)
{
    cc_free(p);
}

static void smtp_complete(struct cc_xfer *x, int code)
{
    struct smtp_ctx *c = x->ctx;
    long resp = 0, oserr = 0;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &resp);
    curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &oserr);
    classify((CURLcode)code, resp, oserr, &c->tr, x->where, x->errbuf, x->timeout_ms, &x->res);
}

/* Prepares m (borrowed) for cfg's SMTP server (borrowed). The server
 * accepted the message when it answers 250 after DATA. */
int cc_email_prepare(const struct cc_delivery_config *cfg, const struct cc_email *m,
                     struct cc_send_result *res, struct cc_xfer **out)
{
    struct cc_xfer *x = NULL;
    struct smtp_ctx *c = NULL;
    char *text = NULL, *html = NULL;
    struct cc_buf hdr;
    char mail_from[330], angle[340], err[160];
    memset(res, 0, sizeof *res);
    *out = NULL;
    cc_buf_init(&hdr, HEADERS_MAX);
    if (!cfg->smtp_url || !*cfg->smtp_url) {
        cc_buf_free(&hdr);
        if (cfg->dev)
            return send_log(m, res);
        cc_delivery_set(res, CC_SEND_NOT_CONFIGURED, "", "no SMTP server is configured");
        return -1;
    }
    if (cc_smtp_build_headers(cfg->smtp_from, m, (int64_t)time(NULL), &hdr, mail_from,
                              sizeof mail_from, err, sizeof err)) {
        cc_delivery_set(res, m->to && address_ok(m->to) ? CC_SEND_NOT_CONFIGURED
                                                        : CC_SEND_INVALID_TARGET,
                        "", "%s", err);
        goto out;
    }
    if (!(x = cc_xfer_new()) || !(x->hl = header_list(hdr.data))) {
        cc_delivery_set(res, CC_SEND_RETRY, "", "libcurl could not start a request");
        goto out;
    }
    c = cc_calloc(1, sizeof *c);
    x->ctx = c;
    x->ctx_free = smtp_ctx_free;
    x->complete = smtp_complete;
    x->timeout_ms = cfg->timeout_ms;
    cc_strlcpy(x->who, "SMTP server", sizeof x->who);
    cc_delivery_url_where(cfg->smtp_url, x->where, sizeof x->where);
    CURL *h = x->h;
    snprintf(angle, sizeof angle, "<%s>", m->to);
    if (!(x->rcpt = curl_slist_append(NULL, angle)))
        goto oom;
    text = crlf_text(m->text ? m->text : "");
    html = crlf_text(m->html ? m->html : "");
    x->mime = curl_mime_init(h);
    curl_mimepart *part = curl_mime_addpart(x->mime);
    if (!part || curl_mime_data(part, text, CURL_ZERO_TERMINATED) ||
        curl_mime_type(part, "text/plain; charset=UTF-8") ||
        curl_mime_encoder(part, "quoted-printable"))
        goto oom;
    part = curl_mime_addpart(x->mime);
    if (!part || curl_mime_data(part, html, CURL_ZERO_TERMINATED) ||
        curl_mime_type(part, "text/html; charset=UTF-8") ||
        curl_mime_encoder(part, "quoted-printable"))
        goto oom;
    snprintf(angle, sizeof angle, "<%s>", mail_from);
    curl_easy_setopt(h, CURLOPT_URL, cfg->smtp_url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     (long)(cfg->smtp_require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    if (cfg->smtp_user && *cfg->smtp_user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, cfg->smtp_user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->smtp_password ? cfg->smtp_password : "");
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, angle); /* libcurl copies strings */
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, x->rcpt);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hl);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, x->mime);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L); /* feeds on_debug; nothing is printed */
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, &c->tr);
    *out = x;
    x = NULL;
    goto out;
oom:
    cc_delivery_set(res, CC_SEND_RETRY, "", "out of memory building the message");
out:
    cc_xfer_free(x);
    cc_buf_free(&hdr);
    cc_free(text); /* curl_mime_data copied them */
    cc_free(html);
    return *out ? 0 : -1;
}

/* Sends m: prepared, then run alone; blocks for at most cfg->timeout_ms. */
int cc_send_email(const struct cc_delivery_config *cfg, const struct cc_email *m,
                  struct cc_send_result *res)
{
    struct cc_xfer *x;
    if (cc_email_prepare(cfg, m, res, &x) || !x)
        return cc_delivery_rc(res);
    return cc_xfer_send_one(x, res, NULL);
}
