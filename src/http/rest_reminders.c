/*
 * rest_reminders.c — REST v1 expiry reminder settings:
 *   GET /v1/settings/reminders   the account's settings (the defaults until saved)
 *   PUT /v1/settings/reminders   {"days_before"?, "on_expiry_day"?, "day_after"?,
 *                                 "window"?: {"start": "HH:MM", "end": "HH:MM"} | null,
 *                                 "time_zone"?}; what is not sent stays as it is
 * and the reminder_days field certificates take (rest_certificates.c). The
 * rules live in service/reminders.c.
 */
#include <stdio.h>
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

/* Minutes after midnight (0 to 1439) as "HH:MM". */
static void minutes_text(int m, char out[8])
{
    unsigned u = (unsigned)m % 1440;
    snprintf(out, 8, "%02u:%02u", u / 60, u % 60);
}

static json_t *render_settings(const struct cc_reminder_settings *s)
{
    json_t *days = json_array();
    for (size_t i = 0; i < s->n_days; i++)
        json_array_append_new(days, json_integer(s->days[i]));
    json_t *window = json_null();
    if (s->has_window) {
        char a[8], b[8];
        minutes_text(s->window_start, a);
        minutes_text(s->window_end, b);
        window = json_pack("{s:s, s:s}", "start", a, "end", b);
    }
    return json_pack("{s:o, s:b, s:b, s:o, s:s}", "days_before", days, "on_expiry_day",
                     s->on_expiry_day, "day_after", s->day_after, "window", window, "time_zone",
                     s->time_zone);
}

enum cc_err cc_json_reminder_days(json_t *v, const char *name, const char *field, int64_t *days,
                                  size_t *n, struct cc_error *err)
{
    if (!json_is_array(v))
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, field,
                            "%s must be an array of whole numbers of days.", name);
    if (json_array_size(v) > CC_REMINDER_DAYS_MAX)
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, field, "%s has at most %d thresholds.",
                            name, CC_REMINDER_DAYS_MAX);
    size_t i;
    json_t *x;
    *n = 0;
    json_array_foreach(v, i, x) {
        if (!json_is_integer(x))
            return cc_error_set(err, CC_ERR_INVALID_PARAMETER, field,
                                "%s must hold whole numbers of days from %d to %d.", name,
                                CC_REMINDER_DAY_MIN, CC_REMINDER_DAY_MAX);
        days[(*n)++] = json_integer_value(x);
    }
    return CC_OK;
}

void cc_h_reminder_settings_get(struct cc_request *req)
{
    struct cc_reminder_settings s;
    struct cc_error err;
    if (cc_reminder_settings_get(cc_req_service(req), cc_req_caller(req), &s, &err))
        cc_req_error(req, &err);
    else
        cc_req_json(req, 200, render_settings(&s));
}

static enum cc_err read_window(json_t *f, struct cc_reminder_input *in, struct cc_error *err)
{
    in->has_window = 1;
    if (json_is_null(f))
        return CC_OK;
    json_t *a = json_object_get(f, "start"), *b = json_object_get(f, "end");
    if (!json_is_object(f) || json_object_size(f) != 2 || !json_is_string(a) ||
        !json_is_string(b))
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Window",
                            "window is null or {\"start\": \"HH:MM\", \"end\": \"HH:MM\"}.");
    in->window_start = json_string_value(a);
    in->window_end = json_string_value(b);
    return CC_OK;
}

static enum cc_err read_settings(json_t *obj, struct cc_reminder_input *in, struct cc_error *err)
{
    const char *key;
    json_t *f;
    enum cc_err rc = CC_OK;
    in->on_expiry_day = in->day_after = -1;
    json_object_foreach(obj, key, f) {
        if (!strcmp(key, "days_before")) {
            in->has_days = 1;
            rc = cc_json_reminder_days(f, "days_before", "DaysBefore", in->days, &in->n_days, err);
        } else if (!strcmp(key, "on_expiry_day") || !strcmp(key, "day_after")) {
            int expiry = !strcmp(key, "on_expiry_day");
            if (!json_is_boolean(f))
                rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER,
                                  expiry ? "OnExpiryDay" : "DayAfter",
                                  "%s must be true or false.", key);
            *(expiry ? &in->on_expiry_day : &in->day_after) = json_is_true(f);
        } else if (!strcmp(key, "window")) {
            rc = read_window(f, in, err);
        } else if (!strcmp(key, "time_zone")) {
            if (!json_is_string(f) || strlen(json_string_value(f)) != json_string_length(f))
                rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "TimeZone",
                                  "time_zone must be a string such as Asia/Shanghai.");
            in->time_zone = json_string_value(f);
        } else {
            rc = cc_error_set(err, CC_ERR_UNKNOWN_FIELD, NULL,
                              "Unknown field \"%.64s\": send days_before, on_expiry_day, "
                              "day_after, window or time_zone.",
                              key);
        }
        if (rc)
            break;
    }
    return rc;
}

static void settings_put(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_reminder_input in;
    memset(&in, 0, sizeof in);
    struct cc_reminder_settings s;
    struct cc_error err;
    if (read_settings(obj, &in, &err) ||
        cc_reminder_settings_put(cc_req_service(req), cc_req_caller(req), &in, &s, &err))
        cc_req_error(req, &err);
    else
        cc_req_json(req, 200, render_settings(&s));
    json_decref(obj);
}

void cc_h_reminder_settings_put(struct cc_request *req)
{
    cc_req_defer(req, settings_put);
}
