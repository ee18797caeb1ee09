"""FunctionBench's chameleon function (as in the vHive-vs-Lambda study): render an N×M HTML table with
the Chameleon template engine. Event: {"num_of_rows": R, "num_of_cols": C} (vHive's gRPC input `name`
carries neither, so both default as vHive's server does). The answer gives the time spent, the
shape counted in the rendered text and its digest, so a caller can check the work was done right;
"return_html": true adds the text itself.
"""
import hashlib
import time

from chameleon import PageTemplate

BIGTABLE_ZPT = """\
<table xmlns="http://www.w3.org/1999/xhtml"
xmlns:tal="http://xml.zope.org/namespaces/tal">
<tr tal:repeat="row python: options['table']">
<td tal:repeat="c python: row.values()">
<span tal:define="d python: c + 1"
tal:attributes="class python: 'column-' + %s(d)"
tal:content="python: d" />
</td>
</tr>
</table>""" % str.__name__

DEFAULT_ROWS = 10
DEFAULT_COLS = 10


def lambda_handler(event, context):
    event = event or {}
    num_of_rows = int(event.get("num_of_rows", DEFAULT_ROWS))
    num_of_cols = int(event.get("num_of_cols", DEFAULT_COLS))
    if num_of_rows < 1 or num_of_cols < 1:
        raise ValueError(f"num_of_rows and num_of_cols must be at least 1 (got {num_of_rows}×{num_of_cols})")

    start = time.perf_counter()
    tmpl = PageTemplate(BIGTABLE_ZPT)
    data = {str(i): i for i in range(num_of_cols)}
    table = [data for _ in range(num_of_rows)]
    html = tmpl.render(options={"table": table})
    latency = time.perf_counter() - start

    first_row = html[html.find("<tr>"):html.find("</tr>")]
    answer = {
        "fn": "chameleon",
        "latency": latency,
        "rows": html.count("<tr>"),
        "cols": first_row.count("<td>"),
        "length": len(html),
        "sha256": hashlib.sha256(html.encode("utf-8")).hexdigest(),
    }
    if event.get("return_html"):
        answer["html"] = html
    return answer
