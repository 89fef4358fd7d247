"""The vendor's version order and version ranges."""
import pytest
from hypothesis import given, strategies as st

from app.triage.versions import (VersionError, first_fix_after, is_affected, is_fixed, parse_range,
                                 parse_version as v, sort_versions)


def test_dotted_components_compare_as_numbers():
    assert v("32.6.1.4") < v("32.6.10.0")
    assert v("32.6.9.9") < v("32.6.10.0")
    assert v("8.2.0.0") < v("8.10.0.0")
    assert v("31.7.2.28") < v("32.1.1.6")


def test_missing_trailing_components_are_zero():
    assert v("32.6") == v("32.6.0.0")
    assert v("32.6.0.1") > v("32.6")


def test_patch_suffixes_follow_their_base_and_precede_the_next_release():
    ordered = ["32.6.1.4", "32.6.1.4-patch1-5", "32.6.1.4-patch1-10", "32.6.1.4-patch2-1", "32.6.1.5"]
    assert sort_versions(reversed(ordered)) == ordered
    assert sort_versions(["5.9.7.0-010R", "5.9.7.0", "5.9.7.0-005R"]) == ["5.9.7.0", "5.9.7.0-005R", "5.9.7.0-010R"]


def test_suffix_case_does_not_matter():
    assert v("32.6.1.4-Patch1-5") == v("32.6.1.4-patch1-5")


@pytest.mark.parametrize("text", ["", "abc", "32..6", "32.6.", ".32", "32.6 1", "32.6.1.4--x", None, "1" * 70])
def test_refuses_what_is_not_a_version(text):
    with pytest.raises(VersionError):
        v(text)


def test_ranges():
    assert v("32.6.1.4") in parse_range("32.6.1.1 - 32.6.2.0")
    assert v("32.6.2.0") in parse_range("32.6.1.1 - 32.6.2.0")
    assert v("32.6.2.0-patch1-1") not in parse_range("32.6.1.1 - 32.6.2.0")
    assert v("32.6.1.4") in parse_range(">=32.5, <32.6.3.1")
    assert v("32.6.3.1") not in parse_range(">=32.5, <32.6.3.1")
    assert v("32.4.9.9") not in parse_range(">=32.5, <32.6.3.1")
    assert v("32.6.1.4") in parse_range("32.6.1.4")
    assert v("32.6.1.4-patch1-5") not in parse_range("32.6.1.4")
    assert v("1.0") in parse_range("*")
    assert v("32.6.10.0") in parse_range(">32.6.9.0")


@pytest.mark.parametrize("text", ["", "32.6 - 32.5", ">=32.6, >=32.7", "<32.5, >32.6", "=32.6, <33", "~32.6", ">32.6, <32.6"])
def test_refuses_bad_ranges(text):
    with pytest.raises(VersionError):
        parse_range(text)


def test_a_fix_reaches_later_releases_of_its_train_and_newer_trains():
    fixes = [v("32.6.3.1"), v("33.1.1.5")]
    assert not is_fixed(v("32.6.1.4"), fixes)
    assert is_fixed(v("32.6.3.1"), fixes)
    assert is_fixed(v("32.6.10.0"), fixes)
    assert not is_fixed(v("33.1.1.4"), fixes)  # its own train has the fix later
    assert is_fixed(v("33.2.1.0"), fixes)
    assert not is_fixed(v("32.6.1.4"), [])


def test_affected_means_in_range_and_not_yet_fixed():
    ranges = [parse_range("<33.1.1.5")]
    fixes = [v("32.6.3.1"), v("33.1.1.5")]
    assert is_affected(v("32.6.1.4"), ranges, fixes)
    assert not is_affected(v("32.6.5.0"), ranges, fixes)
    assert not is_affected(v("33.2.1.0"), ranges, fixes)


def test_first_fix_prefers_the_systems_own_train():
    fixes = [v("33.1.1.5"), v("32.6.3.1"), v("32.6.5.0")]
    assert first_fix_after(v("32.6.1.4"), fixes) == v("32.6.3.1")
    assert first_fix_after(v("32.2.1.0"), fixes) == v("32.6.3.1")
    assert first_fix_after(v("33.1.1.0"), fixes) == v("33.1.1.5")
    assert first_fix_after(v("34.1.1.0"), fixes) is None


components = st.lists(st.integers(min_value=0, max_value=999), min_size=1, max_size=5)
patches = st.one_of(st.none(), st.tuples(st.integers(1, 20), st.integers(1, 99)))


def render(core, patch):
    text = ".".join(map(str, core))
    return text if patch is None else f"{text}-patch{patch[0]}-{patch[1]}"


def trimmed(core):
    core = list(core)
    while len(core) > 1 and core[-1] == 0:
        core.pop()
    return tuple(core)


@given(components, patches, components, patches)
def test_order_matches_numeric_tuples(a, pa, b, pb):
    left, right = v(render(a, pa)), v(render(b, pb))
    # a patch sorts after its base, then by patch number and build number
    key_a = (trimmed(a), pa is not None, pa or (0, 0))
    key_b = (trimmed(b), pb is not None, pb or (0, 0))
    assert (left < right) == (key_a < key_b)
    assert (left == right) == (key_a == key_b)
