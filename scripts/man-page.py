#!/usr/bin/env python3
"""Turns swift-argument-parser's generated synwall(8) into the page the package installs.

usage: man-page.py GENERATED.8 DUMP_HELP.json TAIL.8 > synwall.8

generate-manual writes the CLI's own help as mdoc. This drops the commands the CLI hides
(shouldDisplay false in `synwall --experimental-dump-help`: test helpers), turns the blank
lines of multi-paragraph discussions into .Pp (groff warns about blank lines), and appends the
hand-written FILES and SEE ALSO sections.
"""
import json
import sys

generated, dump, tail = sys.argv[1:4]
with open(dump) as f:
    command = json.load(f)["command"]
hidden = {c["commandName"] for c in command.get("subcommands", []) if c.get("shouldDisplay") is False}

out = []
depth = 0
skip_at = None  # the list depth whose item is being skipped
for line in open(generated).read().split("\n"):
    if line.startswith(".Bl"):
        depth += 1
    elif line.startswith(".El"):
        if skip_at is not None and depth == skip_at:
            skip_at = None  # the list holding the hidden item ends
        depth -= 1
    elif line.startswith(".It") and skip_at is not None and depth == skip_at:
        skip_at = None  # the next item of the same list
    if skip_at is None and line.startswith(".It Em ") and depth == 1 and line[len(".It Em "):].strip() in hidden:
        skip_at = depth
    if skip_at is not None:
        continue
    out.append(".Pp" if line.strip() == "" else line)
while out and out[-1] == ".Pp":
    out.pop()
sys.stdout.write("\n".join(out) + "\n" + open(tail).read())
