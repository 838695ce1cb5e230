# SPDX-License-Identifier: GPL-2.0
"""Command lines of the selftests' helpers that run in lab guests.

argparse, and the re, shutil and gettext it imports, cost a TCG guest a
tenth of a second at each start of a helper, and a run starts hundreds.
The helpers' command lines are simple: words in a fixed order, and options
"--name VALUE" ("--name" alone for a flag) anywhere among them.

    a = opts.parse(__doc__, "mode:server|client addr port:int",
                   "--count:int=10 --until --ctl! --connect:flag")

A word is NAME[:TYPE]; the last may end in "+" (one or more: a list);
TYPE is int, float, or the choices a|b|c.  An option is
--NAME[:TYPE][=DEFAULT][!]: TYPE as for words, or flag (no value, False
unless given); "!" makes it required; without a default it is None.
The result has an attribute per word and option (dashes as underscores).
opts.parse_sub(doc, {"client": (WORDS, OPTIONS), ...}) takes the first
word as a command naming the spec for the rest (and sets .cmd).
-h or --help prints DOC; a bad command line prints what is wrong and DOC's
first line on stderr and exits with status 2, as argparse does.
"""

import sys


class Args:
    def __repr__(self):
        return "Args(%s)" % ", ".join("%s=%r" % kv for kv in sorted(vars(self).items()))


class _Bad(Exception):
    pass


def _split(spec):
    """NAME[:TYPE][=DEFAULT][!] -> name, type, default, required."""
    required = spec.endswith("!")
    spec = spec.rstrip("!")
    spec, eq, default = spec.partition("=")
    name, _, kind = spec.partition(":")
    return name, kind, default if eq else None, required


def _value(name, kind, text):
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        raise _Bad("%s: invalid %s value: %r" % (name, kind, text)) from None
    if "|" in kind and text not in kind.split("|"):
        raise _Bad("%s: invalid choice: %r (choose from %s)"
                   % (name, text, ", ".join(kind.split("|"))))
    return text


def _parse(words, options, argv):
    a = Args()
    opts = {}
    for spec in options.split():
        name, kind, default, required = _split(spec[2:])
        opts[name] = (kind, required)
        attr = name.replace("-", "_")
        if kind == "flag":
            setattr(a, attr, False)
        else:
            setattr(a, attr, None if default is None else _value(name, kind, default))
    given = set()
    rest = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--":
            rest += args
            break
        if not arg.startswith("--") or arg == "--":
            rest.append(arg)
            continue
        name, eq, text = arg[2:].partition("=")
        if name not in opts:
            raise _Bad("unrecognized option: --%s" % name)
        kind = opts[name][0]
        given.add(name)
        if kind == "flag":
            if eq:
                raise _Bad("--%s takes no value" % name)
            setattr(a, name.replace("-", "_"), True)
            continue
        if not eq:
            if not args:
                raise _Bad("--%s needs a value" % name)
            text = args.pop(0)
        setattr(a, name.replace("-", "_"), _value("--" + name, kind, text))
    missing = ["--" + n for n, (_, req) in opts.items() if req and n not in given]
    specs = words.split()
    for i, spec in enumerate(specs):
        many = spec.endswith("+")
        name, kind, _, _ = _split(spec.rstrip("+"))
        if many and i == len(specs) - 1:
            if not rest:
                missing.append(name)
            setattr(a, name, [_value(name, kind, w) for w in rest])
            rest = []
        elif rest:
            setattr(a, name, _value(name, kind, rest.pop(0)))
        else:
            missing.append(name)
    if missing:
        raise _Bad("the following arguments are required: %s" % ", ".join(missing))
    if rest:
        raise _Bad("unrecognized arguments: %s" % " ".join(rest))
    return a


def _run(doc, fn, argv):
    argv = sys.argv[1:] if argv is None else argv
    if "-h" in argv or "--help" in argv:
        print((doc or "").strip())
        sys.exit(0)
    try:
        return fn(argv)
    except _Bad as e:
        first = (doc or "").strip().splitlines()[:1]
        print("%s: error: %s%s" % (sys.argv[0], e, "".join("\n  " + f for f in first)),
              file=sys.stderr)
        sys.exit(2)


def parse(doc, words, options="", argv=None):
    return _run(doc, lambda argv: _parse(words, options, argv), argv)


def parse_sub(doc, commands, argv=None):
    def sub(argv):
        if not argv or argv[0] not in commands:
            raise _Bad("the command must be one of %s" % ", ".join(commands))
        a = _parse(*commands[argv[0]], argv[1:])
        a.cmd = argv[0]
        return a
    return _run(doc, sub, argv)
