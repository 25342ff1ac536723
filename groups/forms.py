from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from society.inputs import BoundedIntegerField, InputPolicyMixin, date_check, input_policy_apply
from society.models import PeerGroup

from .models import Achievement, Charter, Commitment, Goal, Membership, MissionReview
from .scheduling import zone_of


class InvitationForm(InputPolicyMixin, forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)  # as accounts store it
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial="member")


class RoleForm(InputPolicyMixin, forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class StageForm(InputPolicyMixin, forms.Form):
    stage = forms.ChoiceField(label=_("Stage"), choices=PeerGroup.Stage.choices)


class RedefineForm(InputPolicyMixin, forms.Form):
    mission = forms.CharField(
        label=_("The redefined mission"), widget=forms.Textarea(attrs={"rows": 4})
    )


# --- The group space ------------------------------------------------------------------------


def localise(value: datetime, user) -> datetime:
    """A naive date-time typed by `user` means their own wall-clock time."""
    return value.replace(tzinfo=zone_of(user))


class CharterForm(InputPolicyMixin, forms.ModelForm):
    class Meta:
        model = Charter
        fields = [
            "agenda_setter",
            "meeting_style",
            "work_between_meetings",
            "email_any_time",
            "pledge",
            "review_every_months",
        ]


class MissionReviewForm(InputPolicyMixin, forms.Form):
    outcome = forms.ChoiceField(choices=MissionReview.Outcome.choices, widget=forms.RadioSelect)
    new_text = forms.CharField(
        label=_("Revised mission (if revised)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MissionChangeForm(InputPolicyMixin, forms.Form):
    """A new mission version between the six-monthly reviews, with the reason for it."""

    text = forms.CharField(label=_("The new mission"), widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(
        label=_("Why change it now?"),
        max_length=200,
        help_text=_("Shown with the version, for the members who come later."),
    )


class GoalForm(InputPolicyMixin, forms.ModelForm):
    class Meta:
        model = Goal
        fields = ["text", "alignment", "status", "target_date"]
        widgets = {
            "alignment": forms.Textarea(attrs={"rows": 2}),
            "target_date": forms.DateInput(attrs={"type": "date"}),
        }


class PollForm(InputPolicyMixin, forms.Form):
    title = forms.CharField(max_length=200, initial=_("Monthly meeting"))
    duration_minutes = BoundedIntegerField(
        label=_("Length (minutes)"), min_value=15, max_value=240, initial=60
    )
    times = forms.CharField(
        label=_("Proposed times, one per line, in your time zone"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example 2027-03-09 16:00"),
    )

    def clean_times(self) -> list[datetime]:
        parsed, bad, far = [], [], []
        for line in self.cleaned_data["times"].splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                time = datetime.strptime(line, "%Y-%m-%d %H:%M")  # noqa: DTZ007
            except ValueError:
                bad.append(line)
                continue
            try:
                parsed.append(date_check(time, _("A time")))
            except forms.ValidationError:
                far.append(line)
        if bad:
            raise forms.ValidationError(
                _("Write times as YYYY-MM-DD HH:MM; these are not: %(bad)s"),
                params={"bad": "; ".join(bad)},
            )
        if far:
            raise forms.ValidationError(
                _(
                    "Propose times between 1 January 1900 and 31 December 2200; these are "
                    "not: %(far)s"
                ),
                params={"far": "; ".join(far)},
            )
        if not parsed:
            raise forms.ValidationError(_("Propose at least one time."))
        return parsed


class MeetingForm(InputPolicyMixin, forms.Form):
    title = forms.CharField(max_length=200)
    starts = forms.DateTimeField(
        label=_("Starts (your time zone)"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    duration_minutes = BoundedIntegerField(
        label=_("Length (minutes)"), min_value=15, max_value=480, initial=60
    )
    link = forms.URLField(label=_("Video link"), required=False, assume_scheme="https")
    place = forms.CharField(
        label=_("Place (for in-person meetings)"), max_length=200, required=False
    )


class MeetingEditForm(MeetingForm):
    """A meeting corrected: MeetingForm's fields, the note-taker (one of `participants`, as
    (user id, name) pairs) and one field per agenda item (`items`) for its text."""

    note_taker = forms.TypedChoiceField(label=_("Note-taker"), coerce=int, choices=[])

    def __init__(self, *args, items=(), participants=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note_taker"].choices = list(participants)
        added = {}
        for item in items:
            added[f"item_{item.pk}"] = forms.CharField(
                label=_("Agenda item %(n)s") % {"n": item.position},
                max_length=200,
                initial=item.title,
            )
        input_policy_apply(added)
        self.fields.update(added)
        self.item_names = list(added)

    def agenda(self) -> dict[int, str]:
        """The agenda items' new text by item pk (after is_valid)."""
        return {
            int(name.removeprefix("item_")): self.cleaned_data[name] for name in self.item_names
        }


class MemberRemoveForm(InputPolicyMixin, forms.Form):
    confirm = forms.BooleanField(label=_("Yes, remove this person from the group"))


class MeetingCancelForm(InputPolicyMixin, forms.Form):
    confirm = forms.BooleanField(label=_("Yes, cancel this meeting and tell the members"))


NOTES_MAX_LENGTH = 20_000  # an agenda item's notes: pages of them, never a pasted book


class MeetingNotesForm(InputPolicyMixin, forms.Form):
    """Every agenda item's notes and confidential mark, saved at once. `items` are the agenda
    as the meeting page has it (dicts with pk, title, text and confidential)."""

    def __init__(self, *args, items=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        added = {}
        for item in self.items:
            pk = item["pk"]
            added[f"notes_{pk}"] = forms.CharField(
                label=_("Notes on “%(title)s”") % {"title": item["title"]},
                required=False,
                max_length=NOTES_MAX_LENGTH,
                initial=item["text"],
                widget=forms.Textarea(attrs={"rows": 2, "id": f"notes-{pk}"}),
            )
            added[f"confidential_{pk}"] = forms.BooleanField(
                label=_("Confidential: leave it out of the minutes"),
                required=False,
                initial=item["confidential"],
                widget=forms.CheckboxInput(attrs={"id": f"conf-{pk}"}),
            )
        input_policy_apply(added)
        self.fields.update(added)

    def boxes(self) -> list[tuple[dict, forms.BoundField, forms.BoundField]]:
        """(item, its notes box, its confidential tick) in agenda order, for the template."""
        return [(i, self[f"notes_{i['pk']}"], self[f"confidential_{i['pk']}"]) for i in self.items]

    def notes(self) -> dict[int, tuple[str, bool]]:
        """(text, confidential) by item pk (after is_valid), for the items whose box was sent:
        a box missing from the request (a page older than its agenda) leaves its notes alone."""
        return {
            i["pk"]: (
                self.cleaned_data[f"notes_{i['pk']}"],
                self.cleaned_data[f"confidential_{i['pk']}"],
            )
            for i in self.items
            if f"notes_{i['pk']}" in self.data
        }


class CommitmentForm(InputPolicyMixin, forms.Form):
    owner = BoundedIntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    text = forms.CharField(label=_("Action plan before the next meeting"), max_length=300)


class CommitmentReviewForm(InputPolicyMixin, forms.Form):
    outcome = forms.ChoiceField(
        choices=[(v, label) for v, label in Commitment.Outcome.choices if v != "open"]
    )


class ConfidentialForm(InputPolicyMixin, forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    peers_only = forms.BooleanField(
        required=False, label=_("Peers only (hidden from the facilitator)")
    )


class ReplyForm(InputPolicyMixin, forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class AchievementForm(InputPolicyMixin, forms.ModelForm):
    achieved_on = forms.DateField(
        label=_("Date"),
        required=False,
        help_text=_("Leave it empty for today."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Achievement
        fields = ["kind", "text", "achieved_on", "shareable"]


class SeatsForm(InputPolicyMixin, forms.Form):
    seats = BoundedIntegerField(label=_("Open seats"), min_value=0, max_value=12)
