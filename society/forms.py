"""Forms of the society site: sign-in rules and institution settings (input shape only).

Every form applies the one input policy (society.inputs.InputPolicyMixin)."""

from __future__ import annotations

import re

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import RequestLoginCodeForm as AllauthRequestLoginCodeForm
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import notifications
from .inputs import InputPolicyMixin, input_policy_apply
from .models import GroupApplication, Institution, default_saml_attributes, validate_group_slug
from .selectors import institution_requiring_sso_for
from .timezones import zone_is_valid, zone_names


def _refuse_if_sso_required(email: str) -> None:
    institution = institution_requiring_sso_for(email=email)
    if institution is not None:
        raise ValidationError(
            _(
                "%(name)s requires its own sign-in for this address. Choose %(name)s under "
                "“Sign in with your institution”."
            ),
            params={"name": institution.name},
            code="sso_required",
        )


class LoginForm(InputPolicyMixin, AllauthLoginForm):
    """Password sign-in (administrators, demo accounts), refused where SSO is required."""

    def clean(self):
        # The cleaned address: the raw one may hold anything (a NUL would reach PostgreSQL).
        login = self.cleaned_data.get("login") or ""
        if login:
            _refuse_if_sso_required(login)
        return super().clean()


class RequestLoginCodeForm(InputPolicyMixin, AllauthRequestLoginCodeForm):
    """E-mail code sign-in, for members whose institution has no SSO (or does not require it)."""

    def clean_email(self) -> str:
        email = self.cleaned_data.get("email") or ""
        if email:
            _refuse_if_sso_required(email)
        return super().clean_email()


class DiscoverForm(InputPolicyMixin, forms.Form):
    email = forms.EmailField(label=_("Your institutional e-mail address"), max_length=254)


DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _domains(value: str) -> list[str]:
    """The e-mail domains typed, lower-cased; ValidationError naming any that is not one."""
    domains = sorted(
        {d.strip().lower().lstrip("@").rstrip(".") for d in value.replace(",", " ").split() if d}
    )
    bad = [d for d in domains if not DOMAIN.match(d)]
    if bad:
        raise ValidationError(
            _("Not e-mail domains: %(bad)s. Write them like northfield.edu, without @ or https://.")
            % {"bad": ", ".join(bad)}
        )
    return domains


def _saml_attribute_field(label: str, default: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=500,
        required=False,
        help_text=_(
            "SAML attribute names, separated by spaces or commas; the first one the institution "
            "sends is used. Default: %(default)s."
        )
        % {"default": default},
    )


# Institution.saml_attributes (allauth's attribute_mapping; society.adapters reads its keys):
# each key's form field. SAML sign-in needs the first two.
SAML_ATTRIBUTE_FIELDS = {
    "uid": "saml_uid",
    "email": "saml_email",
    "first_name": "saml_first_name",
    "last_name": "saml_last_name",
    "display_name": "saml_display_name",
    "affiliation": "saml_affiliation",
}
SAML_REQUIRED = {"uid": _("stable identifier"), "email": _("e-mail address")}


