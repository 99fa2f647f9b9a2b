/*
 * seed.c — fills one account with many realistic contacts through the store
 * interface, for the search benchmark (bench/run.sh).
 *
 * It links build/libcc.a and writes through cc_store_write(), so the rows,
 * the search text, the FTS index and the per-account counter are exactly
 * what the server would have written; only the HTTP and validation layers
 * are skipped. Each cc_store_write() call inserts one batch in ONE
 * transaction, which is what makes a million contacts take seconds rather
 * than a million fsyncs.
 *
 * The data: half Latin names ("Zhang Wei 123456", pinyin and a few English
 * names with a number), half Chinese names of 2–3 characters built from
 * common surnames and given-name characters; one Chinese contact in ten has
 * its company after the name ("王伟（华为技术有限公司）"), so that an
 * 8-character Chinese keyword has real matches. Mobiles are unique by
 * construction (the last 8 digits are a bijection of the row number), emails
 * carry the row number; 1 contact in 20 has no email. Every value depends
 * only on --seed and the row number, so a run is reproducible.
 *
 * It works on a stopped server's database or beside a running server (WAL
 * and the busy timeout let both writers take turns), on SQLite or on a
 * PostgreSQL database (a postgres:// URL, as the server's --db).
 *
 *   seed --db sqlite:DIR/certcontacts.db|postgres://... [--account 1]
 *        [--count N] [--start K] [--batch N] [--threads N] [--seed S]
 *
 * --batch (rows per transaction) and --threads (submitters) default to 100
 * and 4 on SQLite, 1000 and 1 on PostgreSQL (see submitter() below).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "store/store.h"
#include "util/util.h"

static const char *const zh_surname[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱",
    "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯",
    "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜",
    "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "欧阳", "司马"};
static const char *const zh_given[] = {
    "伟", "芳", "娜", "秀", "英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳",
    "杰", "娟", "涛", "明", "超", "霞", "平", "刚", "桂", "兰", "华", "红", "玉", "梅",
    "辉", "建", "国", "鹏", "飞", "鑫", "宇", "浩", "婷", "雪", "琳", "晨", "欣", "怡",
    "佳", "俊", "博", "文", "斌", "峰", "波", "宁", "帆", "凯", "瑞", "晶", "倩", "颖",
    "龙", "海", "云", "亮", "志", "春", "东", "成", "嘉", "思", "雨", "子", "梓", "萱"};
static const char *const zh_company[] = {
    "华为技术有限公司", "阿里巴巴（中国）有限公司", "深圳市腾讯计算机系统有限公司",
    "北京字节跳动科技有限公司", "中国建设银行股份有限公司", "上海浦东发展银行",
    "中国石油天然气集团有限公司", "北京百度网讯科技有限公司"};
static const char *const py_surname[] = {
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
    "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo", "Zheng",
    "Liang", "Xie", "Song", "Tang", "Han", "Feng", "Deng", "Cao", "Peng", "Smith",
    "Johnson", "Brown", "Garcia", "Miller", "Davis", "Martin", "Wilson"};
static const char *const py_given[] = {
    "Wei", "Fang", "Na", "Xiuying", "Min", "Jing", "Li", "Qiang", "Lei", "Jun",
    "Yang", "Yong", "Yan", "Jie", "Juan", "Tao", "Ming", "Chao", "Xia", "Ping",
    "Gang", "Hui", "Peng", "Fei", "Xin", "Yu", "Hao", "Ting", "Xue", "Lin", "Chen",
    "James", "Mary", "John", "Linda", "David", "Susan", "Emma", "Oliver"};
static const char *const domains[] = {
    "qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "sina.com",
    "foxmail.com", "example.com", "example.cn", "corp.example.org"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* splitmix64: a per-row generator, so a batch run twice writes the same rows. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct rng {
    uint64_t s;
};

static uint32_t next(struct rng *r, uint32_t n)
{
    r->s = mix(r->s);
    return (uint32_t)(r->s % n);
}

/* Fills c with row i of the data set described at the top of the file. */
static void make_contact(int64_t account, uint64_t seed, int64_t i, int64_t now,
                         struct cc_contact *c)
{
    struct rng r = {seed * 0x100000001b3ULL + (uint64_t)i};
    memset(c, 0, sizeof *c);
    c->account_id = account;
    c->version = 1;
    c->created_at = c->updated_at = now;
    /* last 8 digits: i * 7919 mod 10^8 is a bijection on 0..10^8-1 (7919 is
     * prime to 10^8), so mobiles never collide whatever the 3-digit prefix. */
    unsigned prefix = 130 + next(&r, 60);
    unsigned tail = (unsigned)(((uint64_t)i * 7919u) % 100000000u);
    snprintf(c->mobile, sizeof c->mobile, "+86%u%08u", prefix, tail);
    const char *dom = domains[next(&r, N(domains))];
    int has_email = next(&r, 20) != 0;
    char local[96];
    if (next(&r, 2)) {
        const char *sn = py_surname[next(&r, N(py_surname))];
        const char *gn = py_given[next(&r, N(py_given))];
        unsigned num = 100000 + next(&r, 900000);
        snprintf(c->name, sizeof c->name, "%s %s %u", sn, gn, num);
        switch (next(&r, 3)) {
        case 0: snprintf(local, sizeof local, "%s.%s.%lld", gn, sn, (long long)i); break;
        case 1: snprintf(local, sizeof local, "%s%s%lld", sn, gn, (long long)i); break;
        default: snprintf(local, sizeof local, "%c%s%lld", gn[0], sn, (long long)i); break;
        }
        cc_strlcpy(c->language, "en", sizeof c->language);
    } else {
        int len = 0;
        len += snprintf(c->name + len, sizeof c->name - (size_t)len, "%s",
                        zh_surname[next(&r, N(zh_surname))]);
        int given = 1 + (int)next(&r, 2);
        for (int g = 0; g < given; g++)
            len += snprintf(c->name + len, sizeof c->name - (size_t)len, "%s",
                            zh_given[next(&r, N(zh_given))]);
        if (next(&r, 10) == 0)
            snprintf(c->name + len, sizeof c->name - (size_t)len, "（%s）",
                     zh_company[next(&r, N(zh_company))]);
        snprintf(local, sizeof local, "user%lld", (long long)i);
        cc_strlcpy(c->language, next(&r, 2) ? "zh-CN" : "en", sizeof c->language);
    }
    if (has_email) {
        c->has_email = 1;
        snprintf(c->email, sizeof c->email, "%s@%s", local, dom);
        cc_strlcpy(c->email_norm, c->email, sizeof c->email_norm);
        cc_ascii_lower(c->email_norm);
    }
}

