

def test_event_times_of_a_file_learn_its_layout() -> None:
    """`riverbed ingest replay --log-times`: one reader per file, its layout learned from the first line."""
    from riverbed.apps.logwatch.lines import event_time, event_times

    lines = (LOGHUB / "Thunderbird_2k.log").read_text(encoding="utf-8").splitlines()[:50]
    read = event_times()
    assert [read(ln.encode()) for ln in lines] == [event_time(ln) for ln in lines]
    assert read(lines[0]) == int(lines[0].split()[1]) * 1000
    assert read("\tat a.B.c(B.java:1)") is None  # a continuation: the replay keeps the previous time
