from __future__ import annotations

from zoneinfo import available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from society.inputs import BoundedIntegerField, InputPolicyMixin
from society.models import Institution

from .models import (
    IDENTITY_FIELDS,
    PROFILE_FIELDS,
    CareerStage,
    GoalSought,
    Method,
    Post,
    Profile,
    Subscription,
)

ZONES = sorted(available_timezones())


class ProfileForm(InputPolicyMixin, forms.ModelForm):
    methods = forms.MultipleChoiceField(
        choices=Method.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    goals_sought = forms.MultipleChoiceField(
        label=_("Goals you are working towards"),
        choices=GoalSought.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Profile
        fields = PROFILE_FIELDS
        widgets = {"interests": forms.Textarea(attrs={"rows": 3})}
        labels = {
            **IDENTITY_FIELDS,
            **{f"{name}_visibility": _("%(field)s: who sees it") % {"field": label}
               for name, label in IDENTITY_FIELDS.items()},
        }  # fmt: skip
        help_texts = {
            "hidden": _("Nobody else finds you by searching, browsing or in suggestions."),
            "interests": _("Topics, populations, questions: in your own words."),
        }


class SearchForm(InputPolicyMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    institution = forms.ModelChoiceField(
        queryset=Institution.objects.order_by("name"), required=False, empty_label=_("Any")
    )
    career_stage = forms.ChoiceField(choices=[("", _("Any")), *CareerStage.choices], required=False)
    methods = forms.MultipleChoiceField(
        choices=Method.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    goals = forms.MultipleChoiceField(
        label=_("Goals"),
        choices=GoalSought.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=[("", _("Any"))] + [(z, z) for z in ZONES], required=False
    )
    looking = forms.BooleanField(label=_("Looking for a group"), required=False)
    gender = forms.CharField(label=IDENTITY_FIELDS["gender"], required=False, max_length=100)
    race_ethnicity = forms.CharField(
        label=IDENTITY_FIELDS["race_ethnicity"], required=False, max_length=100
    )
    first_generation = forms.CharField(
        label=IDENTITY_FIELDS["first_generation"], required=False, max_length=100
    )
    family_structure = forms.CharField(
        label=IDENTITY_FIELDS["family_structure"], required=False, max_length=100
    )
    page = BoundedIntegerField(min_value=1, max_value=500, required=False, widget=forms.HiddenInput)


class PostForm(InputPolicyMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of post"),
        choices=[(v, label) for v, label in Post.Kind.choices if v != Post.Kind.REPLY],
    )
    title = forms.CharField(max_length=200)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}))


class ReplyForm(InputPolicyMixin, forms.Form):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 4}))


class DeliveryForm(InputPolicyMixin, forms.Form):
    delivery = forms.ChoiceField(
        label=_("E-mail me"), choices=Subscription.Delivery.choices, widget=forms.RadioSelect
    )


class ModerationForm(InputPolicyMixin, forms.Form):
    reason = forms.CharField(label=_("Reason (recorded)"), max_length=300)


class JoinRequestForm(InputPolicyMixin, forms.Form):
    message = forms.CharField(
        label=_("A few words to the group"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Who you are, what you hope the group will help with."),
    )
