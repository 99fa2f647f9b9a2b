/*
 * outbox.c — the service's side of delivery: who gets what. The dispatcher
 * (delivery/) claims due notifications and asks the resolver here what to
 * do with each (struct cc_delivery_resolver): the rules are the service's
 * — a notification goes only to a verified email address or mobile, a
 * deleted contact or a removed robot gets nothing, a robot's mention only
 * names a verified mobile — and so are the master key that opens a robot's
 * signing secret and the account's own templates, rendered here with core's
 * renderer. The test sends (test_send.c) render and fill their message with
 * the same functions, so a test is the real message.
 *
 * A batch reads each of its events, contacts and template texts once,
 * whatever number of notifications share them, as the dispatcher did when
 * it read them itself.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

enum svc_channel svc_channel_check(const struct cc_contact *c, const char *channel)
{
    if (!strcmp(channel, "email"))
        return !c->has_email ? SVC_CHANNEL_NONE
             : !c->email_verified_at ? SVC_CHANNEL_UNVERIFIED : SVC_CHANNEL_OK;
    if (!strcmp(channel, "mobile"))
        return !c->mobile_verified_at ? SVC_CHANNEL_UNVERIFIED : SVC_CHANNEL_OK;
    return SVC_CHANNEL_OK;
}

/* ---- templates ---------------------------------------------------------------------- */
/* An account's own texts for one (event type, channel, language), found or
 * not. */
struct texts {
    int found;
    char title[CC_TEMPLATE_TITLE_MAX + 1];
    char body[CC_TEMPLATE_BODY_MAX + 1];
};

/* The store's name of a channel ("email", "mobile"/"sms", "webhook"/"robot"),
 * or NULL. */
static const char *template_channel(const char *channel_kind)
{
    if (!channel_kind)
        return NULL;
    if (!strcmp(channel_kind, "email"))
        return "email";
    if (!strcmp(channel_kind, "sms") || !strcmp(channel_kind, "mobile"))
        return "sms";
    if (!strcmp(channel_kind, "robot") || !strcmp(channel_kind, "webhook"))
        return "robot";
    return NULL;
}

static const char *language_of(const char *lang)
{
    return lang && !strcmp(lang, "zh-CN") ? "zh-CN" : "en";
}

/* Reads the account's own texts into *out (out->found says whether it has
 * them). A failed lookup is logged, reads as not found and is returned. */
static enum cc_err texts_get(struct cc_store *store, int64_t account_id, enum cc_event_type t,
                             const char *channel_kind, const char *lang, struct texts *out)
{
    const char *channel = template_channel(channel_kind);
    struct cc_error err;
    cc_error_clear(&err);
    out->found = 0;
    if (!channel || (unsigned)t >= CC_EVENT_COUNT || t == CC_EVENT_NONE)
        return CC_OK;
    enum cc_err rc = cc_store_template_get(store, account_id, cc_event_type_name(t), channel,
                                           language_of(lang), out->title, sizeof out->title,
                                           out->body, sizeof out->body, &err);
    if (rc == CC_OK)
        out->found = 1;
    if (rc && rc != CC_ERR_NOT_FOUND) {
        cc_log(CC_LOG_WARN, "template lookup failed; the built-in text was used", "error",
               err.message, NULL);
        return rc;
    }
    return CC_OK;
}

/* Renders the formats in parts (CC_RENDER_*) with the account's texts (NULL
 * or not found: the built-in text). */
static void render_with(const struct texts *texts, enum cc_event_type t, const char *lang,
                        const void *data, const char *contact_name, int test, unsigned parts,
                        struct cc_rendered *out)
{
    const char *language = language_of(lang);
    if (texts && texts->found)
        cc_render_parts(texts->title, texts->body, t, language, data, contact_name, test, parts,
                        out);
    else
        cc_render_event_parts(t, language, data, contact_name, test, parts, out);
}

/* The formats a channel sends: a robot its text and markdown (which one
 * depends on the robot and on a mention), an email its text and HTML, an
 * SMS its text. */
