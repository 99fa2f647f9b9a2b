/*
 * limits.h — the limits of certcontacts in one place, as SQLite keeps
 * sqliteLimit.h: how much a request, a page, a field or a batch may hold.
 * Each is a named constant with what it bounds and why; a build may
 * override one with -DNAME=VALUE. Limits an operator would want to change
 * at run time are options (certcontacts.conf.example): those named here are
 * their defaults or their hard ceilings, and say which option it is.
 *
 * The sizes of the model's own fields (name, email, mobile, URL, secret,
 * template texts) are in core/model.h next to the records they size.
 */
#ifndef CC_LIMITS_H
#define CC_LIMITS_H

/* ---- requests ------------------------------------------------------------ */
/* Request body bytes by default (option max_body_bytes, 1 KiB to 16 MiB). */
#ifndef CC_BODY_MAX_DEFAULT
#define CC_BODY_MAX_DEFAULT 65536
#endif
/* Bytes of a body past the cap read and thrown away so the client gets its 413 rather than
 * a reset; past it the connection is closed. */
#ifndef CC_BODY_DISCARD_MAX
#define CC_BODY_DISCARD_MAX (1024 * 1024)
#endif
/* Simultaneous HTTP connections by default (option max_connections). */
#ifndef CC_CONNECTIONS_MAX_DEFAULT
#define CC_CONNECTIONS_MAX_DEFAULT 4096
#endif
/* Simultaneous HTTP connections from one address by default (option
 * max_connections_per_address): a flood from one address leaves the rest to others. */
#ifndef CC_CONNECTIONS_PER_ADDRESS_DEFAULT
#define CC_CONNECTIONS_PER_ADDRESS_DEFAULT 64
#endif
/* Seconds for a request line and its headers to arrive, from the connection's opening (or
 * the request line, on a kept-alive connection) by default (option header_timeout_s). */
#ifndef CC_HEADER_TIMEOUT_DEFAULT_S
#define CC_HEADER_TIMEOUT_DEFAULT_S 10
#endif
/* Seconds for a request's body to arrive after its headers by default (option
 * body_timeout_s). */
#ifndef CC_BODY_TIMEOUT_DEFAULT_S
#define CC_BODY_TIMEOUT_DEFAULT_S 30
#endif
/* libmicrohttpd's own log lines a second at the most; the rest are counted. */
#ifndef CC_HTTP_LOG_PER_SECOND
#define CC_HTTP_LOG_PER_SECOND 5
#endif
/* Query-string parameters of one request; more get 431 at once (libmicrohttpd itself would
 * run out of its per-connection memory and leave the client without an answer). */
#ifndef CC_QUERY_PARAMS_MAX
#define CC_QUERY_PARAMS_MAX 100
#endif
/* HTTPS: TLS 1.3 and 1.2, AEAD ciphers and ECDHE key exchange only (GnuTLS priority string). */
#ifndef CC_TLS_PRIORITIES
#define CC_TLS_PRIORITIES                                                                          \
    "SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+CHACHA20-POLY1305:+AES-256-GCM:"     \
    "+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"
#endif
/* Strict-Transport-Security max-age on HTTPS by default (option hsts_max_age_s). */
#ifndef CC_HSTS_MAX_AGE_DEFAULT_S
#define CC_HSTS_MAX_AGE_DEFAULT_S 31536000
#endif
/* Requests waiting for a thread of the blocking pool (option blocking_threads); more get
 * 503. */
#ifndef CC_BLOCKING_QUEUE_MAX
#define CC_BLOCKING_QUEUE_MAX 1024
#endif
/* Nesting of a JSON request body: objects and arrays inside each other. */
#ifndef CC_JSON_MAX_DEPTH
#define CC_JSON_MAX_DEPTH 8
#endif
/* Bytes of any one string in a JSON request body. */
#ifndef CC_JSON_MAX_STRING
#define CC_JSON_MAX_STRING 2048
#endif
/* Elements of a "webhooks" array read before it is refused (a contact keeps
 * at most CC_WEBHOOKS_MAX; this bounds the work of saying so). */
#ifndef CC_JSON_MAX_WEBHOOKS
#define CC_JSON_MAX_WEBHOOKS 64
#endif
/* Captured segments of a route pattern, and bytes of one captured name. */
#ifndef CC_ROUTE_MAX_ARGS
#define CC_ROUTE_MAX_ARGS 4
#endif
#ifndef CC_ROUTE_ARG_MAX
#define CC_ROUTE_ARG_MAX 64
#endif
/* Bytes of an Idempotency-Key (REST) or ClientToken (Alibaba API). */
#ifndef CC_IDEM_KEY_MAX
#define CC_IDEM_KEY_MAX 128
#endif

