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


def complete(text):
    """Whether `text` holds whole s-expressions (parentheses balanced outside
    strings, quoted symbols and comments)."""
    depth = 0
    in_string = in_symbol = in_comment = False
    seen = False
    for ch in text:
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
            depth += 1
            seen = True
        elif ch == ")":
            depth -= 1
    return seen and depth == 0 and not in_string and not in_symbol


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
    symbols = cvc5.SymbolManager(tm)
    parser = cvc5.InputParser(solver, symbols)
    pending = ""
    for line in sys.stdin:
        pending += line
        if not complete(pending):
            continue
        parser.setIncrementalStringInput(cvc5.InputLanguage.SMT_LIB_2_6, "stdin")
        parser.appendIncrementalStringInput(pending)
        pending = ""
        while True:
            try:
                command = parser.nextCommand()
            except RuntimeError as error:
                message = str(error).replace('"', "'")
                sys.stdout.write('(error "Parse Error: %s")\n' % message)
                sys.stdout.flush()
                return 1
            if command.isNull():
                break
            if command.getCommandName() == "exit":
                return 0
            output = command.invoke(solver, symbols)
            if output:
                sys.stdout.write(output)
                if not output.endswith("\n"):
                    sys.stdout.write("\n")
                sys.stdout.flush()
    return 0


sys.exit(main())
