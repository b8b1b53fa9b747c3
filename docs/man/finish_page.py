#!/usr/bin/env python3
"""Finishes a page swift-argument-parser's generate-manual wrote: a blank line becomes mdoc's
paragraph (.Pp; a blank line is a groff warning), the `help` subcommand it lists for a
command without subcommands goes, and its generic EXIT STATUS gives way to the page's own
sections (PAGE.in: EXIT STATUS, FILES, EXAMPLES, SEE ALSO).

usage: finish_page.py GENERATED EXTRA > PAGE
"""

import re
import sys

generated, extra = sys.argv[1], sys.argv[2]
with open(generated, encoding="utf-8") as f:
    text = f.read()
with open(extra, encoding="utf-8") as f:
    sections = f.read()

head, _, _ = text.partition('.Sh "EXIT STATUS"')
if (
    ".Sh COMMANDS" not in head
    and "\n.It Em search\n" not in head
    and "\n.It Em build\n" not in head
):
    # No subcommands: drop the `help` item and the empty subcommand list after it.
    head = re.sub(
        r"\.It Em help\nShow subcommand help information\.\n\.Bl -tag -width 6n\n.*?\.El\n",
        "",
        head,
        flags=re.DOTALL,
    )
lines = [".Pp" if line == "" else line for line in head.rstrip("\n").split("\n")]
sys.stdout.write("\n".join(lines) + "\n" + sections)
