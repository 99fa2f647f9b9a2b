/*
 * static.c — the console's files, compiled into the binary from web/:
 * GET / is web/index.html, GET /assets/NAME any file of web/, where NAME may
 * name a file in a subdirectory ("js/pages/contacts.js", so that the ES
 * modules' relative imports resolve). Only embedded names are served, and
 * only names made of plain segments: no "." or "..", no hidden files, no
 * empty segment. Each file has its content type and an ETag made from its
 * content, worked out once on first use.
 */
#include <pthread.h>
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

#define STATIC_MAX 128      /* files in web/ */
#define STATIC_NAME_MAX 128 /* characters in a name under web/ */
#define WEB_PREFIX "web/"

static struct cc_static_file files[STATIC_MAX];
static size_t nfiles;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".txt", "text/plain; charset=utf-8"},
};

const char *cc_static_content_type(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t e = strlen(types[i].ext);
        if (n > e && strcmp(name + n - e, types[i].ext) == 0)
            return types[i].type;
    }
    return "application/octet-stream";
}

/*
 * A name under web/: 1 to STATIC_NAME_MAX characters, segments separated by
 * single '/'s, each segment 1 or more of A-Z a-z 0-9 . _ - that does not
 * start with '.' (so neither "." nor ".." nor a hidden file). No leading or
 * trailing '/'. Returns 1 when name is one.
 */
static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > STATIC_NAME_MAX)
        return 0;
    int seg_start = 1;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (c == '/') {
            if (seg_start)
                return 0; /* a leading '/' or an empty segment */
            seg_start = 1;
            continue;
        }
        if (seg_start && c == '.')
            return 0;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
        seg_start = 0;
    }
    return !seg_start; /* not ending in '/' */
}

/* Fills files[] from the embedded web/ files whose names name_ok() accepts. */
static void load(void)
{
    for (const struct cc_embedded_file *f = cc_embedded; f->path && nfiles < STATIC_MAX; f++) {
        if (strncmp(f->path, WEB_PREFIX, sizeof WEB_PREFIX - 1) != 0)
            continue;
        const char *name = f->path + sizeof WEB_PREFIX - 1;
        if (!name_ok(name))
            continue;
        struct cc_static_file *s = &files[nfiles++];
        s->name = name;
        s->data = f->data;
        s->size = f->size;
        s->content_type = cc_static_content_type(name);
        /* the ETag from the hash taken when the file was embedded: hashing
         * here would read every file into memory before any is asked for */
        snprintf(s->etag, sizeof s->etag, "\"%.32s\"", f->sha256);
    }
}

const struct cc_static_file *cc_static_find(const char *path)
{
    pthread_once(&once, load);
    const char *name;
    if (strcmp(path, "/") == 0)
        name = "index.html";
    else if (strncmp(path, CC_STATIC_ASSETS, sizeof CC_STATIC_ASSETS - 1) == 0)
        name = path + sizeof CC_STATIC_ASSETS - 1;
    else
        return NULL;
    if (!name_ok(name))
        return NULL;
    for (size_t i = 0; i < nfiles; i++)
        if (strcmp(files[i].name, name) == 0)
            return &files[i];
    return NULL;
}

int cc_static_etag_matches(const char *if_none_match, const char *etag)
{
    if (!if_none_match)
        return 0;
    size_t n = strlen(etag);
    const char *p = if_none_match;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return 1;
        p += strcspn(p, ",");
    }
    return 0;
}
