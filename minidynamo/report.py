"""md.report(path): an HTML page of everything compiled so far (set MINIDYNAMO_REPORT=dir to
write one automatically at exit): every frame with its graphs (printed and drawn), guards,
graph-break reasons with their source lines, recompile reasons and compile times.

>>> import minidynamo as md, tensorlite as tl, tempfile, os
>>> f = md.compile(lambda x: x.sin() + 1)
>>> _ = f(tl.ones(2))
>>> p = md.report(os.path.join(tempfile.mkdtemp(), "report.html"))
>>> os.path.exists(p)
True
"""
import atexit
import html
import os
import time


def _frame_title(fn):
    code = fn.__code__
    return f"{code.co_qualname} ({code.co_filename}:{code.co_firstlineno})"


def _svg(gm):
    try:
        from fxlite.drawing import to_svg
        return to_svg(gm)
    except Exception as e:  # drawing is a convenience; never fail the report
        return f"<p><i>(graph drawing unavailable: {html.escape(str(e))})</i></p>"


def render():
    """The report as an HTML string."""
    from .eval_frame import _CACHES
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>minidynamo compile report</title>",
             "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
             "pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:13px}"
             "h2{border-bottom:1px solid #ccc}.break{color:#b00}.ok{color:#070}"
             "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}"
             "</style></head><body>",
             f"<h1>minidynamo compile report</h1><p>{time.strftime('%Y-%m-%d %H:%M:%S')} &middot; "
             f"{len(_CACHES)} compiled frame(s)</p>"]
    for i, cache in enumerate(_CACHES.values()):
        fn = cache.fn
        parts.append(f"<h2>{i + 1}. {html.escape(_frame_title(fn))}</h2>")
        status = (f"<span class='break'>runs eagerly: {html.escape(cache.skip_reason)}</span>"
                  if cache.skip_reason else "<span class='ok'>compiled</span>")
        parts.append(f"<p>{status} &middot; entries: {len(cache.entries)} &middot; hits: {cache.hits}"
                     f" &middot; misses: {cache.misses}</p>")
        if cache.recompile_reasons:
            parts.append("<h3>Recompile reasons</h3><ul>" + "".join(
                f"<li><code>{html.escape(r)}</code></li>" for r in cache.recompile_reasons) + "</ul>")
        for reason, stack in cache.break_reasons:
            parts.append(_break_html(reason, stack))
        for j, e in enumerate(cache.entries):
            parts.append(f"<h3>Entry {j} (compiled in {e.compile_time * 1000:.1f} ms)</h3>")
            if e.break_reason:
                parts.append(_break_html(e.break_reason, e.break_stack))
            parts.append("<table><tr><th>guard</th><th>source</th><th>check</th></tr>" + "".join(
                f"<tr><td>{g.kind}</td><td><code>{html.escape(g.source.name() if g.source else '')}</code></td>"
                f"<td><code>{html.escape(g.readable())}</code></td></tr>" for g in e.guards) + "</table>")
            for k, gm in enumerate(e.graphs):
                parts.append(f"<h4>Graph {k}</h4><pre>{html.escape(gm.print_readable(print_output=False))}</pre>")
                parts.append(_svg(gm))
            parts.append(f"<h4>Transformed code</h4><pre>{html.escape(e.source)}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _break_html(reason, stack):
    where = ""
    if stack:
        fr = stack[-1]
        where = f"<br><code>{html.escape(fr.filename)}:{fr.lineno} in {html.escape(fr.name)}: {html.escape(fr.line or '')}</code>"
    return f"<p class='break'>graph break: {html.escape(reason)}{where}</p>"


def report(path=None):
    """Write the HTML report (to path, or $MINIDYNAMO_REPORT/minidynamo_report.html); returns the path."""
    if path is None:
        d = os.environ.get("MINIDYNAMO_REPORT") or "."
        path = os.path.join(d, "minidynamo_report.html")
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(path, "w") as f:
        f.write(render())
    return path


if os.environ.get("MINIDYNAMO_REPORT"):
    atexit.register(report)