class InstitutionForm(InputPolicyMixin, forms.ModelForm):
    email_domains_text = forms.CharField(
        label=_("E-mail domains"),
        help_text=_("Separated by spaces or commas, e.g. northfield.edu med.northfield.edu"),
        required=False,
    )
    oidc_issuer = forms.URLField(
        label=_("OpenID Connect issuer"),
        required=False,
        assume_scheme="https",
        help_text=_(
            "e.g. https://login.northfield.edu, exactly as its "
            "/.well-known/openid-configuration names it (checked when you save)"
        ),
    )
    oidc_client_secret = forms.CharField(
        label=_("OpenID Connect client secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current secret."),
    )
    saml_uid = _saml_attribute_field(
        _("Stable identifier attribute"), "eduPersonPrincipalName, then subject-id"
    )
    saml_email = _saml_attribute_field(_("E-mail address attribute"), "mail")
    saml_first_name = _saml_attribute_field(_("Given name attribute"), "givenName")
    saml_last_name = _saml_attribute_field(_("Family name attribute"), "sn")
    saml_display_name = _saml_attribute_field(_("Display name attribute"), "displayName")
    saml_affiliation = _saml_attribute_field(
        _("Affiliation attribute"), "eduPersonScopedAffiliation"
    )

    class Meta:
        model = Institution
        fields = [
            "name",
            "slug",
            "sign_in",
            "require_sso",
            "saml_metadata_xml",
            "oidc_issuer",
            "oidc_client_id",
        ]
        labels = {
            "name": _("Name"),
            "slug": _("Short name"),
            "sign_in": _("How its members sign in"),
            "require_sso": _("Require the institution's sign-in"),
            "saml_metadata_xml": _("SAML identity provider's metadata (XML)"),
            "oidc_client_id": _("OpenID Connect client ID"),
        }
        help_texts = {
            "slug": _("Used in sign-in URLs, e.g. northfield"),
            "saml_metadata_xml": _(
                "Paste the whole document: its entity ID, sign-in address and signing "
                "certificate are read from it."
            ),
            "oidc_client_id": _("The ID the institution's IT gave this site."),
        }
        widgets = {"saml_metadata_xml": forms.Textarea(attrs={"rows": 8})}

    field_order = [
        "name",
        "slug",
        "email_domains_text",
        "sign_in",
        "require_sso",
        "saml_metadata_xml",
        *SAML_ATTRIBUTE_FIELDS.values(),
        "oidc_issuer",
        "oidc_client_id",
        "oidc_client_secret",
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = True
        if self.instance.pk:
            self.initial["email_domains_text"] = " ".join(self.instance.email_domains)
        mapping = self._mapping_stored() or default_saml_attributes()
        for key, name in SAML_ATTRIBUTE_FIELDS.items():
            names = mapping.get(key) or []
            self.initial[name] = " ".join([names] if isinstance(names, str) else names)

    def _mapping_stored(self) -> dict:
        mapping = self.instance.saml_attributes
        return mapping if isinstance(mapping, dict) else {}

    def clean_email_domains_text(self) -> list[str]:
        return _domains(self.cleaned_data.get("email_domains_text", ""))

    def clean(self) -> dict:
        """Builds `saml_attributes` (the mapping allauth reads) from the attribute fields,
        keeping any other key the stored mapping has."""
        cleaned = super().clean()
        mapping = {
            k: v for k, v in self._mapping_stored().items() if k not in SAML_ATTRIBUTE_FIELDS
        }
        for key, name in SAML_ATTRIBUTE_FIELDS.items():
            if name in self.errors:
                continue
            names = re.split(r"[\s,]+", cleaned.get(name) or "")
            names = [n for n in names if n]
            if names:
                mapping[key] = names
            elif key in SAML_REQUIRED and cleaned.get("sign_in") == Institution.SignIn.SAML:
                self.add_error(
                    name,
                    _("SAML sign-in needs the attribute that carries the %(what)s.")
                    % {"what": SAML_REQUIRED[key]},
                )
        cleaned["saml_attributes"] = mapping
        return cleaned


def _email_list(value: str) -> list[str]:
    emails = [e for e in value.replace(",", " ").split() if e]
    validator = forms.EmailField(max_length=254)
    bad = []
    for email in emails:
        try:
            validator.clean(email)
        except ValidationError:
            bad.append(email)
    if bad:
        raise ValidationError(_("Not e-mail addresses: %(bad)s"), params={"bad": ", ".join(bad)})
    return emails


class ApplicationForm(InputPolicyMixin, forms.ModelForm):
    slug = forms.CharField(
        label=_("Address"),
        max_length=40,
        validators=[validate_group_slug],
        help_text=_("The group's web address: <address>.<society site>, e.g. k-club"),
    )
    founding_emails_text = forms.CharField(
        label=_("Founding members"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Their e-mail addresses, one per line, from any institution."),
    )
    point_person_emails_text = forms.CharField(
        label=_("Point-persons"),
        help_text=_("One or two of the founding members (you may name yourself)."),
    )

    class Meta:
        model = GroupApplication
        fields = ["name", "slug", "focus", "mission_draft", "meeting_rhythm", "why_these_peers"]
        widgets = {
            "mission_draft": forms.Textarea(attrs={"rows": 4}),
            "why_these_peers": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["founding_emails_text"] = "\n".join(self.instance.founding_emails)
            self.initial["point_person_emails_text"] = ", ".join(self.instance.point_person_emails)

    def clean_founding_emails_text(self) -> list[str]:
        return _email_list(self.cleaned_data["founding_emails_text"])

    def clean_point_person_emails_text(self) -> list[str]:
        return _email_list(self.cleaned_data["point_person_emails_text"])


class ReviewForm(InputPolicyMixin, forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("approve", _("Approve")),
            ("changes", _("Request changes")),
            ("reject", _("Reject")),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment to the applicant"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AccountForm(InputPolicyMixin, forms.Form):
    """The member's own name and time zone (their account page)."""

    full_name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        help_text=_("As other members see it, in your groups and in the directory."),
    )
    time_zone = forms.ChoiceField(
        label=_("Your time zone"),
        error_messages={"invalid_choice": _("Choose a time zone from the list.")},
        help_text=_(
            "Meeting times, polls and e-mails are shown in this zone, and the times you type "
            "are read in it."
        ),
    )

    def __init__(self, *args, current_zone: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        names = list(zone_names())
        # A member whose stored zone is an old alias ("Asia/Calcutta") keeps it until they
        # choose another: the list offers it too, so saving their name changes nothing else.
        choices = [(name, name.replace("_", " ")) for name in names]
        if zone_is_valid(current_zone) and current_zone not in names:
            label = _("%(zone)s (an old name: choose the current one)")
            choices.append((current_zone, label % {"zone": current_zone.replace("_", " ")}))
        self.fields["time_zone"].choices = choices


class EmailChoicesForm(InputPolicyMixin, forms.Form):
    """What reminder e-mail the member gets, per kind, and their quiet hours (account page)."""

    DELIVERY_LABELS = (
        (notifications.NOW, _("E-mail now")),
        (notifications.DIGEST, _("Daily digest")),
        (notifications.OFF, _("Off")),
    )

    quiet_from = forms.TimeField(
        label=_("Quiet from"),
        required=False,
        error_messages={"invalid": _("Give a time like 22:00.")},
    )
    quiet_until = forms.TimeField(
        label=_("until"),
        required=False,
        error_messages={"invalid": _("Give a time like 07:00.")},
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offered = notifications.choices_for(user)
        self.offers_group_kinds = any(c.key != "society_admin" for c in self.offered)
        for choice in self.offered:
            self.fields[f"choice_{choice.key}"] = forms.ChoiceField(
                label=choice.label,
                help_text=choice.help,
                choices=self.DELIVERY_LABELS,
                error_messages={
                    "required": _("Choose now, daily digest or off."),
                    "invalid_choice": _("Choose now, daily digest or off."),
                },
            )
        input_policy_apply(
            {f"choice_{c.key}": self.fields[f"choice_{c.key}"] for c in self.offered}
        )

    def choice_fields(self) -> list[forms.BoundField]:
        return [self[f"choice_{choice.key}"] for choice in self.offered]

    def clean(self) -> dict:
        data = super().clean()
        if "quiet_from" in self.errors or "quiet_until" in self.errors:
            return data  # a time we could not read: that message says it
        if (data.get("quiet_from") is None) != (data.get("quiet_until") is None):
            self.add_error(
                "quiet_until", _("Give both the start and the end of your quiet hours, or neither.")
            )
        elif data.get("quiet_from") is not None and data["quiet_from"] == data["quiet_until"]:
            self.add_error(
                "quiet_until", _("Quiet hours must end at another time than they begin.")
            )
        return data

    def choices(self) -> dict[str, str]:
        return {choice.key: self.cleaned_data[f"choice_{choice.key}"] for choice in self.offered}
