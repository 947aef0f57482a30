"""The report as one self-contained HTML page: inline CSS, figures as base64 PNG, no scripts,
no links to load. Every piece of text goes through :func:`html.escape`."""

from __future__ import annotations

import base64
from html import escape

from .content import Figure, ReportContent, Table

CSS = """
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;color:#1a1a1a;max-width:60rem;
 margin:1.5rem auto;padding:0 1rem;line-height:1.45;font-size:15px}
h1{font-size:1.6rem;margin:.2rem 0 .3rem}h2{font-size:1.25rem;margin-top:2rem;
 border-bottom:2px solid #0072B2;padding-bottom:.15rem}h3{font-size:1.05rem;margin:1.1rem 0 .3rem}
.sub{color:#555;font-size:.9rem}.facts{display:grid;grid-template-columns:max-content 1fr;
 gap:.15rem 1rem;margin:.8rem 0}.facts dt{font-weight:bold}.facts dd{margin:0}
.headline{background:#EAF3FA;border-left:4px solid #0072B2;padding:.6rem .9rem;margin:1rem 0}
.warn{background:#FFF6E0;border-left:4px solid #E69F00;padding:.4rem .9rem;margin:.6rem 0}
.finding{border:1px solid #ccc;border-left:5px solid #D55E00;border-radius:4px;padding:.4rem .9rem;
 margin:.8rem 0}.cue{font-weight:bold}.ex{margin:.5rem 0 .8rem}.ex b{display:block}
.notes{white-space:pre-wrap;background:#F4F4F4;padding:.5rem .8rem;border-radius:4px}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.2rem .45rem;text-align:left;vertical-align:top}
th{background:#F0F0F0}td.n{text-align:right}caption{text-align:left;font-weight:bold;padding:.2rem 0}
.tnote{font-size:.8rem;color:#555;margin-top:-.7rem}figure{margin:1rem 0}
figure img{max-width:100%;height:auto}figcaption{font-size:.85rem;color:#333}
.na{color:#555;font-style:italic}.disclaimer{background:#F4F4F4;border:1px solid #999;
 padding:.6rem .9rem;margin:1.5rem 0;font-size:.95rem}details summary{cursor:pointer;font-weight:bold}
footer{font-size:.8rem;color:#666;margin:2rem 0}
@media print{details{display:block}body{max-width:none}}
"""


def _e(text) -> str:
    return escape(str(text), quote=True)


def _table(t: Table) -> str:
    out = ["<table>"]
    if t.caption:
        out.append(f"<caption>{_e(t.caption)}</caption>")
    out.append("<tr>" + "".join(f"<th>{_e(c)}</th>" for c in t.columns) + "</tr>")
    for row in t.rows:
        cells = []
        for c in row:
            s = str(c)
            num = s[:1].isdigit() or (s[:1] in "-–" and s[1:2].isdigit())
            cells.append(f'<td class="n">{_e(s)}</td>' if num else f"<td>{_e(s)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    if t.note:
        out.append(f'<p class="tnote">{_e(t.note)}</p>')
    return "\n".join(out)


def _figure(f: Figure) -> str:
    if f.png is None:
        return f'<h3>{_e(f.title)}</h3>\n<p class="na">{_e(f.note)}</p>'
    b64 = base64.b64encode(f.png).decode("ascii")
    return (f"<figure><h3>{_e(f.title)}</h3>"
            f'<img alt="{_e(f.title)}" src="data:image/png;base64,{b64}">'
            f"<figcaption>{_e(f.caption)}</figcaption></figure>")


def render_html(c: ReportContent) -> str:
    p: list[str] = []
    add = p.append
    add("<!DOCTYPE html>")
    add('<html lang="en"><head><meta charset="utf-8">')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">')
    add(f"<title>{_e(c.title)}</title><style>{CSS}</style></head><body>")
    add(f"<h1>{_e(c.title)}</h1>")
    add(f'<p class="sub">Made by imu-knee {_e(c.version)} on {_e(c.generated)}</p>')
    add('<dl class="facts">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in c.facts) + "</dl>")
    if c.notes:
        add(f'<h3>Notes</h3><div class="notes">{_e(c.notes)}</div>')
    add('<div class="headline">' + "".join(f"<p>{_e(s)}</p>" for s in c.headline) + "</div>")
    for w in c.warnings:
        add(f'<div class="warn">{_e(w)}</div>')

    add("<h2>What stood out</h2>")
    if not c.findings:
        add("<p>Nothing worth flagging in this session.</p>")
    for f in c.findings:
        add('<div class="finding">')
        add(f"<h3>{_e(f.title)} — {_e(f.side_words)}</h3>")
        add(f"<p><b>What was measured:</b> {_e(f.evidence)}</p>")
        add(f'<p class="cue">Try right away: {_e(f.cue)}</p>')
        add(f"<p><b>What this often goes with:</b> {_e(f.resembles)}</p>")
        add(f"<p class=\"sub\">How sure: {_e(f.confidence_label)}; based on {len(f.steps_s)} step(s)"
            " (ringed in the plots).</p></div>")
    if c.not_assessed:
        add("<details><summary>What could not be checked in this recording</summary><ul>"
            + "".join(f"<li>{_e(s)}</li>" for s in c.not_assessed) + "</ul></details>")

    add("<h2>Your exercise plan</h2>")
    if c.quick_fix:
        add("<h3>Right away, when walking</h3><ul>" + "".join(f"<li>{_e(q)}</li>" for q in c.quick_fix) + "</ul>")
    if c.plan:
        add("<h3>Exercises (long-term fix)</h3>")
        for e in c.plan:
            add(f'<div class="ex"><b>{_e(e.name)}</b> <span class="sub">for: {_e("; ".join(e.helps_with))}</span>'
                f"<br>{_e(e.instructions)}<br><i>How much:</i> {_e(e.dosage)}"
                + (f"<br><i>Next step:</i> {_e(e.progression)}" if e.progression else "") + "</div>")
    else:
        add("<p>No exercises suggested from this session.</p>")

    add("<h2>Your measurements</h2>")
    add(_table(c.activity_table))
    if c.side_table is not None:
        add(_table(c.side_table))
    add("<h3>Compared with earlier sessions</h3>")
    add(f"<p>{_e(c.trend.message)}</p>")
    if c.trend.figure is not None:
        add(_figure(c.trend.figure))
    if c.trend.table is not None:
        add(_table(c.trend.table))
    if c.trend.persisting:
        add("<p><b>Patterns seen in session after session:</b></p><ul>"
            + "".join(f"<li>{_e(m)}</li>" for m in c.trend.persisting) + "</ul>")
    for fig in c.figures:
        add(_figure(fig))

    add(f'<div class="disclaimer"><b>Please read:</b> {_e(c.disclaimer)}</div>')

    add("<h2>For the therapist</h2>")
    for t in c.therapist_tables:
        add(_table(t))
    add(f"<details><summary>Every step ({len(c.step_table.rows)} rows)</summary>")
    add(_table(c.step_table))
    add("</details>")
    add(f"<footer>imu-knee {_e(c.version)} · {_e(c.source_name)} · generated {_e(c.generated)}</footer>")
    add("</body></html>")
    return "\n".join(p)
