"""riverbed's local file system for Spark (java.nio instead of a forked chmod/readlink per file)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from riverbed.spark import localfs

pytestmark = pytest.mark.spark


def _hadoop(spark):
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    return jvm, conf, jvm.org.apache.hadoop.fs.Path


@pytest.mark.skipif(localfs.javac() is None, reason="no javac (a JRE only): Hadoop's stock classes are used")
def test_the_session_uses_it_and_files_get_their_permissions(spark, tmp_path: Path) -> None:
    jvm, conf, HPath = _hadoop(spark)
    fs = HPath(f"file://{tmp_path}").getFileSystem(conf)
    assert fs.getClass().getName() == localfs.FS_CLASS
    assert fs.getRawFileSystem().getClass().getName() == f"{localfs.FS_CLASS}$Raw"

    perm = jvm.org.apache.hadoop.fs.permission.FsPermission
    d = HPath(f"file://{tmp_path}/a/b")
    assert fs.mkdirs(d, perm(0o750))
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "b").st_mode) == 0o750
    out = fs.create(HPath(f"file://{tmp_path}/a/b/f"), perm(0o640), True, 4096, 1, 1 << 20, None)
    out.write(b"twelve bytes")
    out.close()
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "b" / "f").st_mode) == 0o640
    assert (tmp_path / "a" / "b" / "f").read_bytes() == b"twelve bytes"
    fs.setPermission(HPath(f"file://{tmp_path}/a/b/f"), perm(0o604))
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "b" / "f").st_mode) == 0o604
    st = fs.getFileStatus(HPath(f"file://{tmp_path}/a/b/f"))
    assert st.getLen() == 12 and st.getPermission().toShort() == 0o604

    # link status: what Hadoop's stock class answers, for a file, a symlink and a missing path
    raw = fs.getRawFileSystem()
    stock = jvm.org.apache.hadoop.fs.RawLocalFileSystem()
    stock.initialize(HPath("file:///").toUri(), conf)
    os.symlink(tmp_path / "a" / "b" / "f", tmp_path / "link")
    for name in ("a/b/f", "link", "a"):
        ours, theirs = (x.getFileLinkStatus(HPath(f"file://{tmp_path}/{name}")) for x in (raw, stock))
        assert (ours.isSymlink(), ours.isDirectory(), ours.getLen(), ours.getPermission().toShort()) == (
            theirs.isSymlink(), theirs.isDirectory(), theirs.getLen(), theirs.getPermission().toShort()), name
    with pytest.raises(Exception, match=r"FileNotFound|No such file|does not exist"):
        raw.getFileLinkStatus(HPath(f"file://{tmp_path}/missing"))


@pytest.mark.skipif(localfs.javac() is None, reason="no javac (a JRE only): Hadoop's stock classes are used")
def test_file_context_renames_like_spark_checkpoints_do(spark, tmp_path: Path) -> None:
    """Spark's offset/commit logs write a temp file and rename it through FileContext."""
    jvm, conf, HPath = _hadoop(spark)
    fc = jvm.org.apache.hadoop.fs.FileContext.getFileContext(HPath(f"file://{tmp_path}").toUri(), conf)
    assert fc.getDefaultFileSystem().getClass().getName() == localfs.FS_CONTEXT_CLASS
    src, dst = HPath(f"file://{tmp_path}/.0.tmp"), HPath(f"file://{tmp_path}/0")
    create_flags = jvm.java.util.EnumSet.of(jvm.org.apache.hadoop.fs.CreateFlag.CREATE)
    no_opts = spark.sparkContext._gateway.new_array(jvm.org.apache.hadoop.fs.Options.CreateOpts, 0)
    out = fc.create(src, create_flags, no_opts)
    out.write(b"v1\n{}")
    out.close()
    no_options = spark.sparkContext._gateway.new_array(jvm.org.apache.hadoop.fs.Options.Rename, 0)
    fc.rename(src, dst, no_options)
    assert (tmp_path / "0").read_bytes() == b"v1\n{}" and not (tmp_path / ".0.tmp").exists()
    with pytest.raises(Exception, match=r"FileAlreadyExists|already exists"):  # no silent overwrite
        fc.create(src, create_flags, no_opts).close()
        fc.rename(src, dst, no_options)


def test_no_javac_means_hadoops_own_classes(monkeypatch) -> None:
    monkeypatch.setattr(localfs, "javac", lambda: None)
    assert localfs.spark_conf({}) == {}
    monkeypatch.setattr(localfs, "build_jar", lambda: Path("/x/riverbed-localfs.jar"))
    conf = localfs.spark_conf({"spark.driver.extraClassPath": "/opt/extra.jar"})
    assert conf["spark.driver.extraClassPath"] == f"/opt/extra.jar{os.pathsep}/x/riverbed-localfs.jar"
    assert conf["spark.hadoop.fs.file.impl"] == localfs.FS_CLASS
    assert localfs.spark_conf({"spark.hadoop.fs.file.impl": "org.example.Fs"}) == {}  # the user's choice wins

    def no_temp_dir() -> Path:
        raise PermissionError("/tmp is read-only (test)")

    monkeypatch.setattr(localfs, "build_jar", no_temp_dir)
    assert localfs.spark_conf({}) == {}  # Spark still starts, with Hadoop's classes
    monkeypatch.setenv(localfs.ENV_DISABLE, "0")
    assert localfs.spark_conf({}) == {}


def test_a_compile_error_falls_back(monkeypatch, tmp_path: Path) -> None:
    bad = tmp_path / "java" / "riverbed" / "hadoop"
    bad.mkdir(parents=True)
    (bad / "Broken.java").write_text("package riverbed.hadoop; class Broken { int x = ; }")
    monkeypatch.setattr(localfs, "SOURCES", tmp_path / "java")
    if localfs.javac() is None:
        pytest.skip("no javac")
    assert localfs.build_jar() is None
