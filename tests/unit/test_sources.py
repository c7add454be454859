"""A configuration's sourceUrl reads only inside LADING_SOURCES_DIR (SPEC §7)."""

import pytest

from lading.application.sources import SourceRefused, Sources


def test_a_relative_path_inside_the_directory_is_the_file_as_it_is_now(tmp_path):
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "a.csv").write_text("id\n1\n")
    assert Sources(tmp_path).local_file("feeds/a.csv") == (tmp_path / "feeds" / "a.csv").resolve()


@pytest.mark.parametrize("url", ["../a.csv", "feeds/../../a.csv", "/etc/passwd", "file:///etc/passwd",
                                 "http://example.com/a.csv", "C:/a.csv", "\\\\host\\share\\a.csv"])
def test_anything_that_could_leave_the_directory_is_refused_before_it_is_saved(tmp_path, url):
    with pytest.raises(SourceRefused):
        Sources(tmp_path).check(url)


def test_a_symlink_leading_out_of_the_directory_is_refused_when_read(tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("id\n1\n")
    root = tmp_path / "sources"
    root.mkdir()
    (root / "link.csv").symlink_to(outside)
    with pytest.raises(SourceRefused, match="leave"):
        Sources(root).local_file("link.csv")


def test_a_missing_file_or_an_unset_directory_is_refused_with_a_reason(tmp_path):
    with pytest.raises(SourceRefused, match="not a file"):
        Sources(tmp_path).local_file("nothing.csv")
    with pytest.raises(SourceRefused, match="LADING_SOURCES_DIR"):
        Sources(None).check("a.csv")


def test_a_name_too_long_for_the_file_system_is_refused_not_raised(tmp_path):
    with pytest.raises(SourceRefused, match="not a file"):
        Sources(tmp_path).local_file("0" * 5000)


def test_s3_sources_need_s3_configured(tmp_path):
    with pytest.raises(SourceRefused, match="S3"):
        Sources(tmp_path).check("s3://bucket/key.csv")