struct batch {
    int64_t account;
    uint64_t seed;
    int64_t from, to; /* rows [from, to) */
    int64_t end;      /* the last row of the whole run + 1 */
    int64_t now;
};

/* Inserts one batch; runs in one transaction. Makes sure the account
 * exists first, so a fresh database can be seeded too. */
static enum cc_err insert_batch(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    const struct batch *b = arg;
    struct cc_contact *c = cc_malloc(sizeof *c);
    enum cc_err rc = cc_tx_account_exists(tx, b->account, err);
    if (rc == CC_ERR_NOT_FOUND) {
        int64_t id = 0;
        cc_error_clear(err);
        if ((rc = cc_tx_account_insert(tx, "bench", b->now, &id, err)))
            goto out;
        if (id != b->account)
            rc = cc_error_set(err, CC_ERR_NOT_FOUND, "Account",
                              "Account %lld does not exist (a new one got id %lld).",
                              (long long)b->account, (long long)id);
    }
    if (rc)
        goto out;
    for (int64_t i = b->from; i < b->to; i++) {
        /* created_at grows with the row, one second apart, like contacts
         * added over time */
        make_contact(b->account, b->seed, i, b->now - (b->end - i) * 1000, c);
        if ((rc = cc_tx_contact_insert(tx, c, err)))
            goto out;
    }
out:
    cc_free(c);
    return rc;
}

/* On SQLite several threads hand batches to cc_store_write() at once, so
 * that the store's writer commits many of them together (each in its own
 * SAVEPOINT) instead of one commit per batch. Batches stay small: SQLite's
 * sub-journal makes a single savepoint slower per row the more rows it holds.
 *
 * On PostgreSQL each batch is its own SERIALIZABLE transaction, and every
 * one updates the account's contact counter row, so concurrent batches keep
 * failing each other (40001) until the store gives up: one submitter with
 * larger batches is both correct and faster there. */
#define MAX_SUBMITTERS 16

