#!/usr/bin/env python3
"""The longest function of each module under Sources/ (or the folder given), in lines.

A rough measure for reviews of the code's shape (issue 16): declarations of func, init,
subscript and computed properties, brace-counted, with string literals and // comments
stripped first. Prints one line per module: lines, file:line and the declaration.

    python3 scripts/longest-functions.py [Sources]
"""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else "Sources"
decl = re.compile(r'^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|package|static|final|override|mutating|nonmutating|nonisolated|class|convenience|required|@inlinable|@usableFromInline|@discardableResult)\s+)*(func\s+[^\s(<]+|init[?!]?|subscript|var\s+\w+\s*:[^=]*\{\s*$)')
def strip(line):
    line = re.sub(r'"(?:\\.|[^"\\])*"', '""', line)
    i = line.find('//')
    return line if i < 0 else line[:i]
res = {}
for mod in sorted(os.listdir(root)):
    best = (0, "")
    for dp, _, fs in os.walk(os.path.join(root, mod)):
        for f in fs:
            if not f.endswith('.swift'): continue
            p = os.path.join(dp, f)
            lines = open(p, encoding='utf-8', errors='replace').read().split('\n')
            i = 0
            while i < len(lines):
                m = decl.match(lines[i])
                if m:
                    depth = 0; started = False; j = i
                    while j < len(lines):
                        s = strip(lines[j])
                        depth += s.count('{') - s.count('}')
                        if '{' in s: started = True
                        if started and depth <= 0: break
                        if not started and j > i + 15: break
                        j += 1
                    if started:
                        n = j - i + 1
                        if n > best[0]: best = (n, f"{os.path.relpath(p, root)}:{i+1} {m.group(1).strip()}")
                i += 1
    if best[0]: res[mod] = best
for mod, (n, w) in res.items(): print(f"{mod:16} {n:4}  {w}")
