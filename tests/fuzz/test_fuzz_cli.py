"""Fuzz the CLI in-process: generated argv for topics/produce/consume/query ends with exit status 0, 1
or 2 and at most a couple of lines on stderr; never a traceback, never an 'unexpected' error; and
every command prints user-supplied text with its control characters and terminal escapes escaped."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzzcount import cases
from hypothesis import given
from hypothesis import strategies as st
from strategies import near_miss

from riverbed.cli import command_names, main
from riverbed.log import open_log
from riverbed.safetext import is_printable

_ISO = ["2016-07-07T00:00:00Z", "2016-07-07", "1467849600000"]
#: what users type as times and offsets: near misses, words, digits that are not ASCII, huge numbers
TIMES = st.one_of(near_miss(st.sampled_from(_ISO)), st.sampled_from(
    ["beginning", "end", "latest", "0", "-1", "²", "١٢", "9" * 30, "1" * 5000, "", " ", "2016-02-30", "nan",
     "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"]), st.text(max_size=12))
NUMBERS = st.one_of(st.integers(-5, 10**25).map(str), st.text(max_size=6),
                    st.sampled_from(["1e3", "0x10", "", "١", "²", "1" * 5000]))
NAMES = st.one_of(st.text(max_size=12), st.sampled_from(
    ["t", "t.dlq", "no-such", "../x", "/abs", "a" * 300, "x\x00y", ".", "..", "__riverbed", "t t"]))
#: what makes a message misbehave on a terminal: line breaks, escapes (CSI, OSC, C1), bidi overrides
CONTROLS = st.sampled_from(["\n", "\r", "\x0b", "\x0c", "\x1b[2J", "\x1b]0;title\x07", "\x9b31m", "\u202e",
                            "\u2028", "\x00", "\x7f", "\t", "\udcff"])
TAINTED = st.lists(st.one_of(CONTROLS, st.text(max_size=4)), min_size=1, max_size=4).map("".join)
WORDS = st.one_of(st.text(max_size=12), st.sampled_from(
    ["level=ERROR", "=", "a=", "x;drop table t", "time:desc", "time:up", "'", '"', "a=b=c"]))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A riverbed home with topic `t` (2 partitions, a few records) and a file of lines for produce."""
    h = tmp_path_factory.mktemp("clihome")
    assert main(["--home", str(h), "topics", "create", "t", "--partitions", "2"]) == 0
    with open_log(home=h) as log:
        log.append_values("t", [b'{"k": 1}', b"plain", b"\xff"], keys=[b"a", None, b"b"])
    (h / "lines.txt").write_bytes(b'{"k": "a"}\nnot json\n[1]\n' + b"[" * 50_000 + b"\n")
    return h


def flag(name: str, values: st.SearchStrategy[str], most: int = 1) -> st.SearchStrategy[list[str]]:
    """`name VALUE` zero to `most` times."""
    return st.lists(values, max_size=most).map(lambda vs: [x for v in vs for x in (name, v)])


def _argvs(home: Path) -> st.SearchStrategy[list[str]]:
    consume = st.builds(lambda n, *rest: ["consume", n, *(x for r in rest for x in r)], NAMES,
                        flag("--from", TIMES), flag("--max", NUMBERS), flag("--partition", NUMBERS),
                        st.sampled_from([[], ["--json"], ["--headers"]]))
    topics = st.one_of(
        st.builds(lambda n, p, r: ["topics", "create", n, "--partitions", p, *r], NAMES, NUMBERS,
                  flag("--retention-ms", NUMBERS)),
        st.builds(lambda n, j: ["topics", "describe", n, *j], NAMES, st.sampled_from([[], ["--json"]])),
        st.builds(lambda n: ["topics", "delete", n], NAMES.filter(lambda n: n != "t")),
        st.just(["topics", "list"]))
    produce = st.builds(lambda n, k, p: ["produce", n, "--file", str(home / "lines.txt"), *k, *p], NAMES,
                        st.one_of(st.just([]), WORDS.map(lambda w: ["--key-field", w]),
                                  WORDS.map(lambda w: ["--key", w])),
                        flag("--partition", NUMBERS))
    query = st.builds(lambda o, *rest: ["query", *o, *(x for r in rest for x in r)],
                      st.lists(NAMES, max_size=1), flag("--where", WORDS, 2), flag("--since", TIMES),
                      flag("--order", WORDS), flag("--limit", NUMBERS))
    return st.one_of(consume, topics, produce, query)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """main(argv) in-process: (exit status, stdout, stderr); a usage error's SystemExit is its status."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="replace", write_through=True)
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:  # argparse: usage errors (2) and --help (0)
            code = e.code if isinstance(e.code, int) else 1
    return code, out.buffer.getvalue().decode("utf-8", "replace"), err.getvalue()


@given(data=st.data())
def test_cli_never_crashes(home: Path, data: st.DataObject) -> None:
    argv = ["--home", str(home), *data.draw(_argvs(home))]
    argv = _no_nul(argv)
    cases(f"cli {argv[2]}")
    code, out, err = run_cli(argv)
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err and "unexpected" not in err, (argv, err)
    assert is_printable(err, "\n\t"), (argv, err)
    if not (argv[2] == "consume" and "--json" not in argv):  # consume to a pipe keeps the bytes as they are
        assert is_printable(out, "\n\t"), (argv, out)
    lines = [x for x in err.splitlines() if x.strip() and not x.startswith("riverbed: note")]
    if code:
        assert 1 <= len(lines) <= 2 and lines[-1].startswith(("riverbed", "usage", "produced")), (argv, err)


def _no_nul(argv: list[str]) -> list[str]:
    """A real argv cannot hold NUL (exec refuses it): show it as the two characters \\0."""
    return [a.replace("\x00", "\\0") for a in argv]


#: commands that take a pipeline reference first: a tainted one must be refused before any work starts
PIPELINE_COMMANDS = ["run", "batch", "versions", "switch", "rollback", "drop", "reprocess"]


@given(command=st.sampled_from(command_names()), text=TAINTED, named=st.booleans())
def test_every_command_escapes_user_text(home: Path, command: str, text: str, named: bool) -> None:
    """Any command given an unknown option (or, for pipeline commands, an unknown pipeline) holding
    control characters answers with one line on stderr that holds none of them."""
    if named and command in PIPELINE_COMMANDS:
        argv = [command, "zz" + text, *(["v1"] if command in ("switch", "drop") else [])]
    else:  # '--zz-' matches no option of any command, not even as an abbreviation
        argv = [command, "--zz-" + text]
    argv = ["--home", str(home), *_no_nul(argv)]
    cases("cli escapes user text")
    code, out, err = run_cli(argv)
    assert code in (1, 2), (argv, code, err)
    assert "Traceback" not in err and "unexpected" not in err, (argv, err)
    assert is_printable(err, "\n") and is_printable(out, "\n"), (argv, err)
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("riverbed"), (argv, err)


@pytest.fixture(autouse=True)
def _no_leftovers(home: Path) -> Iterator[None]:
    yield
    assert not (home.parent / "x").exists() and not Path("/abs").exists()