static unsigned channel_parts(const char *channel)
{
    if (!strcmp(channel, "webhook"))
        return CC_RENDER_TEXT | CC_RENDER_MARKDOWN;
    if (!strcmp(channel, "email"))
        return CC_RENDER_TEXT | CC_RENDER_HTML;
    return CC_RENDER_TEXT;
}

enum cc_err svc_render_for_account(struct cc_service *svc, int64_t account_id,
                                   enum cc_event_type t, const char *channel_kind,
                                   const char *lang, const void *data, const char *contact_name,
                                   int test, struct cc_rendered *out)
{
    struct texts *v = cc_malloc(sizeof *v);
    enum cc_err rc = texts_get(svc->store, account_id, t, channel_kind, lang, v);
    render_with(v, t, lang, data, contact_name, test, CC_RENDER_ALL, out);
    cc_free(v);
    return rc;
}

void svc_outgoing_fill(const struct cc_contact *c, const char *channel,
                       const struct cc_webhook *w, const char *url, const char *secret,
                       struct cc_outgoing *o)
{
    o->action = CC_OUT_SEND;
    o->why[0] = '\0';
    o->later_at = 0;
    cc_strlcpy(o->channel, channel, sizeof o->channel);
    cc_strlcpy(o->lang, language_of(c->language), sizeof o->lang);
    cc_strlcpy(o->to_name, c->name, sizeof o->to_name);
    o->to[0] = o->url[0] = o->secret[0] = o->mention_mobile[0] = '\0';
    o->kind = 0;
    if (!strcmp(channel, "email")) {
        cc_strlcpy(o->to, c->email, sizeof o->to);
        o->was_broken = c->email_broken[0] != '\0';
    } else if (!strcmp(channel, "mobile")) {
        cc_strlcpy(o->to, c->mobile, sizeof o->to);
        o->was_broken = c->mobile_broken[0] != '\0';
    } else {
        o->kind = w->kind;
        cc_strlcpy(o->url, url ? url : "", sizeof o->url);
        if (secret)
            cc_strlcpy(o->secret, secret, sizeof o->secret);
        /* only a verified mobile is ever mentioned */
        if (w->mention_mobile && c->mobile_verified_at)
            cc_strlcpy(o->mention_mobile, c->mobile, sizeof o->mention_mobile);
        o->was_broken = w->broken[0] != '\0';
    }
}

/* ---- the resolver ------------------------------------------------------------------- */
/* What one batch read, once each: events (with their data parsed), contacts
 * (with their robots' secrets, opened when first needed) and the account's
 * template texts. */
struct cached_event {
    int64_t account_id, id;
    enum cc_err rc;
    char why[256];
    struct cc_event ev;
    json_t *data;
};

struct cached_contact {
    int64_t account_id, id;
    enum cc_err rc;
    char why[256];
    struct cc_contact c;
    int opened[CC_WEBHOOKS_MAX];            /* 0 not yet, 1 in secret[], -1 cannot be */
    char secret[CC_WEBHOOKS_MAX][CC_ENC_MAX];
    int url_opened[CC_WEBHOOKS_MAX];        /* the same for url[] */
    char url[CC_WEBHOOKS_MAX][CC_URL_MAX + 1];
};

struct cached_texts {
    int64_t account_id;
    enum cc_event_type t;
    char channel[8], lang[8];
    struct texts texts;
};

struct resolve_batch {
    struct cc_service *svc;
    struct cached_event **events;
    size_t nevents, capevents;
    struct cached_contact **contacts;
    size_t ncontacts, capcontacts;
    struct cached_texts **texts;
    size_t ntexts, captexts;
    /* The last message rendered: a contact's notifications of one event are
     * claimed together (one a robot, say), and each renders the same. */
    struct {
        const struct cached_event *e;
        const struct cached_contact *cc;
        const struct texts *texts;
        unsigned parts;
        const struct cc_rendered *r;
    } last;
};

