"""Checks chameleon's answer: the rendered table's shape and the sha256 of its HTML, against the HTML
Chameleon 4 renders for an R×C table, written out here without Chameleon."""
import hashlib

import faas_check

EXAMPLE = '{"num_of_rows": 10, "num_of_cols": 10}'


def is_whole(value, least):
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def validate(payload, params, seed):
    if not isinstance(payload, dict) or not is_whole(payload.get("num_of_rows"), 1) or not is_whole(
        payload.get("num_of_cols"), 1
    ):
        raise faas_check.Refuse(
            "The chameleon payload needs whole numbers num_of_rows and num_of_cols, at least 1.",
            f"Give --payload like '{EXAMPLE}', or fix \"payload\" in the benchmark's benchmark.json.",
        )
    if payload["num_of_rows"] * payload["num_of_cols"] > 1_000_000:
        raise faas_check.Refuse(
            "The chameleon payload asks for more than a million cells.",
            "Give --payload like '{\"num_of_rows\": 100, \"num_of_cols\": 100}', or fix \"payload\" in the "
            "benchmark's benchmark.json.",
        )
    return params


def expected_table(rows, cols):
    """Every row holds the cells 1..C, each <span class="column-k">k</span> in its own <td>, one element per line."""
    row = "<tr>\n" + "".join(f'<td>\n<span class="column-{k}">{k}</span>\n</td>\n' for k in range(1, cols + 1))
    return '<table xmlns="http://www.w3.org/1999/xhtml">\n' + (row + "</tr>\n") * rows + "</table>"


def differences(payload, answer):
    rows, cols = payload["num_of_rows"], payload["num_of_cols"]
    text = expected_table(rows, cols)
    found = []
    if answer.get("rows") != rows or answer.get("cols") != cols:
        found.append(f"the table is {answer.get('rows')}×{answer.get('cols')}, expected {rows}×{cols}")
    if answer.get("length") != len(text):
        found.append(f"the HTML is {answer.get('length')} characters long, expected {len(text)}")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if answer.get("sha256") != digest:
        found.append(f"the HTML's sha256 is {answer.get('sha256')}, expected {digest}")
    return found


def check(run):
    answer = run.invoke(run.payload) or {}
    with run.timed("verify"):
        found = differences(run.payload, answer)
    return {
        "differences": found,
        "verified": f"a {run.payload['num_of_rows']}×{run.payload['num_of_cols']} table, its HTML's digest as expected",
        "output": answer,
        "config": {"payload": run.payload},
    }


if __name__ == "__main__":
    faas_check.main(check, validate)
