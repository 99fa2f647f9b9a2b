/*
 * i18n_table.h — the shape of the generated message catalog
 * (scripts/po2c.sh writes build/gen/catalog.c from po/zh_CN.po).
 */
#ifndef CC_I18N_TABLE_H
#define CC_I18N_TABLE_H

#include <stddef.h>

struct cc_catalog_entry {
    const char *msgid;        /* the English, as the code writes it */
    const char *msgid_plural; /* the English plural; NULL for most */
    const char *msgstr;       /* the Simplified Chinese (one form for every count) */
};
extern const struct cc_catalog_entry cc_catalog_zh[];
extern const size_t cc_catalog_zh_count;

#endif
