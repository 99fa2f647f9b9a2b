/*
 * messages.c — the words certcontacts sends to people, in English and
 * Simplified Chinese. Every message says what it is for (certificates),
 * so a recipient can tell it from phishing and chat robots configured with
 * the keyword "certificate" / "证书" accept it.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

void cc_html_escape(const char *in, char *out, size_t outsz)
{
    size_t o = 0;
    if (!outsz)
        return;
    for (; *in; in++) {
        const char *rep = NULL;
        switch (*in) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        size_t n = rep ? strlen(rep) : 1;
        if (o + n >= outsz)
            break;
        if (rep)
            memcpy(out + o, rep, n);
        else
            out[o] = *in;
        o += n;
    }
    out[o] = '\0';
}

static int is_zh(const char *lang)
{
    return lang && strcmp(lang, "zh-CN") == 0;
}

void cc_msg_verification(const char *lang, const char *name, const char *code, int64_t ttl_minutes,
                         struct cc_message *out)
{
    char html_name[4 * CC_NAME_MAX_BYTES + 8] = "";
    int has_name = name && name[0];
    if (has_name)
        cc_html_escape(name, html_name, sizeof html_name);
    long long ttl = (long long)ttl_minutes;
    if (is_zh(lang)) {
        snprintf(out->subject, sizeof out->subject, "证书联系人验证码：%s", code);
        snprintf(out->text, sizeof out->text,
                 "%s%s您好：\n\n"
                 "您正在将此地址设为证书联系人，用于接收证书申请验证、签发和到期等通知。\n\n"
                 "验证码：%s\n\n"
                 "验证码 %lld 分钟内有效，请勿告诉他人。\n"
                 "如果这不是您本人的操作，请忽略此邮件，不会有任何变化。\n\n"
                 "—— certcontacts 证书通知\n",
                 has_name ? name : "", has_name ? "，" : "", code, ttl);
        snprintf(out->html, sizeof out->html,
                 "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                 "<title>证书联系人验证码</title></head><body>"
                 "<p>%s%s您好：</p>"
                 "<p>您正在将此地址设为证书联系人，用于接收证书申请验证、签发和到期等通知。</p>"
                 "<p>验证码：<strong style=\"font-size:1.5em;letter-spacing:0.2em\">%s</strong></p>"
                 "<p>验证码 %lld 分钟内有效，请勿告诉他人。<br>"
                 "如果这不是您本人的操作，请忽略此邮件，不会有任何变化。</p>"
                 "<p>—— certcontacts 证书通知</p></body></html>",
                 html_name, has_name ? "，" : "", code, ttl);
        return;
    }
    snprintf(out->subject, sizeof out->subject, "Your certificate contact verification code: %s",
             code);
    snprintf(out->text, sizeof out->text,
             "Hello%s%s,\n\n"
             "Someone is adding this address as a certificate contact, to receive notices about "
             "certificate applications, issuance and expiry.\n\n"
             "Verification code: %s\n\n"
             "The code is valid for %lld minutes. Do not share it with anyone.\n"
             "If you did not expect this, ignore this message: nothing will change.\n\n"
             "-- certcontacts certificate notifications\n",
             has_name ? " " : "", has_name ? name : "", code, ttl);
    snprintf(out->html, sizeof out->html,
             "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<title>Certificate contact verification code</title></head><body>"
             "<p>Hello%s%s,</p>"
             "<p>Someone is adding this address as a certificate contact, to receive notices "
             "about certificate applications, issuance and expiry.</p>"
             "<p>Verification code: <strong style=\"font-size:1.5em;letter-spacing:0.2em\">%s"
             "</strong></p>"
             "<p>The code is valid for %lld minutes. Do not share it with anyone.<br>"
             "If you did not expect this, ignore this message: nothing will change.</p>"
             "<p>-- certcontacts certificate notifications</p></body></html>",
             has_name ? " " : "", html_name, code, ttl);
}

void cc_msg_verification_sms(const char *lang, const char *code, int64_t ttl_minutes, char *out,
                             size_t outsz)
{
    if (is_zh(lang))
        snprintf(out, outsz,
                 "您正在验证证书联系人手机号，验证码 %s，%lld 分钟内有效。如非本人操作，请忽略。",
                 code, (long long)ttl_minutes);
    else
        snprintf(out, outsz,
                 "Your certificate contact verification code is %s, valid for %lld minutes. "
                 "If you did not request it, ignore this message.",
                 code, (long long)ttl_minutes);
}
