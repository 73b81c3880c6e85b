"""riverbed.spark.jars: which jars a session gets, and the settings that go with them (no JVM)."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from riverbed.spark import jars

POM = Path(__file__).parents[2] / "jvm" / "pom.xml"


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jars, "_warned", False)
    monkeypatch.delenv(jars.ENV_JARS, raising=False)


def folder_with(tmp_path: Path, *names: str) -> Path:
    for name in names:
        (tmp_path / name).write_bytes(b"PK")
    return tmp_path


def pom_coordinates() -> list[str]:
    """group:artifact:version of jvm/pom.xml's dependencies, with its ${properties} filled in."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    root = ET.parse(POM).getroot()
    props = {p.tag.split("}")[1]: p.text or "" for p in root.find("m:properties", ns)}

    def text(dep: ET.Element, tag: str) -> str:
        value = dep.find(f"m:{tag}", ns).text or ""
        for key, prop in props.items():
            value = value.replace("${" + key + "}", prop)
        return value

    deps = root.findall("m:dependencies/m:dependency", ns)
    return [":".join(text(d, t) for t in ("groupId", "artifactId", "version")) for d in deps]


def test_the_documented_packages_are_the_poms() -> None:
    assert pom_coordinates() == list(jars.PACKAGES)


def test_the_project_cache_is_found_from_the_checkout() -> None:
    assert jars.jars_dir() == POM.parents[1] / ".cache" / "jars"


def test_jars_from_the_env_folder_go_first_in_spark_jars(tmp_path, monkeypatch) -> None:
    folder = folder_with(tmp_path, "b.jar", "a.jar", "notes.txt")
    monkeypatch.setenv(jars.ENV_JARS, str(folder))
    conf = jars.spark_conf({"spark.jars": "/opt/mine.jar"})
    assert conf == {"spark.jars": f"{folder}/a.jar,{folder}/b.jar,/opt/mine.jar"}


def test_delta_among_the_jars_brings_its_extension_and_catalog(tmp_path, monkeypatch) -> None:
    delta = folder_with(tmp_path, "delta-spark_4.2_2.13-4.4.0.jar") / "delta-spark_4.2_2.13-4.4.0.jar"
    monkeypatch.setenv(jars.ENV_JARS, str(delta.parent))
    assert jars.spark_conf({}) == {"spark.jars": str(delta), **jars.DELTA_CONF}
    # a user's own extensions stay, after Delta's; a catalog they chose is theirs
    conf = jars.spark_conf({"spark.sql.extensions": "my.Ext", "spark.sql.catalog.spark_catalog": "my.Cat"})
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension,my.Ext"
    assert "spark.sql.catalog.spark_catalog" not in conf


def test_a_missing_cache_is_reported_once_and_changes_nothing(tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.setenv(jars.ENV_JARS, str(tmp_path / "absent"))
    with caplog.at_level(logging.WARNING, logger=jars.__name__):
        assert jars.spark_conf({}) == {}
        assert jars.spark_conf({}) == {}
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "make jars" in warnings[0] and "absent" in warnings[0]


@pytest.mark.parametrize("off", ["none", ""])
def test_none_turns_the_jars_off_silently(off, monkeypatch, caplog) -> None:
    monkeypatch.setenv(jars.ENV_JARS, off)
    with caplog.at_level(logging.WARNING, logger=jars.__name__):
        assert jars.spark_conf({}) == {}
    assert caplog.records == []
