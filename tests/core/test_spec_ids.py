"""spec.ids: the item ids pytest and ``featureprobe check`` both print."""

from __future__ import annotations

from pytest_featureprobe.spec import ids as ids_module


def test_a_name_is_folded_to_what_k_parses():
    assert ids_module.pytest_id("P(Gentoo) high") == "P-Gentoo-high"
    assert ids_module.pytest_id("alone 4_5 [x]: y/z") == "alone-4_5-x-y-z"
    assert ids_module.pytest_id("()") == "expect"


def test_a_long_name_is_cut_and_keeps_a_digest_of_the_whole():
    first = ids_module.pytest_id("a" * 300)
    second = ids_module.pytest_id("a" * 299 + "b")
    assert len(first) == ids_module.ID_WIDTH + 9 and first != second
    assert first.startswith("a" * ids_module.ID_WIDTH + "-")


def test_ids_are_numbered_in_one_pass(monkeypatch):
    lookups = []

    class CountingSet(set):
        def __contains__(self, value):
            lookups.append(value)
            return super().__contains__(value)

    monkeypatch.setattr(ids_module, "set", CountingSet, raising=False)
    ids = ids_module.item_ids(["same"] * 20_000 + ["same-3"])
    assert ids[:3] == ["same", "same-2", "same-3"] and ids[-2] == "same-20000"
    assert ids[-1] == "same-3-2" and len(set(ids)) == 20_001
    assert len(lookups) <= 3 * len(ids)  # a quadratic search would make about 2e8
