from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Membership


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial="member")


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class StageForm(forms.Form):
    from society.models import PeerGroup

    stage = forms.ChoiceField(label=_("Stage"), choices=PeerGroup.Stage.choices)


class RedefineForm(forms.Form):
    mission = forms.CharField(
        label=_("The redefined mission"), widget=forms.Textarea(attrs={"rows": 4})
    )