/* p, or p grown to hold one more entry of size bytes after n of them. */
static void *room_for_one(void *p, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return p;
    *cap = *cap ? *cap * 2 : 16;
    return cc_realloc(p, *cap * size);
}

/* An event does not change once written (but for its skipped list, which
 * delivery does not read), so each thread that resolves keeps the last few
 * it read, data parsed, from one batch to the next: an event of a hundred
 * contacts is read once a thread rather than once a batch. Only events are
 * kept: contacts are read again in each batch's snapshot, so a deleted
 * contact (or account) still stops its notifications at once. */
#define EVENTS_KEPT 8

struct kept_event {
    int64_t account_id, id;
    char type[sizeof ((struct cc_event *)0)->type];
    json_t *data;
};

struct kept_events {
    struct kept_event e[EVENTS_KEPT];
    unsigned next;
};

static pthread_key_t kept_key;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;
static int kept_ok;

static void kept_free(void *p)
{
    struct kept_events *k = p;
    for (size_t i = 0; i < EVENTS_KEPT; i++)
        json_decref(k->e[i].data);
    cc_free(k);
}

static void kept_init(void)
{
    kept_ok = pthread_key_create(&kept_key, kept_free) == 0;
}

/* This thread's kept events, NULL when a thread cannot keep any. */
static struct kept_events *kept_events(void)
{
    pthread_once(&kept_once, kept_init);
    if (!kept_ok)
        return NULL;
    struct kept_events *k = pthread_getspecific(kept_key);
    if (!k) {
        k = cc_calloc(1, sizeof *k);
        if (pthread_setspecific(kept_key, k)) {
            cc_free(k);
            return NULL;
        }
    }
    return k;
}

static const struct cached_event *batch_event(struct resolve_batch *b, int64_t account_id,
                                              int64_t id)
{
    for (size_t i = 0; i < b->nevents; i++)
        if (b->events[i]->id == id && b->events[i]->account_id == account_id)
            return b->events[i];
    struct cached_event *e = cc_calloc(1, sizeof *e);
    e->account_id = account_id;
    e->id = id;
    struct kept_events *k = kept_events();
    const struct kept_event *hit = NULL;
    for (size_t i = 0; k && i < EVENTS_KEPT && !hit; i++)
        if (k->e[i].data && k->e[i].id == id && k->e[i].account_id == account_id)
            hit = &k->e[i];
    if (hit) {
        cc_strlcpy(e->ev.type, hit->type, sizeof e->ev.type);
        e->data = json_incref(hit->data);
    } else {
        struct cc_error err;
        e->rc = cc_store_event_get(b->svc->store, account_id, id, &e->ev, &err);
        if (e->rc)
            cc_strlcpy(e->why, err.message, sizeof e->why);
        else
            e->data = json_loads(e->ev.data ? e->ev.data : "{}", 0, NULL);
        if (k && e->data) {
            struct kept_event *slot = &k->e[k->next++ % EVENTS_KEPT];
            json_decref(slot->data);
            slot->account_id = account_id;
            slot->id = id;
            cc_strlcpy(slot->type, e->ev.type, sizeof slot->type);
            slot->data = json_incref(e->data);
        }
    }
    b->events = room_for_one(b->events, b->nevents, &b->capevents, sizeof *b->events);
    b->events[b->nevents++] = e;
    return e;
}

static struct cached_contact *batch_contact(struct resolve_batch *b, int64_t account_id,
                                            int64_t id)
{
    for (size_t i = 0; i < b->ncontacts; i++)
        if (b->contacts[i]->id == id && b->contacts[i]->account_id == account_id)
            return b->contacts[i];
    struct cc_error err;
    struct cached_contact *c = cc_calloc(1, sizeof *c);
    c->account_id = account_id;
    c->id = id;
    c->rc = cc_store_contact_get(b->svc->store, account_id, id, &c->c, &err);
    if (c->rc)
        cc_strlcpy(c->why, err.message, sizeof c->why);
    b->contacts = room_for_one(b->contacts, b->ncontacts, &b->capcontacts, sizeof *b->contacts);
    b->contacts[b->ncontacts++] = c;
    return c;
}