/* ---- lists and search ---------------------------------------------------- */
/* Items on one page of any list. */
#ifndef CC_PAGE_SIZE_MAX
#define CC_PAGE_SIZE_MAX 100
#endif
/* The highest page number a list accepts. */
#ifndef CC_PAGE_MAX
#define CC_PAGE_MAX 1000000
#endif
/* The matches a keyword search counts by default (option search_count_max): past
 * it, its total says "at least this many" (total_capped), so that a keyword
 * matching half a million contacts costs no more than one matching ten
 * thousand. The list itself is never cut. */
#ifndef CC_SEARCH_COUNT_MAX_DEFAULT
#define CC_SEARCH_COUNT_MAX_DEFAULT 10000
#endif
/* Characters of a search keyword. */
#ifndef CC_KEYWORD_MAX_CHARS
#define CC_KEYWORD_MAX_CHARS 64
#endif
/* Enabled access keys one account may have by default (option max_access_keys_per_account):
 * each key has its own share of the Alibaba API's replay cache. */
#ifndef CC_KEYS_PER_ACCOUNT_DEFAULT
#define CC_KEYS_PER_ACCOUNT_DEFAULT 50
#endif
/* Console users one account may have. */
#ifndef CC_USERS_MAX
#define CC_USERS_MAX 1000
#endif

/* ---- events -------------------------------------------------------------- */
/* Contacts one event may name. */
#ifndef CC_EVENT_MAX_CONTACTS
#define CC_EVENT_MAX_CONTACTS 100
#endif
/* Bytes of an event's data object as JSON. */
#ifndef CC_EVENT_MAX_DATA
#define CC_EVENT_MAX_DATA 16384
#endif

/* ---- console sign-in ----------------------------------------------------- */
/* Characters of a console password. */
#ifndef CC_PASSWORD_MIN_CHARS
#define CC_PASSWORD_MIN_CHARS 10
#endif
#ifndef CC_PASSWORD_MAX_CHARS
#define CC_PASSWORD_MAX_CHARS 128
#endif
/* Password hashes (sign-in, new passwords) that may wait while every hash slot (4, each
 * 19 MiB) is busy; more are refused at once with 503 and Retry-After, so a sign-in flood
 * neither grows memory nor holds the blocking pool. */
#ifndef CC_PASSWORD_HASH_QUEUE_MAX
#define CC_PASSWORD_HASH_QUEUE_MAX 16
#endif
/* Wrong passwords within CC_SIGN_IN_WINDOW_S for one email from one source address that
 * lock that email for CC_SIGN_IN_LOCK_S from that address only; other addresses are only
 * slowed down (the attacker could be anyone, the real user is elsewhere). */
#ifndef CC_SIGN_IN_MAX_FAILURES
#define CC_SIGN_IN_MAX_FAILURES 5
#endif
#ifndef CC_SIGN_IN_WINDOW_S
#define CC_SIGN_IN_WINDOW_S (15 * 60)
#endif
#ifndef CC_SIGN_IN_LOCK_S
#define CC_SIGN_IN_LOCK_S (15 * 60)
#endif
/* Wrong passwords within CC_SIGN_IN_WINDOW_S from one source address, whatever the
 * emails, that lock every sign-in from that address for CC_SIGN_IN_LOCK_S. */
#ifndef CC_SIGN_IN_ADDR_MAX_FAILURES
#define CC_SIGN_IN_ADDR_MAX_FAILURES 100
#endif
/* Characters of a source address as text (an IPv6 address is at most 45). */
#ifndef CC_ADDR_TEXT_MAX
#define CC_ADDR_TEXT_MAX 45
#endif
/* The sign-in slow-down's step: the third wrong password for an email waits one step,
 * each after it one step more, up to ten. */
#ifndef CC_SIGN_IN_WAIT_STEP_MS
#define CC_SIGN_IN_WAIT_STEP_MS 1000
#endif
/* Sign-ins held back after wrong passwords at once; more are refused at once, so a flood
 * cannot occupy the blocking pool. */
#ifndef CC_SIGN_IN_WAITING_MAX
#define CC_SIGN_IN_WAITING_MAX 8
#endif
/* Session expiry defaults (options session_idle_timeout, session_max_age). */
#ifndef CC_SESSION_IDLE_DEFAULT_S
#define CC_SESSION_IDLE_DEFAULT_S 1800
#endif
#ifndef CC_SESSION_MAX_AGE_DEFAULT_S
#define CC_SESSION_MAX_AGE_DEFAULT_S 43200
#endif

