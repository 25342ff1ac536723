"""The mission changed between six-monthly reviews: who, when and why, without a new stage."""

from __future__ import annotations

from django.utils import timezone
from django_tenants.utils import tenant_context

from groups.models import Mission
from groups.services.mission import mission_adopt
from society.models import PeerGroup


def _versions(world) -> list[tuple]:
    with tenant_context(world.alpha):
        return list(Mission.objects.values_list("version", "text", "adopted_by_id", "note"))


def test_a_point_person_changes_the_mission_saying_why_and_the_stage_stays(db, world, client_for):
    with tenant_context(world.alpha):
        mission_adopt(text="Each of us submits a K award.", actor=world.alice)
    PeerGroup.objects.filter(pk=world.alpha.pk).update(stage=PeerGroup.Stage.CULTIVATION)
    lead = client_for(world.alice, world.alpha)
    changed = lead.post(
        "/mission/change/",
        {"text": "Each of us submits a K award or an R01.", "reason": "Two of us are past K age."},
    )
    assert changed.status_code == 302
    assert _versions(world) == [
        (2, "Each of us submits a K award or an R01.", world.alice.pk, "Two of us are past K age."),
        (1, "Each of us submits a K award.", world.alice.pk, ""),
    ]
    assert PeerGroup.objects.get(pk=world.alpha.pk).stage == "cultivation"  # not redefinition
    page = client_for(world.bob, world.alpha).get("/mission/").text
    today = timezone.localdate().strftime("%-d %b %Y")
    assert f"Version 2, adopted {today} by Alice Tester. Why: Two of us are past K age." in page
    assert f"Version 1, adopted {today} by Alice Tester</small>" in page
    assert "Change the mission now" not in page  # Bob has no such form


def test_no_change_without_a_reason_and_the_typed_text_is_kept(db, world, client_for):
    with tenant_context(world.alpha):
        mission_adopt(text="Each of us submits a K award.", actor=world.alice)
    lead = client_for(world.alice, world.alpha)
    refused = lead.post("/mission/change/", {"text": "A sharper mission.", "reason": "  "})
    assert refused.status_code == 400
    assert "This field is required." in refused.text
    assert "A sharper mission.</textarea>" in refused.text
    same = lead.post(
        "/mission/change/", {"text": "Each of us submits a K award.", "reason": "Tidy"}
    )
    assert same.status_code == 400
    assert "That is the mission already in force: change it." in same.text
    assert [v[0] for v in _versions(world)] == [1]


def test_only_point_persons_change_it_and_other_groups_learn_nothing(db, world, client_for):
    data = {"text": "Taken over.", "reason": "Because."}
    for person in (world.bob, world.carol, world.erin):
        assert client_for(person, world.alpha).post("/mission/change/", data).status_code == 403
    outsider = client_for(world.mallory, world.alpha).post("/mission/change/", data)
    assert outsider.status_code == 404 and "Alpha Peer Group" not in outsider.text
    assert _versions(world) == []