static const struct texts *batch_texts(struct resolve_batch *b, int64_t account_id,
                                       enum cc_event_type t, const char *channel,
                                       const char *lang)
{
    for (size_t i = 0; i < b->ntexts; i++) {
        const struct cached_texts *x = b->texts[i];
        if (x->account_id == account_id && x->t == t && !strcmp(x->channel, channel) &&
            !strcmp(x->lang, lang))
            return &x->texts;
    }
    struct cached_texts *x = cc_calloc(1, sizeof *x);
    x->account_id = account_id;
    x->t = t;
    cc_strlcpy(x->channel, channel, sizeof x->channel);
    cc_strlcpy(x->lang, lang, sizeof x->lang);
    texts_get(b->svc->store, account_id, t, channel, lang, &x->texts);
    b->texts = room_for_one(b->texts, b->ntexts, &b->captexts, sizeof *b->texts);
    b->texts[b->ntexts++] = x;
    return &x->texts;
}

/* The full URL of robot i of cc (opened once a batch), NULL when it cannot
 * be opened with this master key. */
static const char *batch_url(struct resolve_batch *b, struct cached_contact *cc, int i)
{
    if (!cc->url_opened[i]) {
        struct cc_error err;
        cc->url_opened[i] =
            svc_url_open(b->svc, &cc->c.webhooks[i], cc->url[i], sizeof cc->url[i], &err) ? -1
                                                                                          : 1;
    }
    return cc->url_opened[i] == 1 ? cc->url[i] : NULL;
}

/* The signing secret of robot i of cc (opened once a batch), "" for an
 * unsigned robot, NULL when it cannot be opened with this master key. */
static const char *batch_secret(struct resolve_batch *b, struct cached_contact *cc, int i)
{
    const struct cc_webhook *w = &cc->c.webhooks[i];
    if (!w->has_secret)
        return "";
    if (!cc->opened[i]) {
        struct cc_error err;
        cc->opened[i] = svc_open(b->svc, AAD_WEBHOOK, w->secret_enc, w->secret_enc_len,
                                 cc->secret[i], sizeof cc->secret[i], &err)
                            ? -1 : 1;
    }
    return cc->opened[i] == 1 ? cc->secret[i] : NULL;
}

static void batch_free(struct resolve_batch *b)
{
    for (size_t i = 0; i < b->nevents; i++) {
        cc_event_free(&b->events[i]->ev);
        json_decref(b->events[i]->data);
        cc_free(b->events[i]);
    }
    for (size_t i = 0; i < b->ncontacts; i++) {
        /* what was opened: the rest of each buffer is calloc's zeros */
        struct cached_contact *cc = b->contacts[i];
        for (int w = 0; w < CC_WEBHOOKS_MAX; w++) {
            if (cc->opened[w])
                OPENSSL_cleanse(cc->secret[w], strnlen(cc->secret[w], sizeof cc->secret[w]));
            if (cc->url_opened[w])
                OPENSSL_cleanse(cc->url[w], strnlen(cc->url[w], sizeof cc->url[w]));
        }
        cc_free(cc);
    }
    for (size_t i = 0; i < b->ntexts; i++)
        cc_free(b->texts[i]);
    cc_free(b->events);
    cc_free(b->contacts);
    cc_free(b->texts);
}

static void not_sent(struct cc_outgoing *o, enum cc_outgoing_action action, const char *why,
                     int64_t later_at)
{
    o->action = action;
    cc_strlcpy(o->why, why, sizeof o->why);
    o->later_at = later_at;
    o->channel[0] = o->url[0] = o->secret[0] = '\0';
}