/* ---- the Alibaba Cloud CAS API ------------------------------------------- */
/* Query and form parameters of one Alibaba API call together. */
#ifndef CC_ACS_MAX_PARAMS
#define CC_ACS_MAX_PARAMS 64
#endif
/* Bytes of an Alibaba API parameter name. */
#ifndef CC_ACS_NAME_MAX
#define CC_ACS_NAME_MAX 64
#endif
/* Bytes of a SignatureNonce. */
#ifndef CC_ACS_NONCE_MAX
#define CC_ACS_NONCE_MAX 128
#endif
/* Bytes of an Alibaba API error message (it may carry the string to sign). */
#ifndef CC_ACS_MSG_MAX
#define CC_ACS_MSG_MAX 8192
#endif
/* Signature nonces one access key may have remembered at once by default (option
 * acs_nonces_per_key): each is kept until its timestamp leaves the window, and a key whose
 * share is full is throttled rather than another key's nonce forgotten. */
#ifndef CC_ACS_NONCES_PER_KEY_DEFAULT
#define CC_ACS_NONCES_PER_KEY_DEFAULT 12000
#endif

/* ---- delivery ------------------------------------------------------------ */
/* Notifications one dispatcher thread claims (and has on the wire) at a time. */
#ifndef CC_DISPATCH_CLAIM_MAX
#define CC_DISPATCH_CLAIM_MAX 64
#endif
/* New events one claim starts (one notification each, ahead of the queue):
 * the first attempt of an event posted behind thousands of waiting
 * notifications goes out at the next claim. The rest of a claim stays in
 * the queue's order, so retries keep their turn. */
#ifndef CC_DISPATCH_FRESH_MAX
#define CC_DISPATCH_FRESH_MAX 16
#endif
/* Notifications waiting for one robot that go out merged in one message. */
#ifndef CC_DISPATCH_MERGE_MAX
#define CC_DISPATCH_MERGE_MAX 50
#endif
/* Waiting notifications one claim takes along for merging, over all its robots. */
#ifndef CC_DISPATCH_EXTRA_MAX
#define CC_DISPATCH_EXTRA_MAX 256
#endif
/* Notifications the dispatcher holds in hand at most: born claimed by it when
 * their event is written, they go out without a claim's write (16 bytes
 * each). An event that finds no room leaves its notifications to the claims. */
#ifndef CC_DISPATCH_HANDOFF_MAX
#define CC_DISPATCH_HANDOFF_MAX 8192
#endif
/* ... and of those, the first of each event, which go ahead of the rest. */
#ifndef CC_DISPATCH_HANDOFF_FRESH_MAX
#define CC_DISPATCH_HANDOFF_FRESH_MAX 1024
#endif
/* Batches of outcomes, per dispatcher thread, that may wait for the writer
 * before the threads stop sending (dispatcher.c). */
#ifndef CC_DISPATCH_RECORD_ROOM
#define CC_DISPATCH_RECORD_ROOM 8
#endif
/* While notifications in hand keep the dispatcher busy, it still claims from
 * the outbox this often, so that retries falling due and events that found
 * no room keep their turn. */
#ifndef CC_DISPATCH_CLAIM_EVERY_MS
#define CC_DISPATCH_CLAIM_EVERY_MS 100
#endif
/* Idle libcurl easy handles a dispatcher thread keeps for its next batch. */
#ifndef CC_XFER_IDLE_MAX
#define CC_XFER_IDLE_MAX 128
#endif
/* Bytes of free memory at the top of a heap that the server keeps rather
 * than gives back to the system (glibc's M_TRIM_THRESHOLD; its default,
 * 128 KB, returned and re-faulted every dispatcher batch's memory). Blocks
 * of half this or more are mapped of their own (M_MMAP_THRESHOLD). */
#ifndef CC_MALLOC_TRIM_THRESHOLD
#define CC_MALLOC_TRIM_THRESHOLD (8 * 1024 * 1024)
#endif
/* Open connections a thread's libcurl multi handle keeps between batches
 * (CURLMOPT_MAXCONNECTS). libcurl's default, four per transfer still
 * running, shrinks as a batch ends and closed the connections of its last
 * transfers, so each batch opened some of them again. */
#ifndef CC_XFER_KEEP_CONNS
#define CC_XFER_KEEP_CONNS 64
#endif
/* Bytes of a platform's answer read; a longer one is cut off and unreadable. */
#ifndef CC_DELIVERY_MAX_ANSWER
#define CC_DELIVERY_MAX_ANSWER (64 * 1024)
#endif