struct feeder {
    struct cc_store *store;
    int64_t account;
    uint64_t seed;
    int64_t start, end, batch, now;
    pthread_mutex_t mu;
    int64_t next; /* first row not yet handed out */
    int failed;
    struct cc_error err; /* the first failure, in rows [failed_from, failed_to) */
    int64_t failed_from, failed_to;
};

static void *submitter(void *arg)
{
    struct feeder *f = arg;
    struct cc_error err;
    for (;;) {
        pthread_mutex_lock(&f->mu);
        int64_t from = f->failed ? f->end : f->next;
        int64_t to = from + f->batch < f->end ? from + f->batch : f->end;
        f->next = to;
        pthread_mutex_unlock(&f->mu);
        if (from >= to)
            break;
        struct batch b = {f->account, f->seed, from, to, f->end, f->now};
        cc_error_clear(&err);
        if (cc_store_write(f->store, insert_batch, &b, &err)) {
            pthread_mutex_lock(&f->mu);
            if (!f->failed) {
                f->failed = 1;
                f->err = err;
                f->failed_from = from;
                f->failed_to = to;
            }
            pthread_mutex_unlock(&f->mu);
            break;
        }
    }
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: seed --db sqlite:DIR/certcontacts.db|postgres://... [--account ID] "
                    "[--count N] [--start K] [--batch N] [--threads N] [--seed S]\n");
    exit(2);
}

static int64_t arg_i64(const char *s, int64_t min, int64_t max)
{
    int64_t v;
    if (cc_parse_i64(s, min, max, &v) != 0) {
        fprintf(stderr, "seed: bad number %s\n", s);
        usage();
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *db = NULL;
    int64_t account = 1, count = 1000000, start = 0, batch = 0, seed = 1, threads = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--db") == 0)
            db = argv[++i];
        else if (strcmp(argv[i], "--account") == 0)
            account = arg_i64(argv[++i], 1, INT64_MAX);
        else if (strcmp(argv[i], "--count") == 0)
            count = arg_i64(argv[++i], 0, 50000000);
        else if (strcmp(argv[i], "--start") == 0)
            start = arg_i64(argv[++i], 0, 49999999);
        else if (strcmp(argv[i], "--batch") == 0)
            batch = arg_i64(argv[++i], 1, 1000000);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = arg_i64(argv[++i], 1, MAX_SUBMITTERS);
        else if (strcmp(argv[i], "--seed") == 0)
            seed = arg_i64(argv[++i], 0, INT64_MAX);
        else
            usage();
    }
    if (!db)
        usage();
    int pg = strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0;
    if (!batch)
        batch = pg ? 1000 : 100;
    if (!threads)
        threads = pg ? 1 : 4;
    if (start + count > 100000000) {
        fprintf(stderr, "seed: --start + --count must stay below 10^8 (unique mobiles)\n");
        return 2;
    }
    struct cc_store_config cfg = {.url = db, .busy_timeout_ms = 30000, .max_batch = 64};
    struct cc_store *store = NULL;
    struct cc_error err;
    cc_error_clear(&err);
    if (cc_store_open(&cfg, &store, &err) || cc_store_migrate(store, &err)) {
        fprintf(stderr, "seed: %s\n", err.message);
        cc_store_close(store);
        return 1;
    }
    struct feeder f = {store, account, (uint64_t)seed, start, start + count, batch, cc_now_ms(),
                       PTHREAD_MUTEX_INITIALIZER, start, 0, {0}, 0, 0};
    int64_t t0 = cc_mono_ms();
    pthread_t th[MAX_SUBMITTERS];
    int started = 0;
    for (; started < threads; started++)
        if (pthread_create(&th[started], NULL, submitter, &f) != 0)
            break;
    if (started == 0)
        submitter(&f);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    int64_t ms = cc_mono_ms() - t0;
    cc_store_close(store);
    if (f.failed) {
        fprintf(stderr, "seed: rows %lld..%lld: %s\n", (long long)f.failed_from,
                (long long)f.failed_to - 1, f.err.message);
        return 1;
    }
    printf("seeded %lld contacts into account %lld in %.1f s (%.0f rows/s)\n", (long long)count,
           (long long)account, (double)ms / 1000.0,
           ms > 0 ? (double)count * 1000.0 / (double)ms : 0.0);
    return 0;
}