/* The formats in parts of src into dst (the others empty). */
static void rendered_copy(struct cc_rendered *dst, const struct cc_rendered *src, unsigned parts)
{
    cc_strlcpy(dst->title, src->title, sizeof dst->title);
    cc_strlcpy(dst->text, parts & CC_RENDER_TEXT ? src->text : "", sizeof dst->text);
    cc_strlcpy(dst->markdown, parts & CC_RENDER_MARKDOWN ? src->markdown : "",
               sizeof dst->markdown);
    cc_strlcpy(dst->html, parts & CC_RENDER_HTML ? src->html : "", sizeof dst->html);
}

/* What to do with n: its event and contact as they are now decide. */
static void resolve_one(struct resolve_batch *b, const struct cc_notification *n,
                        struct cc_outgoing *o)
{
    const struct cached_event *e = batch_event(b, n->account_id, n->event_id);
    if (e->rc) {
        not_sent(o, e->rc == CC_ERR_NOT_FOUND ? CC_OUT_CANCEL : CC_OUT_LATER, e->why, 0);
        return;
    }
    struct cached_contact *cc = batch_contact(b, n->account_id, n->contact_id);
    if (cc->rc == CC_ERR_NOT_FOUND) {
        not_sent(o, CC_OUT_CANCEL, "the contact was deleted", 0);
        return;
    }
    if (cc->rc) {
        not_sent(o, CC_OUT_LATER, cc->why, cc_now_ms() + 1000);
        return;
    }
    const struct cc_contact *c = &cc->c;
    const struct cc_webhook *w = NULL;
    const char *secret = NULL, *url = NULL;
    if (!strcmp(n->channel, "email") || !strcmp(n->channel, "mobile")) {
        if (svc_channel_check(c, n->channel) != SVC_CHANNEL_OK) {
            not_sent(o, CC_OUT_CANCEL,
                     !strcmp(n->channel, "email")
                         ? "the contact's email address is no longer verified"
                         : "the contact's mobile number is no longer verified",
                     0);
            return;
        }
    } else {
        int i = 0;
        while (i < c->n_webhooks && c->webhooks[i].id != n->webhook_id)
            i++;
        if (i == c->n_webhooks) {
            not_sent(o, CC_OUT_CANCEL, "the robot was removed from the contact", 0);
            return;
        }
        w = &c->webhooks[i];
        if (!(url = batch_url(b, cc, i))) {
            not_sent(o, CC_OUT_FAIL, "the robot's URL cannot be decrypted with this master key",
                     0);
            return;
        }
        if (!(secret = batch_secret(b, cc, i))) {
            not_sent(o, CC_OUT_FAIL, "the robot's secret cannot be decrypted with this master key",
                     0);
            return;
        }
    }
    svc_outgoing_fill(c, n->channel, w, url, secret, o);
    enum cc_event_type t = cc_event_type_parse(e->ev.type);
    const struct texts *texts = batch_texts(b, n->account_id, t, n->channel, o->lang);
    unsigned parts = channel_parts(n->channel);
    if (b->last.r && b->last.e == e && b->last.cc == cc && b->last.texts == texts &&
        b->last.parts == parts) {
        rendered_copy(&o->r, b->last.r, parts);
        return;
    }
    render_with(texts, t, o->lang, e->data, c->name, 0, parts, &o->r);
    b->last.e = e;
    b->last.cc = cc;
    b->last.texts = texts;
    b->last.parts = parts;
    b->last.r = &o->r;
}

static void resolve(void *ctx, struct cc_notification *const *ns, size_t n,
                    struct cc_outgoing *out)
{
    struct resolve_batch b = {.svc = ctx};
    /* the batch's events, contacts and texts read in one snapshot, with one
     * lock of the database instead of one a read */
    cc_store_read_hold(b.svc->store, 1);
    for (size_t i = 0; i < n; i++)
        resolve_one(&b, ns[i], &out[i]);
    cc_store_read_hold(b.svc->store, 0);
    batch_free(&b);
}

void cc_outbox_resolver(struct cc_service *svc, struct cc_delivery_resolver *out)
{
    out->ctx = svc;
    out->resolve = resolve;
}