/* While a batch is on the wire, what has finished is recorded this often:
 * the longest a sent answer waits unrecorded (what a crash sends twice),
 * against a write that holds up the batch's transfers. */
#ifndef CC_DISPATCH_RECORD_EVERY_MS
#define CC_DISPATCH_RECORD_EVERY_MS 100
#endif
/* A dispatcher thread whose outbox write fails waits this long before it
 * tries again, doubling up to the most. */
#ifndef CC_DISPATCH_STORE_RETRY_MIN_MS
#define CC_DISPATCH_STORE_RETRY_MIN_MS 100
#endif
#ifndef CC_DISPATCH_STORE_RETRY_MAX_MS
#define CC_DISPATCH_STORE_RETRY_MAX_MS 30000
#endif

/* ---- the store ----------------------------------------------------------- */
/* Writes the SQLite writer thread commits together at the most (one fsync). */
#ifndef CC_WRITE_BATCH_MAX
#define CC_WRITE_BATCH_MAX 256
#endif

/* ---- expiry reminders ---------------------------------------------------- */
/* Thresholds (days before not_after) an account or a certificate has at the
 * most, and the range of each. */
#ifndef CC_REMINDER_DAYS_MAX
#define CC_REMINDER_DAYS_MAX 10
#endif
#define CC_REMINDER_DAY_MIN 1
#define CC_REMINDER_DAY_MAX 365
/* Bytes of an IANA time zone name ("America/Argentina/ComodRivadavia" is 32). */
#define CC_TIME_ZONE_MAX 64
/* Certificates the reminder scheduler takes in one write transaction. */
#ifndef CC_REMINDER_BATCH
#define CC_REMINDER_BATCH 500
#endif
/* The scheduler's longest sleep while a reminder is pending: it waits on the
 * monotonic clock for a wall-clock due time, so a stepped clock or a
 * suspended machine is noticed within this long (one indexed query). */
#ifndef CC_REMINDER_MAX_SLEEP_MS
#define CC_REMINDER_MAX_SLEEP_MS (3600 * 1000)
#endif
/* How often the retention of personal data runs (masking the addresses of
 * verification codes that expired, removing old records): the scheduler
 * wakes at least this often for it. */
/* A singleton job (reminders, ACME orders) on an instance that does not lead
 * it asks again this often: the bound on the time another instance takes
 * over once the leader has died. */
/* A background thread (reminders, endpoint checks) whose passes come less
 * often than this keeps no database connection while it sleeps
 * (cc_service_thread_rest). */
#ifndef CC_THREAD_REST_MS
#define CC_THREAD_REST_MS 2000
#endif
#ifndef CC_LEADER_POLL_MS
#define CC_LEADER_POLL_MS 3000
#endif

#ifndef CC_RETENTION_PERIOD_MS
#define CC_RETENTION_PERIOD_MS (600 * 1000)
#endif
/* A reminder raised more than this after its due time is late: it says the
 * whole days really left rather than its threshold. */
#define CC_REMINDER_LATE_MS (3600 * 1000LL)

/* ---- watched endpoints --------------------------------------------------- */
/* Watched endpoints (service/endpoints.c): per account; contacts told of one
 * endpoint's alerts; due endpoints taken per pass of the checker. */
#ifndef CC_ENDPOINTS_MAX
#define CC_ENDPOINTS_MAX 1000
#endif
#ifndef CC_ENDPOINT_CONTACTS_MAX
#define CC_ENDPOINT_CONTACTS_MAX 20
#endif
#ifndef CC_ENDPOINT_BATCH
#define CC_ENDPOINT_BATCH 64
#endif
/* The checker's options (endpoint_check_*): bounds of each. */
#define CC_ENDPOINT_INTERVAL_DEFAULT_S 21600
#define CC_ENDPOINT_TIMEOUT_DEFAULT_MS 10000
#define CC_ENDPOINT_CONCURRENCY_DEFAULT 4
#define CC_ENDPOINT_CONCURRENCY_MAX 64
/* A check's schedule is moved by up to this share of the interval either
 * way, so endpoints added together do not stay in step. */
#define CC_ENDPOINT_JITTER_PERCENT 10

/* ---- test sends: not a spam or SMS-cost relay ----------------------------- */
/* Test messages to one contact (all its channels) or one unsaved robot in a
 * sliding hour, when the configuration says 0. */
#ifndef CC_TEST_SEND_PER_HOUR_DEFAULT
#define CC_TEST_SEND_PER_HOUR_DEFAULT 10
#endif
/* Test messages of one account, of every kind, in a sliding hour. */
#ifndef CC_TEST_SEND_ACCOUNT_PER_HOUR_DEFAULT
#define CC_TEST_SEND_ACCOUNT_PER_HOUR_DEFAULT 100
#endif

