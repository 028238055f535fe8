#!/usr/bin/env python3
"""Write fedproxy.conf(5) from the shipped, commented etc/fedproxy.conf.

The example config is the reference for every key; the manual is made from
it at build time, so the two cannot drift. Layout of the input: a leading
comment block (the description), then sections; in a section, the comment
block above a key documents it, and the key's value in the example is shown
as the example value."""
import re
import sys

src, dst, version = sys.argv[1:4]


def roff(text):
    """Escape text for a roff paragraph."""
    text = text.replace('\\', '\\e')
    return '\n'.join(('\\&' + line) if line[:1] and line[:1] in '.\'' else line
                     for line in text.split('\n'))


def paragraphs(lines):
    """Comment lines to roff: blank comment lines split paragraphs, indented
    lines are kept as they are (lists, examples)."""
    out, para = [], []
    for line in lines + ['']:
        if line.strip() == '' or line.startswith('  '):
            if para:
                out.append(roff(' '.join(para)))
                para = []
            if line.strip():
                out.append('.br\n' + roff(line.strip()))
            elif out and out[-1] != '.PP':
                out.append('.PP')
        else:
            para.append(line.strip())
    while out and out[-1] == '.PP':
        out.pop()
    return out


comment, head, body = [], None, []
for raw in open(src, encoding='utf-8').read().split('\n'):
    line = raw.rstrip()
    m = re.match(r'^[;#] ?(.*)$', line)
    if m:
        comment.append(m.group(1))
        continue
    sec = re.match(r'^\[(.+)\]$', line)
    key = re.match(r'^([a-z_]+)\s*=\s*(.*)$', line)
    if sec:
        if comment:
            body += ['.PP'] + paragraphs(comment)
        body.append('.SS [%s]' % roff(sec.group(1)))
    elif key:
        body.append('.TP\n.B %s\n(example: %s)' % (key.group(1), roff(key.group(2)) or 'empty'))
        body += paragraphs(comment)
    elif line == '' and head is None and comment:
        head = paragraphs(comment)
    else:
        if comment and head is not None:
            body += ['.PP'] + paragraphs(comment)
        comment = []
        continue
    comment = []

with open(dst, 'w', encoding='utf-8') as out:
    out.write('.\\" Generated from etc/fedproxy.conf by etc/conf2man.py: do not edit.\n')
    out.write('.TH FEDPROXY.CONF 5 "" "fedproxy %s" "File Formats"\n' % version)
    out.write('.SH NAME\nfedproxy.conf \\- configuration of the fedproxy SIP federation edge proxy\n')
    out.write('.SH DESCRIPTION\n')
    out.write('\n'.join(head or []) + '\n')
    out.write('.SH KEYS\n')
    out.write('\n'.join(body) + '\n')
    out.write('.SH SEE ALSO\n.BR fedproxy (8),\n.BR fedproxyctl (8)\n')
