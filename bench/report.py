#!/usr/bin/env python3
"""report.py — renders the figures a bench script recorded into one small,
self-contained HTML page (inline SVG, no external requests).

Reads lines "name|value|target|unit|direction" on stdin (direction "min": the
value must reach the target, "max": it must stay below it; an empty target:
no target) and writes the page to stdout. The argument is the bench's name.

Each figure gets a bar scaled to the larger of its value and its target, and
a line at the target, so a change's effect is seen at a glance: green when the
target is met, red when it is missed, grey when there is none.
"""
import datetime
import html
import sys

W, BAR_X, BAR_W, ROW_H = 900, 420, 300, 26


def parse(lines):
    figs = []
    for line in lines:
        parts = line.rstrip("\n").split("|")
        if len(parts) != 5:
            continue
        name, value, target, unit, direction = parts
        try:
            v = float(value)
        except ValueError:
            continue
        try:
            t = float(target) if target else None
        except ValueError:
            t = None
        figs.append((name, v, t, unit, direction))
    return figs


def row(i, fig):
    name, v, t, unit, direction = fig
    y = i * ROW_H
    scale = max(v, t or 0) or 1
    w = BAR_W * v / scale
    if t is None:
        color, verdict = "#999", ""
    else:
        met = v >= t if direction == "min" else v <= t
        color = "#3a3" if met else "#c33"
        verdict = "met" if met else "MISSED"
    out = [f'<text x="0" y="{y + 17}">{html.escape(name)}</text>',
           f'<rect x="{BAR_X}" y="{y + 5}" width="{w:.1f}" height="16" fill="{color}"/>']
    label = f"{v:g} {unit}"
    if t is not None:
        tx = BAR_X + BAR_W * t / scale
        out.append(f'<line x1="{tx:.1f}" y1="{y + 1}" x2="{tx:.1f}" y2="{y + 25}" '
                   'stroke="#000" stroke-width="2"/>')
        label += f" ({'≥' if direction == 'min' else '≤'} {t:g}: {verdict})"
    out.append(f'<text x="{BAR_X + BAR_W + 10}" y="{y + 17}">{html.escape(label)}</text>')
    return "\n".join(out)


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "bench"
    figs = parse(sys.stdin)
    h = ROW_H * len(figs) + 4
    rows = "\n".join(row(i, f) for i, f in enumerate(figs))
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sys.stdout.write(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>certcontacts {html.escape(name)}</title>
<style>body{{font:14px sans-serif;margin:2em}} svg text{{font:13px sans-serif}}</style></head>
<body><h1>certcontacts {html.escape(name)}, {when}</h1>
<p>One bar per figure; the black line is its target (green: met, red: missed, grey: no
target). Bars are scaled per row to the larger of the value and the target.</p>
<svg xmlns="http://www.w3.org/2000/svg" width="{W + 300}" height="{h}">
{rows}
</svg></body></html>
""")


if __name__ == "__main__":
    main()
