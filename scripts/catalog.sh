#!/bin/sh
# catalog.sh extract|check|update — the message catalog's upkeep with
# GNU gettext's tools.
#   extract  writes build/certcontacts.pot: every message a person reads,
#            found in the source by the functions that take one
#   check    TAP: po/zh_CN.po is well formed with the same printf conversions
#            as the English, and translates every message of the source
#            (untranslated and fuzzy ones count as missing)
#   update   merges new messages into po/zh_CN.po to be translated
set -eu
cd "$(dirname "$0")/.."
pot=build/certcontacts.pot
extract() {
  mkdir -p build
  xgettext --from-code=UTF-8 -L C --no-location --no-wrap --sort-output \
    -k -kN_ -kNN_:1,2 -kcc_error_set:4 -kcc_error_setn:5,6 -kcc_error_add_problem:4 \
    -kcc_error_add_problem_at:5 -kcc_delivery_set:4 -kcc_acs_error_set:4 -kcc_acs_fail:4 \
    -kfail:4 -kfail_set:3 -kemail_error:2 -kbad:3 -knot_sent:3 \
    -kverdict:2 -kwhy_set:3 --package-name=certcontacts -o "$pot" src/*/*.c
}
case "${1:-check}" in
extract) extract ;;
update)
  extract
  msgmerge -q --no-wrap --no-fuzzy-matching --backup=none -U po/zh_CN.po "$pot"
  msgattrib --no-wrap --no-obsolete -o po/zh_CN.po po/zh_CN.po
  msgfmt -c --statistics -o /dev/null po/zh_CN.po ;;
check)
  extract
  n=0
  if out=$(msgfmt -c -o /dev/null po/zh_CN.po 2>&1); then
    echo "ok 1 - po/zh_CN.po is well formed, its conversions match the English"
  else
    echo "not ok 1 - po/zh_CN.po is well formed, its conversions match the English"
    echo "$out" | sed 's/^/# /'; n=1
  fi
  if out=$(msgcmp po/zh_CN.po "$pot" 2>&1); then
    echo "ok 2 - every message of the source has its Simplified Chinese"
  else
    echo "not ok 2 - every message of the source has its Simplified Chinese"
    echo "$out" | sed 's/^/# /' | head -n 60; n=1
  fi
  exit $n ;;
*) echo "usage: catalog.sh extract|check|update" >&2; exit 2 ;;
esac
