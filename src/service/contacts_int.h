/*
 * contacts_int.h — what the contact rules (contacts.c) share with the
 * import's row rules (contacts_import.c): the validated form of a request's
 * fields, where its problems are collected, and the three steps a create or
 * an update is made of (contact_fields.c). Inside the service layer only.
 */
#ifndef CC_SERVICE_CONTACTS_INT_H
#define CC_SERVICE_CONTACTS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "service/service.h"
#include "service/service_int.h"

/* A validated webhook, before it is merged with the stored list. */
struct webhook_new {
    int mention_mobile;        /* -1: not sent */
    enum cc_webhook_kind kind;
    char url[CC_URL_MAX + 1];  /* masked (as answers show it) */
    int masked_ref;            /* url was sent masked: the contact's robot shown so */
    char url_tag[CC_URL_TAG_LEN + 1];
    /* url's tag under each key the service holds: a robot stored before a
     * master-key rotation finished is found by one of them. */
    char url_tags[SVC_KEYS_MAX][CC_URL_TAG_LEN + 1];
    int n_url_tags;
    uint8_t url_enc[CC_URL_ENC_MAX];
    size_t url_enc_len;
    enum cc_secret_state secret_state;
    uint8_t secret_enc[CC_ENC_MAX];
    size_t secret_enc_len;
};

/* The validated form of a cc_contact_input. */
struct contact_fields {
    unsigned present;
    char name[CC_NAME_MAX_BYTES + 1];
    int has_email;
    char email[CC_EMAIL_MAX + 1], email_norm[CC_EMAIL_MAX + 1];
    char mobile[CC_MOBILE_MAX + 1];
    int has_id_card;
    char id_card_masked[CC_IDCARD_LEN + 1];
    uint8_t id_card_enc[CC_ENC_MAX];
    size_t id_card_enc_len;
    char language[CC_LANG_MAX + 1];
    int n_webhooks;
    struct webhook_new webhooks[CC_WEBHOOKS_MAX];
};

/* Where a request's problems go: err collects them, each at prefix + its
 * path ("contact." for an application's inline contact, else ""). */
struct collect {
    struct cc_error *err;
    const char *prefix;
};

/* Adds one field's error (one, as a validator set it) to col's problems at
 * path (contact_fields.c says how); returns CC_OK, or the code of a fault
 * of the server, which replaces the problems and stops the request. */
enum cc_err svc_contact_note(struct collect *col, const struct cc_error *one, const char *path);
/* "webhooks[i].part" in buf. */
const char *svc_hook_path(char *buf, size_t bufsz, size_t i, const char *part);
/* Validates the fields in->present names into f, every problem at once
 * (contacts.c says how they are reported); `creating`: as a create. */
enum cc_err svc_contact_validate(const struct cc_service *svc, const struct cc_contact_input *in,
                                 int creating, const char *prefix, struct contact_fields *f,
                                 struct cc_error *err);
/* Adds a problem to col for each of f's addresses another contact of the
 * account (not self) has, naming it. Returns CC_OK, or a database error. */
enum cc_err svc_contact_check_unique(struct cc_tx *tx, int64_t account, int64_t self,
                                     const struct contact_fields *f, struct collect *col);
/* Applies the validated fields to c; a changed address becomes unverified. */
void svc_contact_apply_fields(const struct contact_fields *f, struct cc_contact *c);

#endif
