"""tests/json/commands.txt, the list of every command as users type it, read once for the checks
that run them all (validate.py: JSON schemas; tests/csv/check_csv.py: CSV columns;
tests/cli/width.py: 80 columns)."""
import os
import shlex


def read_commands(source, gguf, tmp):
    """[(line number, column-set name, kvplan arguments)], with ${GGUF}, ${FIXTURES}, ${EXAMPLES}
    and ${TMP} replaced."""
    subs = {"GGUF": gguf, "FIXTURES": os.path.join(source, "tests", "fixtures"),
            "EXAMPLES": os.path.join(source, "examples"), "TMP": tmp}
    out = []
    with open(os.path.join(source, "tests", "json", "commands.txt")) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            for key, value in subs.items():
                line = line.replace("${" + key + "}", value)
            name, *args = shlex.split(line)
            out.append((number, name, args))
    return out
