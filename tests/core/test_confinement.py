"""confinement: which values are URLs, how a declared path resolves, and whether a file
(symbolic links followed) lies outside the allowed folders; with the wording of each refusal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_featureprobe.confinement import (
    is_url,
    outside,
    outside_refusal,
    resolve,
    url_refusal,
)

# --- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "https://example.com/data.csv",
        "http://example.com/model.keras",
        "s3://bucket/key.csv",
        "file:///etc/passwd",
        "git+ssh://host/repo",
        "HTTPS://EXAMPLE.COM/x",
        "//host/share/data.csv",
        "\\\\host\\share\\data.csv",
        "  https://example.com/leading-space.csv",
    ],
)
def test_urls_and_network_shares_are_urls(value):
    assert is_url(value)


@pytest.mark.parametrize(
    "value",
    [
        "data.csv",
        "sub/data.csv",
        "/abs/data.csv",
        "./https://not-a-scheme",
        "C:\\data\\x.csv",
        "1http://x",  # a scheme begins with a letter
        "\\single\\backslash",
        "/single/slash",
        "name:with:colons.csv",
        "",
    ],
)
def test_local_paths_are_not_urls(value):
    assert not is_url(value)


def test_url_refusal_names_the_value_and_the_way_out():
    assert url_refusal("https://example.com/a.csv") == (
        "'https://example.com/a.csv' is a URL; featureprobe reads local files only and fetches "
        "nothing at run time: download it into the project and name the file"
    )


# --- resolve -------------------------------------------------------------------------------------


def test_a_relative_path_resolves_from_the_base_folder(tmp_path):
    assert resolve("data/a.csv", tmp_path) == tmp_path / "data" / "a.csv"
    assert resolve(Path("../up.csv"), str(tmp_path)) == tmp_path / ".." / "up.csv"


def test_an_absolute_path_stays_as_given(tmp_path):
    assert resolve("/abs/a.csv", tmp_path) == Path("/abs/a.csv")


def test_without_a_base_folder_the_path_stays_as_given():
    assert resolve("a.csv", None) == Path("a.csv")


# --- outside -------------------------------------------------------------------------------------


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A project folder and a folder beside it, each with one file."""
    project, other = tmp_path / "project", tmp_path / "other"
    (project / "sub").mkdir(parents=True)
    other.mkdir()
    (project / "sub" / "in.csv").write_text("x\n")
    (other / "out.csv").write_text("x\n")
    return project, other


def test_a_file_inside_a_root_is_not_outside(layout):
    project, _ = layout
    assert not outside(project / "sub" / "in.csv", [project])
    assert not outside(project, [project])  # the root itself
    assert not outside(project / "not-yet-written.json", [project])


def test_a_file_beside_the_root_is_outside(layout):
    project, other = layout
    assert outside(other / "out.csv", [project])
    assert outside(project / ".." / "other" / "out.csv", [project])  # climbing out with ..


def test_a_folder_whose_name_starts_like_the_root_is_outside(tmp_path):
    (tmp_path / "project").mkdir()
    (tmp_path / "project-old").mkdir()
    assert outside(tmp_path / "project-old" / "a.csv", [tmp_path / "project"])


def test_any_of_several_roots_allows_a_file(layout):
    project, other = layout
    assert not outside(other / "out.csv", [project, other])
    assert outside(other / "out.csv", [])


def test_a_symbolic_link_inside_the_root_to_a_file_outside_is_outside(layout):
    project, other = layout
    link = project / "link.csv"
    os.symlink(other / "out.csv", link)
    assert outside(link, [project])
    folder_link = project / "linked"
    os.symlink(other, folder_link, target_is_directory=True)
    assert outside(folder_link / "out.csv", [project])


def test_a_symbolic_link_outside_to_a_file_inside_is_inside(layout):
    project, other = layout
    link = other / "back.csv"
    os.symlink(project / "sub" / "in.csv", link)
    assert not outside(link, [project])


def test_a_root_named_through_a_link_is_followed_too(layout, tmp_path):
    project, _ = layout
    alias = tmp_path / "alias"
    os.symlink(project, alias, target_is_directory=True)
    assert not outside(project / "sub" / "in.csv", [alias])
    assert not outside(alias / "sub" / "in.csv", [project])


def test_outside_refusal_names_the_value_the_roots_and_the_way_out():
    assert outside_refusal("../x.csv", [Path("/p"), Path("/q")]) == (
        "../x.csv is outside the project (/p, /q); allow its folder with "
        "--featureprobe-allow-path DIR or the featureprobe_allowed_paths ini option"
    )
