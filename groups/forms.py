from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from society.models import PeerGroup

from .models import Achievement, Charter, Commitment, Goal, Membership, MissionReview
from .scheduling import zone_of


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial="member")


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"), choices=PeerGroup.Stage.choices)


class RedefineForm(forms.Form):
    mission = forms.CharField(
        label=_("The redefined mission"), widget=forms.Textarea(attrs={"rows": 4})
    )


# --- The group space ------------------------------------------------------------------------


def localise(value: datetime, user) -> datetime:
    """A naive date-time typed by `user` means their own wall-clock time."""
    return value.replace(tzinfo=zone_of(user))


class CharterForm(forms.ModelForm):
    class Meta:
        model = Charter
        fields = [
            "agenda_setter",
            "meeting_style",
            "work_between_meetings",
            "email_any_time",
            "pledge",
        ]


class MissionReviewForm(forms.Form):
    outcome = forms.ChoiceField(choices=MissionReview.Outcome.choices, widget=forms.RadioSelect)
    new_text = forms.CharField(
        label=_("Revised mission (if revised)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class GoalForm(forms.ModelForm):
    class Meta:
        model = Goal
        fields = ["text", "alignment", "status", "target_date"]
        widgets = {
            "alignment": forms.Textarea(attrs={"rows": 2}),
            "target_date": forms.DateInput(attrs={"type": "date"}),
        }


class PollForm(forms.Form):
    title = forms.CharField(max_length=200, initial=_("Monthly meeting"))
    duration_minutes = forms.IntegerField(
        label=_("Length (minutes)"), min_value=15, max_value=240, initial=60
    )
    times = forms.CharField(
        label=_("Proposed times, one per line, in your time zone"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example 2027-03-09 16:00"),
    )

    def clean_times(self) -> list[datetime]:
        parsed, bad = [], []
        for line in self.cleaned_data["times"].splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                parsed.append(datetime.strptime(line, "%Y-%m-%d %H:%M"))  # noqa: DTZ007
            except ValueError:
                bad.append(line)
        if bad:
            raise forms.ValidationError(
                _("Write times as YYYY-MM-DD HH:MM; these are not: %(bad)s"),
                params={"bad": "; ".join(bad)},
            )
        if not parsed:
            raise forms.ValidationError(_("Propose at least one time."))
        return parsed


class MeetingForm(forms.Form):
    title = forms.CharField(max_length=200)
    starts = forms.DateTimeField(
        label=_("Starts (your time zone)"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    duration_minutes = forms.IntegerField(
        label=_("Length (minutes)"), min_value=15, max_value=480, initial=60
    )
    link = forms.URLField(label=_("Video link"), required=False, assume_scheme="https")
    place = forms.CharField(
        label=_("Place (for in-person meetings)"), max_length=200, required=False
    )


class NotesForm(forms.Form):
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    confidential = forms.BooleanField(
        required=False, label=_("Confidential: leave it out of the minutes")
    )


class CommitmentForm(forms.Form):
    owner = forms.IntegerField(widget=forms.HiddenInput)
    text = forms.CharField(label=_("Action plan before the next meeting"), max_length=300)


class CommitmentReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[(v, label) for v, label in Commitment.Outcome.choices if v != "open"]
    )


class ConfidentialForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    peers_only = forms.BooleanField(
        required=False, label=_("Peers only (hidden from the facilitator)")
    )


class ReplyForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class AchievementForm(forms.ModelForm):
    class Meta:
        model = Achievement
        fields = ["kind", "text", "achieved_on", "shareable"]
        widgets = {"achieved_on": forms.DateInput(attrs={"type": "date"})}


class SeatsForm(forms.Form):
    seats = forms.IntegerField(label=_("Open seats"), min_value=0, max_value=12)
