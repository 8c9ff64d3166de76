# An interactive cvc5 1.3 for cedar-policy-symcc, from PyPI's `cvc5` wheel
# (which ships the library and its Python bindings, no executable): reads
# SMT-LIB commands from stdin, runs each through the wheel's InputParser as
# `cvc5 --lang smt` would, and writes each command's output at once.
# Arguments as cvc5 takes them: `--lang smt` (the only language), and
# `--OPTION=VALUE` options (`--tlimit-per=MS` bounds each check).
import os
import sys

import cvc5


def options(argv):
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--lang":
            skip = True
            continue
        if arg.startswith("--") and "=" in arg:
            name, value = arg[2:].split("=", 1)
            yield name, value
        elif arg.startswith("--"):
            yield arg[2:], "true"


def split(text):
    """The whole top-level s-expressions at the start of `text` (outside
    strings, quoted symbols and comments), and what is left after them."""
    expressions = []
    depth = 0
    start = None
    in_string = in_symbol = in_comment = False
    consumed = 0
    for at, ch in enumerate(text):
        if in_comment:
            in_comment = ch != "\n"
        elif in_string:
            in_string = ch != '"'
        elif in_symbol:
            in_symbol = ch != "|"
        elif ch == ";":
            in_comment = True
        elif ch == '"':
            in_string = True
        elif ch == "|":
            in_symbol = True
        elif ch == "(":
            if depth == 0:
                start = at
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and start is not None:
                expressions.append(text[start : at + 1])
                consumed = at + 1
                start = None
    return expressions, text[consumed:]


def main():
    # cvc5 warns on stderr, which the caller may never read: a full pipe
    # would block the solver, so warnings go nowhere
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    tm = cvc5.TermManager()
    solver = cvc5.Solver(tm)
    for name, value in options(sys.argv[1:]):
        # a process-wide wall-clock limit has no meaning here; each check is bounded
        if name == "tlimit":
            name = "tlimit-per"
        solver.setOption(name, value)
    symbols, parser = fresh(solver, tm)
    pending = ""
    for line in sys.stdin:
        pending += line
        expressions, pending = split(pending)
        for expression in expressions:
            # each command parsed alone: after (reset), a new parser, as
            # cvc5's own reader starts afresh (a second set-logic is allowed)
            parser.setIncrementalStringInput(cvc5.InputLanguage.SMT_LIB_2_6, "stdin")
            parser.appendIncrementalStringInput(expression)
            try:
                command = parser.nextCommand()
            except RuntimeError as error:
                message = str(error).replace('"', "'")
                sys.stdout.write('(error "Parse Error: %s")\n' % message)
                sys.stdout.flush()
                return 1
            if command.isNull():
                continue
            name = command.getCommandName()
            if name == "exit":
                return 0
            output = command.invoke(solver, symbols)
            if output:
                sys.stdout.write(output)
                if not output.endswith("\n"):
                    sys.stdout.write("\n")
                sys.stdout.flush()
            if name == "reset":
                symbols, parser = fresh(solver, tm)
    return 0


def fresh(solver, tm):
    symbols = cvc5.SymbolManager(tm)
    return symbols, cvc5.InputParser(solver, symbols)


sys.exit(main())
