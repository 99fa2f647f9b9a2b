/*
 * fuzz_answers.c — libFuzzer target for the parsers of the platforms'
 * answers: cc_robot_classify for each chat robot (DingTalk, Lark, Feishu,
 * WeCom) and cc_aliyun_classify for Alibaba Cloud SMS, both declared in
 * delivery/delivery_int.h. Links: all of src/
 *
 * The first byte of the input picks the platform and the HTTP status; the
 * rest is the answer's body, in an allocation of exactly its length (no
 * NUL after it, as on the wire), so that reading past it is caught. What
 * must always hold: the status is one of enum cc_send_status; code, reason
 * and the answer's fields are NUL-terminated inside their arrays; success
 * comes only with a 2xx status; a robot's code is "<kind>:...".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "delivery/delivery_int.h"
#include "util/util.h"
#include "fuzz.h"

static const long statuses[] = {200, 200, 200, 200, 400, 403, 404, 429, 500, 502, 503, 0, 204, 302, 599, 100};

static void check_result(const struct cc_send_result *res, long status)
{
    CHECK(res->status >= CC_SEND_OK && res->status <= CC_SEND_NOT_CONFIGURED);
    CHECK(memchr(res->code, '\0', sizeof res->code));
    CHECK(memchr(res->reason, '\0', sizeof res->reason));
    if (res->status == CC_SEND_OK)
        CHECK(status >= 200 && status <= 299);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int platform = data[0] % 5; /* 0..3: robot kinds, 4: Alibaba Cloud SMS */
    long status = statuses[(data[0] / 5) % (sizeof statuses / sizeof statuses[0])];
    size_t len = size - 1;
    char *body = malloc(len ? len : 1);
    memcpy(body, data + 1, len);
    struct cc_send_result res;
    memset(&res, 'Z', sizeof res);
    if (platform == 4) {
        cc_aliyun_classify(status, body, len, &res);
        check_result(&res, status);
    } else {
        static const int kinds[] = {CC_WEBHOOK_DINGTALK, CC_WEBHOOK_LARK, CC_WEBHOOK_FEISHU,
                                    CC_WEBHOOK_WECOM};
        struct cc_robot_answer ans;
        memset(&ans, 'Z', sizeof ans);
        cc_robot_classify(kinds[platform], status, body, len, &res, &ans);
        check_result(&res, status);
        CHECK(memchr(ans.platform_code, '\0', sizeof ans.platform_code));
        CHECK(memchr(ans.platform_msg, '\0', sizeof ans.platform_msg));
        CHECK(strchr(res.code, ':') != NULL);
    }
    free(body);
    return 0;
}