/* ---- the audit log ---------------------------------------------------------- */
/* Rows of one CSV export of the audit log (GET /v1/audit.csv); more matching
 * entries are cut, and X-Total-Count says how many there were. */
#ifndef CC_AUDIT_EXPORT_MAX
#define CC_AUDIT_EXPORT_MAX 10000
#endif
/* Entries the retention job removes in one transaction. */
#ifndef CC_AUDIT_RETAIN_BATCH
#define CC_AUDIT_RETAIN_BATCH 1000
#endif
/* Retention of audit entries in days (the audit_retention_days option). */
#define CC_AUDIT_RETENTION_DEFAULT_DAYS 180
#define CC_AUDIT_RETENTION_MIN_DAYS 1
/* Scheduled backups kept at the most (backup_keep). */
#define CC_BACKUP_KEEP_MAX 1000
#define CC_AUDIT_RETENTION_MAX_DAYS 36500
/* An access key's last use is written at most this often. */
#define CC_KEY_LAST_USED_EVERY_MS (60 * 1000)
/* Master-key rotation (service/master_key.c): sealed values re-sealed in one
 * write transaction; passes over every sealed column before the switch to
 * the new key is given up (values under the old key keep being written);
 * the wait after the switch for a write sealed just before it (a server
 * seals before its transaction commits) before the last sweep. */
#define CC_ROTATE_BATCH 200
#define CC_ROTATE_PASSES 8
#define CC_ROTATE_SETTLE_MS 2000

/* The Alibaba API's certificate orders (http/acs_orders.c): bytes of a
 * CompanyName (accepted, not kept); applications one ListUserCertificateOrder
 * reads to filter by a Status that is not one stored state (beyond that the
 * call is refused: filter through REST); revoked certificates it reads to
 * tell which issued applications' certificates were revoked. */
#define CC_ACS_COMPANY_NAME_MAX 256
#define CC_ACS_ORDER_SCAN_MAX 10000
#define CC_ACS_REVOKED_SCAN_MAX 10000
/* ---- ACME issuance (service/acme.c) --------------------------------------------- */
/* A URL the ACME CA names (directory, order, authorization, challenge,
 * certificate), in bytes; a longer one is an error of the CA. */
#define CC_ACME_URL_MAX 1024
/* An HTTP-01 token, in bytes (RFC 8555 asks for at least 128 bits of base64url). */
#define CC_ACME_TOKEN_MAX 128
/* Bytes of one ACME answer read at the most (a certificate chain is the largest). */
#define CC_ACME_ANSWER_MAX (256 * 1024)
/* Nonces kept for the next requests (RFC 8555 7.2: each is good once). */
#define CC_ACME_NONCES 8
/* Times one request is sent again after a badNonce problem (the CA may
 * refuse good nonces at random: Pebble does, to keep clients honest). */
#define CC_ACME_BADNONCE_RETRIES 10
/* Applications the worker moves on in one pass (option acme_max_orders). */
#define CC_ACME_ORDERS_DEFAULT 10
/* Waits of the worker: between polls of a pending order when the CA names
 * none (Retry-After wins), the first back-off after an error and its cap;
 * errors in a row after which the application is rejected. */
#define CC_ACME_POLL_MS 1000
#define CC_ACME_BACKOFF_MIN_MS 2000
#define CC_ACME_BACKOFF_MAX_MS (3600 * 1000)
#define CC_ACME_ERRORS_MAX 8
/* A Retry-After longer than this is cut to it. */
#define CC_ACME_RETRY_AFTER_MAX_S 86400

/* ---- contact imports ------------------------------------------------------ */
/* Bytes of an import's CSV file by default (option import_max_bytes, 1 KiB to 1 GiB): the
 * import route's own body cap, instead of max_body_bytes. */
#ifndef CC_IMPORT_MAX_BYTES_DEFAULT
#define CC_IMPORT_MAX_BYTES_DEFAULT 67108864
#endif
/* Data rows of one import file at the most: its outcomes are kept in memory while it runs. */
#ifndef CC_IMPORT_ROWS_MAX
#define CC_IMPORT_ROWS_MAX 1000000
#endif
/* Rows of an import's report in one page. */
#ifndef CC_IMPORT_ROWS_PAGE_MAX
#define CC_IMPORT_ROWS_PAGE_MAX 1000
#endif
/* Contacts read at once by an export (its memory stays bounded, whatever the account holds). */
#ifndef CC_EXPORT_PAGE
#define CC_EXPORT_PAGE 100
#endif

#endif
