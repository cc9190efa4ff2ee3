# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Render who may do what (an access matrix) and the findings as Markdown or self-contained HTML."""

from __future__ import annotations

import html
from typing import Any, Mapping, Sequence, Set, Tuple

from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.access import Matrix, less_than_anonymous

WARNING_MARK = "⚠"


def _cell(cell: Mapping[str, Any], flagged: bool) -> Tuple[str, str, bool]:
    text = ", ".join(cell["actions"]) if cell["actions"] else "—"
    entry = "acl[%d]" % cell["entry"] if cell["entry"] is not None else "no entry"
    return text, entry, flagged


def _flags(matrix: Matrix) -> Set[Tuple[str, str]]:
    """(row label, identity) pairs where a logged-in user gets less than anonymous."""
    return {(row["label"], who) for row in matrix["rows"] for who in less_than_anonymous(matrix, row)}


def markdown(matrix: Matrix, findings: Sequence[Mapping[str, str]], title: str = "Registry access") -> str:
    flags = _flags(matrix)
    lines = ["# %s" % title, "",
             "Actions each identity gets on a repository (docker_auth semantics: the first matching ACL entry "
             "decides; the entry is named under the actions). %s marks a logged-in user who gets less than an "
             "anonymous client." % WARNING_MARK, ""]
    lines.append("| repository | sample | " + " | ".join(matrix["identities"]) + " |")
    lines.append("| --- | --- | " + " | ".join("---" for _identity in matrix["identities"]) + " |")
    for row in matrix["rows"]:
        cells = []
        for who in matrix["identities"]:
            text, entry, flagged = _cell(row["cells"][who], (row["label"], who) in flags)
            cells.append("%s%s<br>%s" % (WARNING_MARK + " " if flagged else "", text, entry))
        lines.append("| `%s` | `%s` | %s |" % (row["label"], row["repository"], " | ".join(cells)))
    lines += ["", "## Findings", ""]
    if not findings:
        lines.append("None.")
    for finding in findings:
        lines.append("- **%s** `%s`: %s" % (finding["level"], finding["where"], finding["message"]))
    return "\n".join(lines) + "\n"


def html_page(matrix: Matrix, findings: Sequence[Mapping[str, str]], title: str = "Registry access") -> str:
    flags = _flags(matrix)
    esc = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>%s</title>" % esc(title),
           "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
           "th,td{border:1px solid #999;padding:.4em .7em;vertical-align:top}th{background:#eee}"
           "td.none{color:#888}td.flag{background:#fde2c8}small{color:#555}"
           "li.error{color:#a00}li.warning{color:#8a5a00}code{background:#f3f3f3}</style></head><body>",
           "<h1>%s</h1>" % esc(title),
           "<p>Actions each identity gets on a repository. The first matching ACL entry decides; it is named "
           "under the actions. Cells marked %s: a logged-in user gets less than an anonymous client.</p>" % WARNING_MARK,
           "<table><tr><th>repository</th><th>sample</th>" + "".join("<th>%s</th>" % esc(w) for w in matrix["identities"]) + "</tr>"]
    for row in matrix["rows"]:
        cells = []
        for who in matrix["identities"]:
            text, entry, flagged = _cell(row["cells"][who], (row["label"], who) in flags)
            css = "flag" if flagged else ("none" if text == "—" else "")
            cells.append('<td class="%s">%s%s<br><small>%s</small></td>' % (
                css, WARNING_MARK + " " if flagged else "", esc(text), esc(entry)))
        out.append("<tr><td><code>%s</code></td><td><code>%s</code></td>%s</tr>" % (
            esc(row["label"]), esc(row["repository"]), "".join(cells)))
    out.append("</table><h2>Findings</h2><ul>")
    if not findings:
        out.append("<li>None.</li>")
    for finding in findings:
        out.append('<li class="%s"><b>%s</b> <code>%s</code>: %s</li>' % (
            esc(finding["level"]), esc(finding["level"]), esc(finding["where"]), esc(finding["message"])))
    out.append("</ul></body></html>")
    return "\n".join(out) + "\n"
