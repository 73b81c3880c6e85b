"""The public namespace stays small and deliberate (httpx's test_exported_members)."""

from __future__ import annotations

import riverbed
import riverbed.log


def test_top_level_exports() -> None:
    assert sorted(riverbed.__all__) == sorted(
        ["App", "LogRecord", "Output", "Pipeline", "Record", "RiverbedError", "TopicConfig", "__version__",
         "load_pipeline", "open_log"]
    )
    for name in riverbed.__all__:
        assert hasattr(riverbed, name), name


def test_log_exports_exist() -> None:
    for name in riverbed.log.__all__:
        assert hasattr(riverbed.log, name), name


def test_importing_riverbed_does_not_import_spark_or_kafka() -> None:
    import subprocess
    import sys

    code = (
        "import sys, riverbed, riverbed.log; "
        "print(any(m.startswith(('pyspark', 'confluent_kafka')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
